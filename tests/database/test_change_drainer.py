"""The EventBridge drainer (wellapi.sync.drainer, docs/changes.md "Events"): every change record
is published, in commit order per workspace and up to ten of a workspace a call, with a stable
event id, and marked sent.

Against moto's EventBridge (a rule on the bus that delivers to an SQS queue, which the test
reads as a consumer would): the events the drainer emits validate against the published JSON
Schema, carry what the record says, a crash between the send and the mark sends the same
events again, never loses one, and one workspace's records take a call per ten. Against a
client that fails as told: a call holds several records of a workspace in order, within
256 KB; an entry refused among them is sent again alone, the others marked; one refused at
every send stops its workspace until the next run. And as a hypothesis property, over random
records, partial failures, failed calls and crashes between send and mark: no record is lost,
none is marked sent unless EventBridge accepted it nor sent again once marked, each
workspace's records are first sent in commit order, a record is accepted before an earlier one
of its workspace only in a call that refused that one, and a consumer that applies by
``sequence`` ends with every row as committed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from random import Random
from typing import Any, NamedTuple
from uuid import UUID

import boto3
import jsonschema_rs
import pg8000.dbapi
import pg8000.native
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support import writes as w
from tests.support.api import Lambda
from tests.support.tenancy import settled
from wellapi.handlers import drain as drain_handler
from wellapi.handlers import operator
from wellapi.handlers.sync import sync_handler
from wellapi.resources.feed import OPERATOR_PAIRS
from wellapi.roles import DRAIN_ROLE
from wellapi.store import connections as db
from wellapi.store.sql import fixed
from wellapi.sync import drainer
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "schemas" / "change-event.schema.json").read_text())
REGION = "eu-west-1"
BUS = "well-changes"


@pytest.fixture
def pool(database: local_db.LocalDatabase) -> Iterator[db.Pool]:
    """The drainer's own connection, as its role."""
    url = database.url_for(DRAIN_ROLE)
    drain_pool = db.build_pool(db.replace_settings(db.settings_for("api"), database_url=url))
    yield drain_pool
    drain_pool.dispose()


def all_sent(admin: pg8000.native.Connection) -> None:
    """What other tests of this database recorded is not this test's to send."""
    admin.run("UPDATE core_api.change_records SET sent_at = now() WHERE sent_at IS NULL")


def insert_records(
    admin: pg8000.native.Connection,
    workspace_pk: int,
    count: int,
    *,
    row: str | None = None,
    change: str = "linked",
) -> list[int]:
    """``count`` records of a workspace, each in its own transaction (its own xid), each about
    a new row, or about ``row``."""
    pks = []
    for n in range(count):
        rows = admin.run(
            "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
            "detail, occurred_at, actor_kind, sync_run_id, message_key) VALUES (:w, "
            "'account_workspace_connector', :c, ARRAY[coalesce(CAST(:r AS uuid), "
            "gen_random_uuid())], '{}'::jsonb, now(), 'sync', 'run-1', :k) RETURNING pk",
            w=workspace_pk,
            c=change,
            r=row,
            k=f"key-{n}",
        )
        pks.append(int(rows[0][0]))
    return pks


def unsent(admin: pg8000.native.Connection, pks: list[int]) -> list[int]:
    rows = admin.run(
        "SELECT pk FROM core_api.change_records WHERE pk = ANY(:p) AND sent_at IS NULL ORDER BY pk",
        p=pks,
    )
    return [int(r[0]) for r in rows]


# ---- against moto's EventBridge ----------------------------------------------------------------


class Consumer:
    """A queue that a rule of the bus delivers every change event to."""

    def __init__(self) -> None:
        self.events = boto3.client("events", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        bus_arn = self.events.create_event_bus(Name=BUS)["EventBusArn"]
        self.url = self.sqs.create_queue(QueueName="changes")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.events.put_rule(
            Name="all-changes",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": [drainer.SOURCE]}),
        )
        self.events.put_targets(
            Rule="all-changes", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}]
        )
        self.bus_arn = bus_arn

    def received(self) -> list[dict[str, Any]]:
        found = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Consumer]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield Consumer()


def forever() -> int:
    return 1 << 40


