"""Property: whatever the delivery, the ledger ends as applying each message once in time order.

Hypothesis generates message sequences over two records, two connectors of one workspace and a
third connector of another tenant (links, unlinks, revocations; equal and distinct
``occurred_at``; duplicates; idempotency keys reused by other connectors and by other messages
of the same connector; links too old to accept; poison messages whose statement fails), then
delivers them as a standard queue would: in a random order, in random batches, each message
again after it is reported failed, until its fifth receive sends it to the dead letters. The
real sync handler writes on PostgreSQL; the sweeper runs at a random point and at the end.

The model applies each message once, sorted by ``occurred_at`` (a removal after a link of the
same instant): a link adds a live row per record unless its connector was revoked before it
(then it is refused); an unlink removes the live rows of its key; a revocation removes every
row of its connector. Checked after every run:

- the rows reads show (live, connector not revoked) are the model's, before and after the
  sweep; after it, the physically live rows are too;
- every message refused (a link after its connector's revocation, a stale link, another
  message reusing a key of its connector, a poison) is reported failed at every delivery and
  dead-lettered; nothing else is.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support.api import Lambda
from wellapi.handlers.sync import sync_handler
from wellapi.sync import batches as writer
from wellapi.sync.messages import parse_message
from welldev.database import LocalDatabase

handler = sync_handler()
MAX_RECEIVES = 5  # the queue's maxReceiveCount
EXAMPLES = int(os.environ.get("WELLAPI_PROPERTY_EXAMPLES", "60"))
POISON_RUN = "poison"


@dataclass(frozen=True)
class Msg:
    """A generated message, before it is given real ids."""

    kind: str  # link, unlink, revoke
    connector: int  # 0 and 1: this tenant; 2: another tenant's
    records: tuple[int, ...]
    direction: str
    minute: int  # occurred_at, in minutes after the base; -100_000: older than accepted
    key: str
    poison: bool = False

    @property
    def rank(self) -> int:
        return {"link": 0, "unlink": 1, "revoke": 2}[self.kind]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Msg], list[int], list[int], int]:
    """Messages, a delivery order (indexes, duplicates included), batch sizes, sweep point."""
    count = draw(st.integers(1, 9))
    messages: list[Msg] = []
    for index in range(count):
        kind = draw(st.sampled_from(["link", "link", "unlink", "revoke"]))
        connector = draw(st.sampled_from([0, 0, 1, 2]))
        records = tuple(sorted(draw(st.sets(st.integers(0, 1), min_size=1))))
        minute = draw(st.integers(0, 3))
        if kind == "link" and draw(st.integers(0, 19)) == 0:
            minute = -100_000
        key = f"k{index}"
        if messages and draw(st.booleans()):
            # Reuse an earlier key: by another connector (its own key), or by another message.
            key = draw(st.sampled_from(messages)).key
        # Only links and unlinks carry a sync run, which marks the poison.
        poison = kind != "revoke" and draw(st.integers(0, 14)) == 0
        direction = draw(st.sampled_from(["input", "output"]))
        messages.append(Msg(kind, connector, records, direction, minute, key, poison))
    duplicates = draw(st.lists(st.integers(0, count - 1), max_size=4))
    order = draw(st.permutations(list(range(count)) + duplicates))
    batches = draw(st.lists(st.integers(1, 4), min_size=1, max_size=len(order)))
    sweep_after = draw(st.integers(0, len(batches)))
    return messages, order, batches, sweep_after


@dataclass
class World:
    tenant: f.Tenant
    connectors: list[tuple[int, UUID]]
    records: list[list[tuple[int, UUID]]]  # per connector: the records of its workspace
    base: datetime


def world(admin: Connection) -> World:
    tenant = f.tenant(admin)
    other = f.tenant(admin)
    second = tenant.workspace_connector()
    ours = s.records(admin, tenant, "account", 2)
    theirs = s.records(admin, other, "account", 2)
    connectors = [
        (tenant.workspace_connector_pk, tenant.workspace_connector_id),
        second,
        (other.workspace_connector_pk, other.workspace_connector_id),
    ]
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return World(tenant, connectors, [ours, ours, theirs], base)


def body(m: Msg, w: World) -> dict[str, Any]:
    connector_id = w.connectors[m.connector][1]
    occurred = (w.base + timedelta(minutes=m.minute)).isoformat()
    if m.kind == "revoke":
        return s.revoked(connector_id, idempotency_key=m.key, occurred_at=occurred)
    ids = [w.records[m.connector][r][1] for r in m.records]
    build = s.linked if m.kind == "link" else s.unlinked
    return build(
        connector_id,
        ids,
        direction=m.direction,
        idempotency_key=m.key,
        occurred_at=occurred,
        sync_run_id=POISON_RUN if m.poison else "run-1",
    )


def winners(messages: list[Msg], admin: Connection, w: World) -> dict[int, int]:
    """For each message whose (connector, key) receipt holds its own fingerprint, the first
    message saying the same (two generated messages may say exactly the same)."""
    held: dict[int, int] = {}
    first: dict[tuple[int, str, bytes], int] = {}
    for index, m in enumerate(messages):
        printed = writer.fingerprint(parse_message(json.dumps(body(m, w))))
        rows = admin.run(
            "SELECT fingerprint FROM core_api.sync_receipts "
            "WHERE workspace_connector_pk = :c AND idempotency_key = :k",
            c=w.connectors[m.connector][0],
            k=m.key,
        )
        if rows and bytes(rows[0][0]) == printed:
            held[index] = first.setdefault((m.connector, m.key, printed), index)
    return held


def model(messages: list[Msg], applied: set[int], w: World) -> Counter[tuple[int, int, str]]:
    """The live rows left by applying ``applied`` once each in time order."""
    live: Counter[tuple[int, int, str]] = Counter()
    revoked: dict[int, int] = {}
    for index in sorted(applied, key=lambda i: (messages[i].minute, messages[i].rank)):
        m = messages[index]
        pk = w.connectors[m.connector][0]
        if m.kind == "link":
            for r in m.records:
                live[(w.records[m.connector][r][0], pk, m.direction)] += 1
        elif m.kind == "unlink":
            for r in m.records:
                live.pop((w.records[m.connector][r][0], pk, m.direction), None)
        else:
            revoked.setdefault(pk, m.minute)
            for row in [row for row in live if row[1] == pk]:
                del live[row]
    return live


def always_refused(messages: list[Msg], index: int, held: dict[int, int]) -> bool:
    """Refused at every delivery: a poison, a stale link, or a message whose key another
    message of its connector holds."""
    m = messages[index]
    return m.poison or m.minute < 0 or index not in held


def after_revocation(messages: list[Msg], index: int, held: dict[int, int]) -> bool:
    """A link later than its connector's earliest revocation: refused when it arrives after
    the revocation, applied and then removed with the connector's rows when it arrives before."""
    m = messages[index]
    revocations = [
        o.minute
        for i, o in enumerate(messages)
        if o.kind == "revoke" and o.connector == m.connector and held.get(i) == i
    ]
    return m.kind == "link" and bool(revocations) and min(revocations) < m.minute


def rows(admin: Connection, w: World, *, visible: bool) -> Counter[tuple[int, int, str]]:
    hidden = (
        "AND NOT EXISTS (SELECT 1 FROM core_api.connector_revocations r "
        "WHERE r.workspace_connector_pk = l.workspace_connector_pk)"
        if visible
        else ""
    )
    found = admin.run(
        "SELECT account_pk, workspace_connector_pk, direction::text "
        "FROM core_api.account_workspace_connectors l "
        f"WHERE workspace_connector_pk = ANY(:c) AND deleted_at IS NULL {hidden}",
        c=[pk for pk, _ in w.connectors],
    )
    return Counter((int(a), int(c), str(d)) for a, c, d in found)


@pytest.fixture
def poison_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message of the sync run ``poison`` fails in the database, in any batch it is in."""
    original = writer.statement

    def statement(planned: writer.Planned) -> str:
        sql = original(planned)
        if writer.sync_run_of(planned.message) == POISON_RUN:
            return sql.replace("SELECT (SELECT verdict", "SELECT 1 / 0 AS boom, (SELECT verdict", 1)
        return sql

    monkeypatch.setattr(writer, "statement", statement)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_any_delivery_of_any_messages_ends_as_applying_them_once_in_time_order(
    api_database: LocalDatabase,
    admin: Connection,
    poison_statements: None,
    scenario: tuple[list[Msg], list[int], list[int], int],
) -> None:
    messages, order, sizes, sweep_after = scenario
    note(f"messages {messages}\norder {order}, batch sizes {sizes}, sweep after {sweep_after}")
    w = world(admin)
    # A key is the connector's own: give each connector's keys a prefix of its run, so that
    # examples never share receipts, and keys reused across connectors stay equal.
    prefix = f"{w.tenant.workspace_pk}/"
    messages = [replace(m, key=prefix + m.key) for m in messages]
    bodies = [body(m, w) for m in messages]
    receives: Counter[int] = Counter()
    failures: Counter[int] = Counter()
    dead: set[int] = set()
    queue = list(order)
    batch_number = 0
    while queue:
        size = sizes[batch_number % len(sizes)]
        batch, queue = queue[:size], queue[size:]
        event = sqs.event(*(bodies[i] for i in batch))
        failed = set(sqs.failed_ids(handler(event, Lambda(remaining_ms=120_000))))
        for index, message_id in zip(batch, sqs.message_ids(event), strict=True):
            receives[index] += 1
            if message_id in failed:
                failures[index] += 1
                if receives[index] < MAX_RECEIVES:
                    queue.append(index)  # visible again after the visibility timeout
                else:
                    dead.add(index)
        batch_number += 1
        if batch_number == sweep_after:
            s.sweep(rows=1)

    held = winners(messages, admin, w)
    refused = {i for i in set(order) if always_refused(messages, i, held)}
    late = {i for i in set(order) - refused if after_revocation(messages, i, held)}
    applied = {held[i] for i in set(order) - refused - late}
    # A key is its connector's own: a message no other message of its connector contradicts
    # (same key, other body) is applied, unless it is poison, stale or after a revocation.
    bodies_of_key: dict[tuple[int, str], set[str]] = {}
    for m, b in zip(messages, bodies, strict=True):
        bodies_of_key.setdefault((m.connector, m.key), set()).add(json.dumps(b, sort_keys=True))
    for i in set(order):
        m = messages[i]
        contradicted = len(bodies_of_key[(m.connector, m.key)]) > 1
        if not (contradicted or m.poison or m.minute < 0 or after_revocation(messages, i, held)):
            assert i in held, f"message {i} was never applied"
    expected = model(messages, applied, w)
    assert rows(admin, w, visible=True) == expected
    assert refused <= dead <= refused | late
    assert all(failures[i] == receives[i] for i in refused)
    s.sweep()
    assert rows(admin, w, visible=False) == expected