def test_every_event_the_drainer_emits_validates_against_the_published_schema(
    admin, pool, consumer
):
    """Every kind of write: each resource's create and delete through the API, a sync link of
    1,500 records (two events, one of 1,000 ids and record ids), its unlink, a revocation, and
    every action of the operator."""
    all_sent(admin)
    operated = operator_actions()
    for resource in w.ALL:
        arranged, row_id = w.arrange_row(admin, resource)
        assert w.delete(resource, arranged.claims, row_id).status == 204
        created = w.arrange_create(admin, resource)
        w.created(w.post(resource, created.claims, created.document))
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", 1500)]
    sync = sync_handler()
    for body in (
        s.linked(t.workspace_connector_id, accounts, sync_run_id="run-1500"),
        s.unlinked(t.workspace_connector_id, accounts[:10], occurred_at=s.at(1)),
        s.revoked(t.workspace_connector_id, occurred_at=s.at(2)),
    ):
        assert sqs.failed_ids(sync(sqs.event(body), Lambda(remaining_ms=120_000))) == []
    expected = int(
        admin.run("SELECT count(*) FROM core_api.change_records WHERE sent_at IS NULL")[0][0]
    )
    settled(admin)

    summary = drain_handler.drain_once(
        pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever
    )

    events = consumer.received()
    validator = jsonschema_rs.validator_for(SCHEMA)
    for event in events:
        validator.validate(event)
    assert summary["sent"] == len(events) == expected
    kinds = {(e["detail"]["resource_type"], e["detail"]["change"]) for e in events}
    assert ("workspace_connector", "revoked") in kinds
    assert ("account_workspace_connector", "unlinked") in kinds
    assert set(OPERATOR_PAIRS) <= kinds
    assert {
        e["detail"]["actor_kind"] for e in events if e["detail"]["workspace_id"] == operated
    } == {"operator"}
    assert max(len(e["detail"]["ids"]) for e in events) == 1000
    assert admin.run("SELECT count(*) FROM core_api.change_records WHERE sent_at IS NULL") == [[0]]


def operator_actions() -> str:
    """Each action of the operator once, in a workspace it makes; its id."""
    workspace = str(
        operator.handle({"action": "make_workspace", "name": "Operated"}, None)["workspace_id"]
    )
    actions: list[dict[str, Any]] = [
        {"action": "add_person", "workspace_id": workspace, "full_name": "Ada"},
        {
            "action": "add_workspace_connector",
            "workspace_id": workspace,
            "connector_name": "Bank",
            "provider": "well",
        },
    ]
    person = operator.handle(actions[0], None)["person_id"]
    operator.handle(actions[1], None)
    issue = {"workspace_id": workspace, "person_id": person, "kind": "member", "name": "k"}
    issued = operator.handle({"action": "issue_key", **issue}, None)
    rotated = operator.handle({"action": "rotate_key", "key": issued["api_key_id"]}, None)
    operator.handle({"action": "revoke_key", "key": rotated["api_key_id"]}, None)
    # A membership made active again.
    operator.handle({**actions[0], "person_id": person, "role": "owner"}, None)
    return workspace


def test_an_event_says_what_its_record_says(admin, pool, consumer):
    all_sent(admin)
    t = f.tenant(admin)
    (pk,) = insert_records(admin, t.workspace_pk, 1)
    settled(admin)
    xid, ids, occurred, recorded = admin.run(
        "SELECT xid::text, ids::text[], occurred_at, recorded_at FROM core_api.change_records "
        "WHERE pk = :p",
        p=pk,
    )[0]

    drain_handler.drain_once(pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever)

    (event,) = consumer.received()
    assert event["source"] == "well.junctions"
    assert event["detail-type"] == "account_workspace_connector.linked"
    assert event["time"] == occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail = event["detail"]
    assert detail["event_id"] == f"{xid}-{pk}"
    assert detail["position"] == f"{int(xid):020d}-{pk:020d}"
    assert detail["workspace_id"] == str(t.workspace_id)
    assert detail["ids"] == ids
    assert detail["record_ids"] is None
    assert detail["actor_kind"] == "sync"
    assert detail["sync_run_id"] == "run-1"
    assert detail["message_key"] == "key-0"
    assert detail["recorded_at"].startswith(recorded.astimezone().strftime("%Y-%m-%d"))


def test_a_crash_between_send_and_mark_sends_the_same_events_again(
    admin, pool, consumer, monkeypatch
):
    all_sent(admin)
    t = f.tenant(admin)
    pks = insert_records(admin, t.workspace_pk, 4)
    settled(admin)

    class Crash(BaseException):
        """The function dies: nothing after the send runs, its connection goes."""

    def crash(pks: list[int], *, pool: db.Pool) -> None:
        pool.dispose()
        raise Crash

    monkeypatch.setattr(drainer, "mark", crash)
    with pytest.raises(Crash):
        drain_handler.drain_once(pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever)
    first = consumer.received()
    assert len(first) >= 1
    assert unsent(admin, pks) == pks  # sent, never marked

    monkeypatch.undo()
    drain_handler.drain_once(pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever)
    second = consumer.received()

    assert unsent(admin, pks) == []
    ids = [e["detail"]["event_id"] for e in first + second]
    assert {e["detail"]["event_id"] for e in first} <= {e["detail"]["event_id"] for e in second}
    deduplicated = list(dict.fromkeys(ids))
    assert [int(i.split("-")[1]) for i in deduplicated] == pks


def test_a_mark_the_database_refuses_marks_nothing_and_the_next_run_sends_again(
    admin, pool, consumer, monkeypatch
):
    all_sent(admin)
    t = f.tenant(admin)
    pks = insert_records(admin, t.workspace_pk, 2)
    settled(admin)
    monkeypatch.setattr(drainer, "mark_statements", lambda pks: [fixed("SELECT 1/0")])

    with pytest.raises(pg8000.dbapi.DatabaseError):
        drain_handler.drain_once(pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever)
    first = [e["detail"]["event_id"] for e in consumer.received()]
    assert unsent(admin, pks) == pks

    monkeypatch.undo()
    summary = drain_handler.drain_once(
        pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever
    )

    assert summary["sent"] == 2
    assert [e["detail"]["event_id"] for e in consumer.received()] == first
    assert unsent(admin, pks) == []


def test_a_second_drainer_finds_the_lock_taken_and_sends_nothing(admin, pool, database, consumer):
    all_sent(admin)
    t = f.tenant(admin)
    pks = insert_records(admin, t.workspace_pk, 2)
    settled(admin)
    holder = local_db.admin_connection(database.url_for(DRAIN_ROLE))
    try:
        holder.run("BEGIN")
        holder.run(f"SELECT pg_advisory_xact_lock({drainer.DRAIN_LOCK})")

        summary = drain_handler.drain_once(
            pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever
        )

        assert summary["busy"] is True
        assert summary["sent"] == 0
        assert consumer.received() == []
        assert unsent(admin, pks) == pks
    finally:
        holder.run("ROLLBACK")
        holder.close()


def test_a_record_of_a_transaction_still_open_is_not_sent_nor_passed(
    admin, pool, database, consumer
):
    all_sent(admin)
    t = f.tenant(admin)
    writer = local_db.admin_connection(database.admin_url)
    try:
        writer.run("BEGIN")
        early = insert_records(writer, t.workspace_pk, 1)  # takes the smaller xid, commits last
        late = insert_records(admin, t.workspace_pk, 1)

        drain_handler.drain_once(pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever)
        assert consumer.received() == []
        writer.run("COMMIT")
    finally:
        writer.close()
    settled(admin)

    drain_handler.drain_once(pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever)

    assert [int(e["detail"]["event_id"].split("-")[1]) for e in consumer.received()] == early + late


@pytest.mark.parametrize("per_workspace", [1, drainer.PER_WORKSPACE])
def test_one_workspaces_records_take_a_call_per_ten_records(admin, pool, consumer, per_workspace):
    """50 records of one workspace: 5 calls, where one record a call of a workspace takes 50."""
    all_sent(admin)
    t = f.tenant(admin)
    pks = insert_records(admin, t.workspace_pk, 50)
    settled(admin)

    report = drainer.drain(
        pool=pool,
        client=consumer.events,
        bus=BUS,
        time_left_ms=forever,
        per_workspace=per_workspace,
    )

    assert report.calls == 50 // per_workspace
    assert sorted(e["detail"]["sequence"] for e in consumer.received()) == pks
    assert unsent(admin, pks) == []


# ---- against a bus that fails as told ------------------------------------------------------------


class Crash(BaseException):
    """The drainer's function dies: nothing after this point runs, its connection goes."""


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it against its 256 KB a call."""
    return 14 + sum(len(entry[k].encode()) for k in ("Source", "DetailType", "Detail"))


class FailingBus:
    """An EventBridge that fails as the plan says, call after call. It keeps each call's
    entries (their records' pks, and whether it accepted each), their sizes and the drainer's
    run they were of (``run``, which the test sets), what it accepted in the order it accepted
    it (what consumers get), and the records sent again once their mark committed (``marked``,
    which ``crashing_mark`` keeps)."""

    def __init__(self, plan: list[tuple[str, int]] | None = None) -> None:
        self.plan = plan or []
        self.calls: list[list[tuple[int, bool]]] = []
        self.sizes: list[list[int]] = []
        self.run = 0
        self.runs: list[int] = []
        self.delivered: list[dict[str, Any]] = []
        self.marked: set[int] = set()
        self.sent_once_marked: list[int] = []
        self.crash_before_mark = False

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(self.calls)
        fault, seed = self.plan[n] if n < len(self.plan) else ("ok", 0)
        details = [json.loads(entry["Detail"]) for entry in Entries]
        accepted = [
            fault != "raise" and not (fault == "refuse" and (seed >> i) & 1)
            for i in range(len(details))
        ]
        self._keep(Entries, details, accepted)
        if fault == "raise":
            raise ConnectionError("EventBridge did not answer")
        self.delivered += [d for d, ok in zip(details, accepted, strict=True) if ok]
        self.crash_before_mark |= fault == "crash"
        answers = [{"EventId": f"e-{n}-{i}"} if ok else REFUSED for i, ok in enumerate(accepted)]
        return {"FailedEntryCount": accepted.count(False), "Entries": answers}

    def _keep(
        self, entries: list[dict[str, Any]], details: list[dict[str, Any]], accepted: list[bool]
    ) -> None:
        """What a call held, whatever its answer."""
        pks = [int(detail["sequence"]) for detail in details]
        self.calls.append(list(zip(pks, accepted, strict=True)))
        self.sizes.append([entry_size(entry) for entry in entries])
        self.runs.append(self.run)
        self.sent_once_marked += [pk for pk in pks if pk in self.marked]


REFUSED = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
REAL_MARK = drainer.mark


def crashing_mark(bus: FailingBus) -> Callable[..., None]:
    """The drainer's mark, which dies (its connection gone) after a call the plan says crashes,
    and tells ``bus`` what it committed."""

    def mark(pks: list[int], *, pool: db.Pool) -> None:
        if bus.crash_before_mark:
            bus.crash_before_mark = False
            pool.dispose()
            raise Crash
        REAL_MARK(pks, pool=pool)
        bus.marked.update(pks)

    return mark


def drain_into(bus: FailingBus, pool: db.Pool, **options: Any) -> drainer.DrainReport:
    return drainer.drain(pool=pool, client=bus, bus=BUS, time_left_ms=forever, **options)


def sent(bus: FailingBus) -> list[list[int]]:
    """Each call's records, in the call's order."""
    return [[pk for pk, _ in call] for call in bus.calls]


def test_a_call_holds_up_to_ten_records_of_one_workspace_in_commit_order(admin, pool, tenants):
    all_sent(admin)
    pks = insert_records(admin, tenants[0].workspace_pk, 25)
    settled(admin)
    bus = FailingBus()

    report = drain_into(bus, pool)

    assert sent(bus) == [pks[:10], pks[10:20], pks[20:]]
    assert (report.calls, report.sent, report.failed) == (3, 25, 0)
    assert unsent(admin, pks) == []


def test_per_workspace_bounds_the_records_of_a_workspace_a_call(admin, pool, tenants):
    """Two workspaces' records, interleaved: ten a call in commit order; two (one of each) a
    call at one record a workspace."""
    all_sent(admin)
    pks = [
        pk for _ in range(6) for t in tenants[:2] for pk in insert_records(admin, t.workspace_pk, 1)
    ]
    settled(admin)
    admin.run("UPDATE core_api.change_records SET sent_at = now() WHERE pk = ANY(:p)", p=pks)
    calls = {}
    for per_workspace in (drainer.PER_WORKSPACE, 1):
        admin.run("UPDATE core_api.change_records SET sent_at = NULL WHERE pk = ANY(:p)", p=pks)
        bus = FailingBus()
        drain_into(bus, pool, per_workspace=per_workspace)
        calls[per_workspace] = sent(bus)

    assert calls[drainer.PER_WORKSPACE] == [pks[:10], pks[10:]]
    assert calls[1] == [pks[n : n + 2] for n in range(0, 12, 2)]


def test_an_entry_refused_among_its_workspaces_is_sent_again_alone_and_the_others_are_marked(
    admin, pool, tenants
):
    all_sent(admin)
    pks = insert_records(admin, tenants[0].workspace_pk, 12)
    settled(admin)
    bus = FailingBus([("refuse", 0b100)])  # the third entry of the first call

    report = drain_into(bus, pool)

    assert bus.calls == [
        [(pk, pk != pks[2]) for pk in pks[:10]],
        [(pks[2], True)],
        [(pks[10], True), (pks[11], True)],
    ]
    assert [d["sequence"] for d in bus.delivered] == [*pks[:2], *pks[3:10], pks[2], *pks[10:]]
    assert (report.sent, report.failed, report.stopped) == (12, 1, set())
    assert report.errors == {"InternalFailure": 1}
    assert unsent(admin, pks) == []


def test_a_record_refused_at_every_send_stops_its_workspace_until_the_next_run(
    admin, pool, tenants
):
    """The others of its call are marked, its later records wait, other workspaces go on; the
    next run starts at it."""
    all_sent(admin)
    a = insert_records(admin, tenants[0].workspace_pk, 12)
    b = insert_records(admin, tenants[1].workspace_pk, 2)
    settled(admin)
    again = [("refuse", 0b1)] * (drainer.SEND_ATTEMPTS - 1)
    bus = FailingBus([("refuse", 0b100), *again])

    report = drain_into(bus, pool)

    assert sent(bus) == [a[:10], [a[2], *b], *[[a[2]]] * (drainer.SEND_ATTEMPTS - 2)]
    assert report.stopped == {tenants[0].workspace_pk}
    assert report.failed == drainer.SEND_ATTEMPTS
    assert unsent(admin, a + b) == [a[2], *a[10:]]

    drain_into(bus, pool)

    assert bus.calls[-1] == [(a[2], True), (a[10], True), (a[11], True)]
    assert unsent(admin, a + b) == []


def test_a_call_that_raises_ends_the_run_with_what_was_accepted_before_it_marked(
    admin, pool, tenants
):
    all_sent(admin)
    pks = insert_records(admin, tenants[0].workspace_pk, 15)
    settled(admin)
    bus = FailingBus([("ok", 0), ("raise", 0)])

    with pytest.raises(ConnectionError):
        drain_into(bus, pool)

    assert sent(bus) == [pks[:10], pks[10:]]
    assert unsent(admin, pks) == pks[10:]


def insert_big_records(admin: pg8000.native.Connection, workspace_pk: int, count: int) -> list[int]:
    """``count`` records of 1,000 ids and record ids (about 80 KB an event), each in its own
    transaction."""
    return [
        int(
            admin.run(
                "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
                "record_ids, occurred_at, actor_kind) SELECT :w, 'account_workspace_connector', "
                "'linked', array_agg(gen_random_uuid()), array_agg(gen_random_uuid()), now(), "
                "'sync' FROM generate_series(1, 1000) RETURNING pk",
                w=workspace_pk,
            )[0][0]
        )
        for _ in range(count)
    ]


def test_big_records_fill_each_call_up_to_256_kb_in_commit_order(admin, pool, tenants):
    all_sent(admin)
    pks = insert_big_records(admin, tenants[0].workspace_pk, 10)
    settled(admin)
    bus = FailingBus()

    drain_into(bus, pool)

    assert [pk for call in sent(bus) for pk in call] == pks
    assert max(map(len, bus.sizes)) > 1
    assert all(sum(sizes) <= drainer.PUT_EVENTS_BYTES for sizes in bus.sizes)
    # Each call as full as it could be: the next call's first entry would not have fitted.
    assert all(
        sum(sizes) + later[0] > drainer.PUT_EVENTS_BYTES
        for sizes, later in zip(bus.sizes, bus.sizes[1:], strict=False)
    )
    assert unsent(admin, pks) == []


# ---- over random failures (a hypothesis property) ------------------------------------------------


class Written(NamedTuple):
    """A record the property wrote: its workspace (of ``tenants``), pk, row and change."""

    workspace: int
    pk: int
    row: str
    change: str


def write_interleaved(
    admin: pg8000.native.Connection, tenants: list[f.Tenant], counts: list[int], order: Random
) -> list[Written]:
    """``counts`` records of up to four workspaces, interleaved, each in its own transaction,
    each linking or unlinking one of three rows of its workspace."""
    turns = [n for n, count in enumerate(counts) for _ in range(count)]
    order.shuffle(turns)
    rows = [[str(UUID(int=order.getrandbits(128))) for _ in range(3)] for _ in counts]
    written = []
    for n in turns:
        row, change = order.choice(rows[n]), order.choice(["linked", "unlinked"])
        (pk,) = insert_records(admin, tenants[n].workspace_pk, 1, row=row, change=change)
        written.append(Written(n, pk, row, change))
    settled(admin)
    return written


def first_sent_in_commit_order(calls: list[list[tuple[int, bool]]], records: list[int]) -> None:
    """A call holds a workspace's ``records`` in commit order, and a record is first sent once
    every earlier one was accepted, or in the same call."""
    accepted: set[int] = set()
    seen: set[int] = set()
    for call in calls:
        mine = [pk for pk, _ in call if pk in records]
        assert mine == sorted(mine, key=records.index)
        for pk in set(mine) - seen:
            assert set(records[: records.index(pk)]) <= accepted | set(mine)
        seen.update(mine)
        accepted.update(pk for pk, ok in call if ok)


def accepted_first_only_past_a_refused_one(
    calls: list[list[tuple[int, bool]]], records: list[int]
) -> None:
    """A record is accepted before an earlier one of its workspace only in a call that refused
    that earlier one."""
    accepted: set[int] = set()
    for call in calls:
        refused = {pk for pk, ok in call if not ok}
        for pk, ok in call:
            if ok and pk in records and pk not in accepted:
                assert set(records[: records.index(pk)]) - accepted <= refused
                accepted.add(pk)


def refused_sent_again_alone(bus: FailingBus, records: list[int]) -> None:
    """Within a run, the records of ``records`` EventBridge refused are sent again one a call
    (of their workspace), in order, before any other record of it."""
    waiting: list[int] = []
    for n, call in enumerate(bus.calls):
        if n and bus.runs[n] != bus.runs[n - 1]:
            waiting = []
        mine = [(pk, ok) for pk, ok in call if pk in records]
        if mine and waiting:
            assert [pk for pk, _ in mine] == waiting[:1]
            waiting = waiting[1:] if mine[0][1] else waiting
        elif mine:
            waiting = [pk for pk, ok in mine if not ok]


def applied_by_sequence(events: list[dict[str, Any]]) -> dict[str, str]:
    """What a consumer ends with (docs/changes.md, "What a consumer does"): each row as the
    event with the largest ``sequence`` about it left it, whatever order they came in."""
    rows: dict[str, tuple[int, str]] = {}
    for event in events:
        for row in event["ids"]:
            if row not in rows or rows[row][0] < event["sequence"]:
                rows[row] = (event["sequence"], event["change"])
    return {row: change for row, (_, change) in rows.items()}


FAULTS = st.lists(
    st.tuples(st.sampled_from(["ok", "ok", "refuse", "raise", "crash"]), st.integers(0, 1023)),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    counts=st.lists(st.integers(0, 14), min_size=1, max_size=4),
    order=st.randoms(use_true_random=False),
    plan=FAULTS,
    limit=st.integers(1, 30),
    per_workspace=st.integers(1, 10),
)
def test_no_record_is_lost_and_each_workspace_keeps_its_order_whatever_fails(
    admin, pool, tenants, monkeypatch, counts, order, plan, limit, per_workspace
):
    all_sent(admin)
    written = write_interleaved(admin, tenants, counts, order)
    pks = [w.pk for w in written]
    bus = FailingBus(plan)
    monkeypatch.setattr(drainer, "mark", crashing_mark(bus))
    runs = 0
    while unsent(admin, pks) and runs < 50:
        runs += 1
        bus.run = runs
        with contextlib.suppress(Crash, ConnectionError):
            drain_into(bus, pool, limit=limit, per_workspace=per_workspace)
        # Nothing is marked sent that EventBridge did not accept.
        assert set(pks) - set(unsent(admin, pks)) <= {d["sequence"] for d in bus.delivered}

    assert unsent(admin, pks) == []
    assert bus.sent_once_marked == []
    for n in range(len(counts)):
        records = [w.pk for w in written if w.workspace == n]
        first_sent_in_commit_order(bus.calls, records)
        accepted_first_only_past_a_refused_one(bus.calls, records)
        refused_sent_again_alone(bus, records)
    assert applied_by_sequence(bus.delivered) == {w.row: w.change for w in written}


@pytest.fixture(scope="module")
def tenants(database: local_db.LocalDatabase) -> list[f.Tenant]:
    conn = local_db.admin_connection(database.admin_url)
    try:
        return [f.tenant(conn) for _ in range(4)]
    finally:
        conn.close()
