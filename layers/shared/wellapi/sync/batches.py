"""Set-based writing of a batch of sync messages, with the same end in any delivery order.

Two round trips per batch, whatever its size: one statement resolves the batch's connectors
and returns only the records that cannot be used (missing, soft-deleted, or in another
workspace than their connector), so each message can be checked on its own; then one
script — one implicit transaction — applies every good message with one set-based statement
each. The write finds records again by their public ids, and only in the connector's
workspace. If the script fails, the handler applies each message in a transaction of its own
(``apply`` with one message), so a failure belongs to the message that caused it.

Order does not matter. The ledger after any set of messages, delivered in any order and any
number of times, has the live rows that applying each once in ``occurred_at`` order would
leave (on equal times a removal comes after the link):

- a link whose (connector, record, direction) has a tombstone at or after its time (an
  unlink applied earlier, ``sync_tombstones``), or whose connector is revoked at or after its
  time (``connector_revocations``), is written soft-deleted: the removal came first;
- a link that occurred after its connector's revocation is refused (``AFTER_REVOCATION``), and
  a link older than ``LINKS_ACCEPTED_WITHIN`` is refused as ``STALE``: the tombstones that
  could remove it are pruned by then;
- an unlink soft-deletes the live rows of its key that occurred at or before it (a row with no
  ``occurred_at``, written over HTTP, occurred before any message) and records its time as the
  key's tombstone (the latest one wins);
- a revocation is recorded, not swept: from its commit no read shows the connector's rows
  (``wellapi.sqltext.reads``), and ``wellapi.sync.sweeper`` soft-deletes them in bounded steps.

Concurrent batches: the script first takes a transaction-level advisory lock per connector it
names, sorted (shared for links; exclusive for unlinks and revocations, and the sweeper's), so
a link and a removal of one connector never miss each other's uncommitted rows. Each later
statement of the script runs on a snapshot taken after those locks were granted.

Exactly once: the script then inserts every distinct (connector, key) of the batch into
``sync_receipts`` (``ON CONFLICT DO NOTHING``), in sorted order, so two batches sharing keys
wait for each other instead of deadlocking. A message's statement writes only when its key's
receipt was inserted by this very transaction (its ``xmin`` is the transaction's id). A key
that was already there is a redelivery when the receipt's fingerprint (the SHA-256 of the
message's canonical content) is the message's own, and otherwise another message reusing the
key (``KEY_REUSED``): refused, never acknowledged as applied. A refused message's statement
deletes the receipt it inserted, so its redeliveries are judged again.

The locks, the receipts and the three forms of a message's statement (``LINK``, ``UNLINK``,
``REVOKE``) are plain SQL with named parameters, a form's ledger names filled in once per
ledger. The resolving statement is composed per (connector, record type) groups, each
connector's workspace read once for its records: one fixed statement that joined every record
id to its connector cost the writer 4 % of its rows a second. Every value is bound as a
parameter (``wellapi.store.sql``), as the API's values are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any, NamedTuple
from uuid import UUID

from wellapi.resources.conditions import constant, slot
from wellapi.store import connections
from wellapi.store.rows import select_list
from wellapi.store.sql import BoundStatement, Script, ScriptPart, Statement
from wellapi.sync.ledgers import LEDGERS
from wellapi.sync.messages import (
    ConnectorRevoked,
    ProvenanceLinked,
    ProvenanceUnlinked,
    sync_run_of,
)

AnyMessage = ProvenanceLinked | ProvenanceUnlinked | ConnectorRevoked


class Rejected(Exception):
    """A message that cannot be applied; it fails alone and goes back to the queue."""


class ResolvedConnector(NamedTuple):
    """A connector a message names: internal key, workspace, not soft-deleted."""

    pk: int
    workspace_pk: int
    live: bool


class Problem(NamedTuple):
    """A record that is missing (no workspace), in another workspace, or soft-deleted."""

    workspace_pk: int | None
    live: bool | None


@dataclass
class Resolution:
    """What a batch's public ids resolve to: every connector, and only the records at fault.

    Records are keyed by (connector, record type, record id): whether one is at fault depends
    on the connector's workspace. A record that is not here is live and in that workspace.
    """

    connectors: dict[UUID, ResolvedConnector] = field(default_factory=dict)
    problems: dict[tuple[UUID, str, UUID], Problem] = field(default_factory=dict)


class ResolvedRow(NamedTuple):
    """A row of ``resolve``'s statement: a connector (``kind`` 'connector'), or a record of
    type ``kind`` that cannot be used (``pk`` NULL when it does not exist)."""

    kind: str
    connector_id: UUID
    record_id: UUID | None
    pk: int | None
    workspace_pk: int | None
    live: bool | None


@lru_cache(maxsize=256)
def resolve_template(kinds: tuple[str, ...]) -> Statement:
    """``resolve``'s statement for a batch naming records of ``kinds``, one per (connector,
    record type) it names, in order: the connectors fill ``connectors``, the ``i``-th group
    ``connector_i`` and ``ids_i``."""
    connector_columns = select_list(
        ResolvedRow._fields,
        kind=constant("connector"),
        connector_id="workspace_connector_id",
        record_id="NULL::uuid",
        pk="pk",
        workspace_pk="workspace_pk",
        live="deleted_at IS NULL",
    )
    parts = [
        f"SELECT {connector_columns} FROM core_api.workspace_connectors "
        f"WHERE workspace_connector_id = ANY({slot('connectors', 'uuid[]')})"
    ]
    for i, kind in enumerate(kinds):
        _, table, id_column = LEDGERS[kind]
        workspace = (
            "(SELECT workspace_pk FROM core_api.workspace_connectors "
            f"WHERE workspace_connector_id = {slot(f'connector_{i}')})"
        )
        record_columns = select_list(
            ResolvedRow._fields,
            kind=constant(kind),
            connector_id=slot(f"connector_{i}", "uuid"),
            record_id="u.id",
            pk="r.pk",
            workspace_pk="r.workspace_pk",
            live="r.deleted_at IS NULL",
        )
        parts.append(
            f"SELECT {record_columns} FROM unnest({slot(f'ids_{i}', 'uuid[]')}) AS u(id) "
            f"LEFT JOIN core_api.{table} r ON r.{id_column} = u.id "
            f"WHERE {workspace} IS NOT NULL AND (r.pk IS NULL OR r.deleted_at IS NOT NULL "
            f"OR r.workspace_pk <> {workspace})"
        )
    return Statement(" UNION ALL ".join(parts))


def resolve(messages: Sequence[AnyMessage], *, pool: Any = None) -> Resolution:
    """One statement: every connector the batch names, and the records that cannot be used.

    Good records do not come back (a batch of 10,000 good ids returns one row per
    connector); the statements that write find them again by their public ids. Soft-deleted
    connectors and records are reported as such, because removing links stays legal after a
    connector or a record is gone (that is often why links are removed).
    """
    connectors = sorted({m.workspace_connector_id for m in messages}, key=str)
    groups: dict[tuple[UUID, str], dict[UUID, None]] = {}
    for m in messages:
        if not isinstance(m, ConnectorRevoked):
            ids = groups.setdefault((m.workspace_connector_id, m.record_type), {})
            ids.update(dict.fromkeys(m.record_ids))
    params: dict[str, Any] = {"connectors": connectors}
    for i, ((connector_id, _), ids) in enumerate(groups.items()):
        params |= {f"connector_{i}": connector_id, f"ids_{i}": list(ids)}
    sql = resolve_template(tuple(kind for _, kind in groups)).bind(params)
    resolution = Resolution()
    for row in map(ResolvedRow._make, connections.in_transaction([sql], pool=pool)):
        if row.kind == "connector":
            # A connector's row is read from its table: none of these is NULL.
            assert row.pk is not None
            assert row.workspace_pk is not None
            assert row.live is not None
            connector = ResolvedConnector(row.pk, row.workspace_pk, row.live)
            resolution.connectors[row.connector_id] = connector
        else:
            assert row.record_id is not None
            key = (row.connector_id, row.kind, row.record_id)
            live = row.live if row.pk is not None else None
            resolution.problems[key] = Problem(row.workspace_pk, live)
    return resolution


class Verdict(StrEnum):
    """What became of a message, as its statement answers."""

    # Written now.
    APPLIED = "applied"
    # Its receipt was there with its own fingerprint: an earlier delivery applied it.
    DUPLICATE = "duplicate"
    # Refused: another message of this connector already used its idempotency key.
    KEY_REUSED = "key_reused"
    # Refused: a link older than ``LINKS_ACCEPTED_WITHIN``.
    STALE = "stale"
    # Refused: a link that occurred after its connector's revocation.
    AFTER_REVOCATION = "after_revocation"


REFUSED = {
    Verdict.KEY_REUSED: "the idempotency key was already used by another message of this "
    "workspace connector",
    Verdict.STALE: "the link occurred longer ago than links are accepted",
    Verdict.AFTER_REVOCATION: "the link occurred after its workspace connector was revoked",
}

# The refusals of a link, whose statement deletes the receipt it inserted: each redelivery is
# judged again, and the batch's next message of the key is the key's own.
RECEIPT_DROPPED = frozenset({Verdict.STALE, Verdict.AFTER_REVOCATION})

# Receipts outlive every delivery of their message: 4 days in the sync queue and 14 in its
# dead-letter queue, both counted from its first send, and as long again if redriven.
RECEIPTS_KEPT = "35 days"
# A link may arrive this long after it occurred; an older one is refused (STALE). Tombstones are
# kept a day longer, so every tombstone that could remove an accepted link is still there,
# whatever the clock did between the transaction that pruned and the one that linked.
LINKS_ACCEPTED_WITHIN = "35 days"
TOMBSTONES_KEPT = "36 days"
# The pruning's advisory locks are taken on two int4 keys, whose space is apart from the one
# bigint key of the connector locks: (class 1515870810, hashtext(what)).


def fingerprint(message: AnyMessage) -> bytes:
    """The SHA-256 of what the message says, in a canonical form: the same message sent again
    (any member order, record ids in any order or repeated, any offset) has the same one."""
    content = message.model_dump(mode="json", exclude={"idempotency_key", "occurred_at"})
    content["occurred_at"] = message.occurred_at.timestamp()
    if "record_ids" in content:
        content["record_ids"] = sorted(set(content["record_ids"]))
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).digest()


@dataclass(frozen=True)
class Planned:
    message: AnyMessage
    connector_pk: int
    workspace_pk: int
    record_ids: tuple[UUID, ...] = ()

    @cached_property
    def fingerprint(self) -> bytes:
        """The message's fingerprint, computed once for its receipt, its verdict and the batch."""
        return fingerprint(self.message)

    @property
    def receipt_key(self) -> tuple[int, str]:
        """A receipt's key: idempotency keys are the connector's own."""
        return (self.connector_pk, self.message.idempotency_key)

    @property
    def exclusive(self) -> bool:
        """Whether the message removes links: it excludes links of its connector meanwhile."""
        return not isinstance(self.message, ProvenanceLinked)


def check(message: AnyMessage, resolution: Resolution) -> Planned:
    """Everything a message names must exist and sit in the connector's workspace.

    A new link also needs a live connector and live records; removing links does not.
    """
    linking = isinstance(message, ProvenanceLinked)
    connector_id = message.workspace_connector_id
    connector = resolution.connectors.get(connector_id)
    if connector is None:
        raise Rejected("unknown workspace connector")
    if linking and not connector.live:
        raise Rejected("the workspace connector is deleted")
    if isinstance(message, ConnectorRevoked):
        return Planned(message, connector.pk, connector.workspace_pk)
    ids = tuple(dict.fromkeys(message.record_ids))
    for record_id in ids:
        problem = resolution.problems.get((connector_id, message.record_type, record_id))
        if problem is None:
            continue
        if problem.workspace_pk is None:
            raise Rejected(f"unknown {message.record_type} {record_id}")
        if problem.workspace_pk != connector.workspace_pk:
            raise Rejected(
                f"{message.record_type} {record_id} is in another workspace than the connector"
            )
        if linking and not problem.live:
            raise Rejected(f"{message.record_type} {record_id} is deleted")
    return Planned(message, connector.pk, connector.workspace_pk, ids)


# One advisory lock per connector, in the order of the arrays (``unnest`` yields them in
# order, and the sort keeps it): exclusive or shared as ``lock_exclusive`` says. The statement
# timeout, when one is given, bounds each later statement of the transaction (``set_config``
# local to it, which RDS Proxy does not pin a session for); without one, it stays as it is.
LOCKS = Statement(
    """SELECT count(*) AS locks, set_config(
    'statement_timeout',
    coalesce(%(statement_timeout)s::text, current_setting('statement_timeout')),
    true
)
FROM (
    SELECT CASE WHEN l.exclusive
        THEN pg_advisory_xact_lock(l.key)::text
        ELSE pg_advisory_xact_lock_shared(l.key)::text
    END
    FROM unnest(%(lock_keys)s::bigint[], %(lock_exclusive)s::boolean[])
        WITH ORDINALITY AS l(key, exclusive, n)
    ORDER BY l.n
) AS taken"""
)


def lock_connectors(
    planned: Sequence[Planned], *, statement_timeout_ms: int | None = None
) -> BoundStatement:
    """One advisory lock per connector, in key order: exclusive when a message removes links."""
    exclusive: dict[int, bool] = {}
    for p in planned:
        exclusive[p.connector_pk] = exclusive.get(p.connector_pk, False) or p.exclusive
    keys = sorted(exclusive)
    timeout = None if statement_timeout_ms is None else f"{statement_timeout_ms}ms"
    return LOCKS.bind(
        {
            "lock_keys": keys,
            "lock_exclusive": [exclusive[k] for k in keys],
            "statement_timeout": timeout,
        }
    )


# The receipts of a batch, one JSON array of objects (its text values escaped by JSON, never
# by an array literal's rules), inserted in the array's order; a key already there is left as
# it is.
RECEIPTS = Statement(
    """INSERT INTO core_api.sync_receipts (
    idempotency_key, message_type, workspace_connector_pk, sync_run_id, occurred_at, fingerprint
)
SELECT r.idempotency_key, r.message_type, r.workspace_connector_pk, r.sync_run_id,
    r.occurred_at, decode(r.fingerprint, 'hex')
FROM ROWS FROM (
    jsonb_to_recordset(%(receipts)s::jsonb) AS (
        idempotency_key text, message_type text, workspace_connector_pk bigint,
        sync_run_id text, occurred_at timestamptz, fingerprint text
    )
) WITH ORDINALITY AS r(
    idempotency_key, message_type, workspace_connector_pk, sync_run_id, occurred_at,
    fingerprint, n
)
ORDER BY r.n
ON CONFLICT (workspace_connector_pk, idempotency_key) DO NOTHING"""
)


def receipts(first: Sequence[Planned]) -> BoundStatement:
    """Record each (connector, key) of ``first`` (a key's first message), in key order."""
    rows = []
    for _, p in sorted((p.receipt_key, p) for p in first):
        m = p.message
        rows.append(
            {
                "idempotency_key": m.idempotency_key,
                "message_type": m.type,
                "workspace_connector_pk": p.connector_pk,
                "sync_run_id": sync_run_of(m),
                "occurred_at": m.occurred_at.isoformat(),
                "fingerprint": p.fingerprint.hex(),
            }
        )
    return RECEIPTS.bind({"receipts": json.dumps(rows)})


# Delete up to ``count`` rows older than ``kept``, oldest first. One batch prunes a table at a
# time: the first to take the transaction-level advisory lock (class 1515870810, the
# table's name) does, a concurrent one skips it (and never waits on, or deadlocks with, the
# other's deletes).
PRUNE_RECEIPTS = Statement(
    """DELETE FROM core_api.sync_receipts
WHERE (SELECT pg_try_advisory_xact_lock(1515870810, hashtext('core_api.sync_receipts prune')))
    AND (workspace_connector_pk, idempotency_key) IN (
        SELECT workspace_connector_pk, idempotency_key FROM core_api.sync_receipts
        WHERE received_at < now() - %(kept)s::interval
        ORDER BY received_at LIMIT %(count)s
    )"""
)
PRUNE_TOMBSTONES = Statement(
    """DELETE FROM core_api.sync_tombstones
WHERE (SELECT pg_try_advisory_xact_lock(1515870810, hashtext('core_api.sync_tombstones prune')))
    AND (workspace_connector_pk, record_type, record_pk, direction) IN (
        SELECT workspace_connector_pk, record_type, record_pk, direction
        FROM core_api.sync_tombstones
        WHERE unlinked_at < now() - %(kept)s::interval
        ORDER BY unlinked_at LIMIT %(count)s
    )"""
)


def prune(count: int) -> BoundStatement:
    """Delete up to ``count`` expired receipts, oldest first."""
    return PRUNE_RECEIPTS.bind({"kept": RECEIPTS_KEPT, "count": count})


def prune_tombstones(count: int) -> BoundStatement:
    """Delete up to ``count`` tombstones older than any link still accepted."""
    return PRUNE_TOMBSTONES.bind({"kept": TOMBSTONES_KEPT, "count": count})


class MessageOutcome(NamedTuple):
    """The one row of a message's statement."""

    verdict: str
    # The ledger rows it linked (live), or soft-deleted.
    rows: int
    # The ledger rows it linked already soft-deleted: a removal that occurred later came first.
    superseded: int
    # The key's receipt as this statement left it: what the batch's other messages of the key
    # are judged by (none when the verdict is in RECEIPT_DROPPED).
    receipt_fingerprint: bytes | None


# A message's statement: plain SQL, one of three, its values named parameters and its ledger's
# names (``{table}``, ``{record}``, ``{records}``, ``{id_column}``, from ``LEDGERS``) filled in
# once per ledger. Each begins with the CTE ``verdict``, what becomes of the message, decided
# on this transaction's view (a receipt another transaction inserted makes it a duplicate or a
# reused key); a link is also refused when stale or after its connector's revocation. Each
# writes only when the verdict is 'applied', and ends with its ``MessageOutcome``.
VERDICT = """verdict AS (
    SELECT CASE
        WHEN r.xmin IS DISTINCT FROM pg_current_xact_id_if_assigned()::xid THEN CASE
            WHEN r.fingerprint IS NULL OR r.fingerprint = %(fingerprint)s THEN 'duplicate'
            ELSE 'key_reused' END
        {refusals}ELSE 'applied' END AS verdict
    FROM core_api.sync_receipts r
    WHERE r.workspace_connector_pk = %(connector_pk)s
        AND r.idempotency_key = %(idempotency_key)s
)"""
LINK_REFUSALS = """WHEN %(occurred_at)s::timestamptz < now() - %(links_accepted_within)s::interval
            THEN 'stale'
        WHEN EXISTS (
            SELECT 1 FROM core_api.connector_revocations cr
            WHERE cr.workspace_connector_pk = %(connector_pk)s
                AND cr.occurred_at < %(occurred_at)s::timestamptz
        ) THEN 'after_revocation'
        """
OUTCOME = """SELECT (SELECT verdict FROM verdict) AS verdict, {rows} AS rows,
    {superseded} AS superseded,
    (
        SELECT fingerprint FROM core_api.sync_receipts
        WHERE workspace_connector_pk = %(connector_pk)s
            AND idempotency_key = %(idempotency_key)s
    ) AS receipt_fingerprint"""
# The message's records, found again by public id, in the connector's workspace only.
FOUND = """unnest(%(record_ids)s::uuid[]) AS u(id)
    JOIN core_api.{records} r ON r.{id_column} = u.id AND r.workspace_pk = %(workspace_pk)s"""

# A link: a ledger row per live record, born deleted when a removal that occurred later came
# first (a tombstone at or after its time, or its connector's revocation). A refused link
# leaves no receipt (``forgotten``): its redeliveries are judged again.
LINK = """WITH {verdict},
forgotten AS (
    DELETE FROM core_api.sync_receipts
    WHERE workspace_connector_pk = %(connector_pk)s AND idempotency_key = %(idempotency_key)s
        AND (SELECT verdict FROM verdict) IN ('after_revocation', 'stale')
    RETURNING 1
),
changed AS (
    INSERT INTO core_api.{table}
        ({record}_pk, workspace_connector_pk, direction, occurred_at, deleted_at)
    SELECT r.pk, %(connector_pk)s, %(direction)s::core_api.direction_enum,
        %(occurred_at)s::timestamptz,
        CASE WHEN tb.unlinked_at >= %(occurred_at)s::timestamptz OR (SELECT EXISTS (
            SELECT 1 FROM core_api.connector_revocations cr
            WHERE cr.workspace_connector_pk = %(connector_pk)s
        )) THEN now() END
    FROM {found} AND r.deleted_at IS NULL
    LEFT JOIN core_api.sync_tombstones tb ON tb.workspace_connector_pk = %(connector_pk)s
        AND tb.record_type = %(record_type)s AND tb.record_pk = r.pk
        AND tb.direction = %(direction)s::core_api.direction_enum
    WHERE (SELECT verdict FROM verdict) = 'applied'
    RETURNING deleted_at IS NULL AS live
)
{outcome}"""

# An unlink: the tombstones a later link is judged by (the latest time wins), and the soft
# delete of the live rows of its key that occurred at or before it (a row with no time, written
# over HTTP, occurred before any message), locked in ``pk`` order so that two writes over the
# same rows wait for each other instead of deadlocking.
UNLINK = """WITH {verdict},
tombstones AS (
    INSERT INTO core_api.sync_tombstones
        (workspace_connector_pk, record_type, record_pk, direction, unlinked_at)
    SELECT %(connector_pk)s, %(record_type)s, r.pk, %(direction)s::core_api.direction_enum,
        %(occurred_at)s::timestamptz
    FROM {found}
    WHERE (SELECT verdict FROM verdict) = 'applied'
    ON CONFLICT (workspace_connector_pk, record_type, record_pk, direction) DO UPDATE
    SET unlinked_at = GREATEST(sync_tombstones.unlinked_at, EXCLUDED.unlinked_at)
    RETURNING 1
),
changed AS (
    UPDATE core_api.{table} SET deleted_at = now() WHERE pk IN (
        SELECT pk FROM core_api.{table}
        WHERE {record}_pk IN (SELECT r.pk FROM {found})
            AND workspace_connector_pk = %(connector_pk)s
            AND direction = %(direction)s::core_api.direction_enum
            AND coalesce(occurred_at, '-infinity') <= %(occurred_at)s::timestamptz
            AND (SELECT verdict FROM verdict) = 'applied'
            AND deleted_at IS NULL
        ORDER BY pk FOR UPDATE
    )
    RETURNING 1
)
{outcome}"""

# A revocation: recorded (the earliest time wins), not swept: from its commit no read shows
# the connector's rows, and a sweep per ledger and direction soft-deletes them in bounded
# steps (``wellapi.sync.sweeper``). Its change record names the connector; it has no sync run.
REVOKE = """WITH {verdict},
changed AS (
    INSERT INTO core_api.connector_revocations (workspace_connector_pk, occurred_at)
    SELECT %(connector_pk)s, %(occurred_at)s::timestamptz
    WHERE (SELECT verdict FROM verdict) = 'applied'
    ON CONFLICT (workspace_connector_pk) DO UPDATE
    SET occurred_at = LEAST(connector_revocations.occurred_at, EXCLUDED.occurred_at)
    RETURNING 1
),
sweeps AS (
    INSERT INTO core_api.revocation_sweeps (workspace_connector_pk, record_type, direction)
    SELECT %(connector_pk)s, t.record_type, d.direction
    FROM unnest(%(record_types)s::text[]) AS t(record_type)
    CROSS JOIN unnest(enum_range(NULL::core_api.direction_enum)) AS d(direction)
    WHERE (SELECT verdict FROM verdict) = 'applied'
    ON CONFLICT DO NOTHING
    RETURNING 1
),
recorded AS (
    INSERT INTO core_api.change_records (
        workspace_pk, resource_type, change, ids, record_ids, detail, occurred_at, actor_kind,
        sync_run_id, message_key
    )
    SELECT %(workspace_pk)s, 'workspace_connector', 'revoked', ARRAY[%(connector_id)s::uuid],
        NULL, jsonb_build_object(), %(occurred_at)s::timestamptz, 'sync', NULL,
        %(idempotency_key)s::text
    FROM changed
)
{outcome}"""


@lru_cache(maxsize=16)
def message_template(message_type: str, record_type: str | None) -> Statement:
    """The statement of a message of ``message_type`` (of a ledger, ``record_type``, when it
    links or unlinks), whose parameters ``message_params`` gives."""
    linking = message_type == "provenance.linked"
    verdict = VERDICT.format(refusals=LINK_REFUSALS if linking else "")
    if record_type is None:
        outcome = OUTCOME.format(rows="0", superseded="0")
        return Statement(REVOKE.format(verdict=verdict, outcome=outcome))
    table, records, id_column = LEDGERS[record_type]
    found = FOUND.format(records=records, id_column=id_column)
    if linking:
        text = LINK
        outcome = OUTCOME.format(
            rows="(SELECT count(*) FROM changed WHERE live)",
            superseded="(SELECT count(*) FROM changed WHERE NOT live)",
        )
    else:
        text = UNLINK
        outcome = OUTCOME.format(rows="(SELECT count(*) FROM changed)", superseded="0")
    return Statement(
        text.format(verdict=verdict, table=table, record=record_type, found=found, outcome=outcome)
    )


def message_params(planned: Planned) -> dict[str, Any]:
    """The values of a message's statement and declaration."""
    m = planned.message
    params: dict[str, Any] = {
        "connector_pk": planned.connector_pk,
        "workspace_pk": planned.workspace_pk,
        "idempotency_key": m.idempotency_key,
        "occurred_at": m.occurred_at,
        "fingerprint": planned.fingerprint,
        "sync_run_id": sync_run_of(m),
    }
    if isinstance(m, ConnectorRevoked):
        params |= {"connector_id": m.workspace_connector_id, "record_types": list(LEDGERS)}
    else:
        params |= {
            "direction": m.direction.value,
            "record_ids": planned.record_ids,
            "record_type": m.record_type,
        }
    if isinstance(m, ProvenanceLinked):
        params["links_accepted_within"] = LINKS_ACCEPTED_WITHIN
    return params


def _record_type(message: AnyMessage) -> str | None:
    return None if isinstance(message, ConnectorRevoked) else message.record_type


def statement(planned: Planned) -> BoundStatement:
    """One set-based statement for one message; it returns one ``MessageOutcome``.

    Records are found again by their public ids, and only in the connector's workspace: a
    record of another workspace is never linked, whatever happened since it was checked. The
    database records the rows it changed (the ledger's ``<ledger>_recorded_<event>`` triggers)
    as the message ``declaration`` names.
    """
    m = planned.message
    return message_template(m.type, _record_type(m)).bind(message_params(planned))


# What the database records of a message's changes (core_api.record_<ledger>()): made by the
# sync writer, its run (a revocation has none), its key, its time.
MESSAGE_DECLARATION = Statement(
    """SELECT set_config('well.change', jsonb_build_object(
    'actor', 'sync',
    'occurred_at', %(occurred_at)s::timestamptz,
    'sync_run_id', %(sync_run_id)s::text,
    'message_key', %(idempotency_key)s::text
)::text, true)"""
)


def declaration(planned: Planned) -> BoundStatement:
    """What the database records of the message's changes: its run, its key, its time."""
    m = planned.message
    return MESSAGE_DECLARATION.bind(
        {
            "occurred_at": m.occurred_at,
            "sync_run_id": sync_run_of(m),
            "idempotency_key": m.idempotency_key,
        }
    )


@dataclass(frozen=True)
class Applied:
    message: AnyMessage
    verdict: Verdict
    rows: int = 0
    superseded: int = 0

    @property
    def applied(self) -> bool:
        """Whether this delivery wrote the message's effect."""
        return self.verdict is Verdict.APPLIED

    @property
    def refused(self) -> str | None:
        """Why the message was refused, or None when it is applied or a duplicate."""
        return REFUSED.get(self.verdict)


def batch_script(
    planned: Sequence[Planned],
    *,
    prune_count: int | None = None,
    statement_timeout_ms: int | None = None,
) -> Script:
    """The one script of a batch: locks, receipts, a statement per key, the pruning."""
    first: dict[tuple[int, str], Planned] = {}
    for p in planned:
        first.setdefault(p.receipt_key, p)
    count = 2 * len(first) if prune_count is None else prune_count
    parts = [
        ScriptPart(
            "locks", lock_connectors(planned, statement_timeout_ms=statement_timeout_ms), "one"
        ),
        ScriptPart("receipts", receipts(list(first.values())), "nothing"),
        *(
            part
            for p in first.values()
            for part in (
                ScriptPart(f"declare {_message_part(p)}", declaration(p), "one"),
                ScriptPart(_message_part(p), statement(p), "one"),
            )
        ),
    ]
    if count:
        # Twice what this batch adds: the tables shrink back to their retention.
        parts += [
            ScriptPart("prune receipts", prune(count), "nothing"),
            ScriptPart("prune tombstones", prune_tombstones(count), "nothing"),
        ]
    return Script(tuple(parts))


def apply(
    planned: Sequence[Planned], *, pool: Any = None, statement_timeout_ms: int | None = None
) -> list[Applied]:
    """Write every planned message in one transaction; all of them or none.

    The result has one entry per planned message, in order. A message whose (connector, key)
    an earlier message of the batch carries has no statement of its own: it is judged by the
    key's receipt as that statement left it (``DUPLICATE`` when the receipt is its own,
    ``KEY_REUSED`` when it is another message's). When that statement refused its message
    and left no receipt, the message is written after, in a transaction of its own (rare:
    two different messages of one key in one batch).
    """
    if not planned:
        return []
    batch = batch_script(planned, statement_timeout_ms=statement_timeout_ms)
    # Not retried on a dropped connection: the batch goes back to the queue instead, and
    # the receipts make the redelivery safe. A connector's lock that a stalled session holds
    # is taken back (connections.execute_past_stalls).
    answer = batch.split(connections.execute_past_stalls(batch.statements, pool=pool))
    results: list[Applied | None] = []
    unjudged: list[int] = []
    firsts: dict[tuple[int, str], Planned] = {}
    for p in planned:
        first = firsts.setdefault(p.receipt_key, p)
        outcome = MessageOutcome._make(answer[_message_part(first)][0])
        verdict = Verdict(outcome.verdict)
        if first is p:
            results.append(Applied(p.message, verdict, int(outcome.rows), int(outcome.superseded)))
        elif p.fingerprint == first.fingerprint:
            # The same message again: what became of the first becomes of it.
            same = Verdict.DUPLICATE if verdict is Verdict.APPLIED else verdict
            results.append(Applied(p.message, same))
        elif verdict in RECEIPT_DROPPED:
            unjudged.append(len(results))
            results.append(None)
        else:
            owner = outcome.receipt_fingerprint
            own = owner is None or bytes(owner) == p.fingerprint
            results.append(Applied(p.message, Verdict.DUPLICATE if own else Verdict.KEY_REUSED))
    if unjudged:
        later = apply([planned[i] for i in unjudged], pool=pool)
        for index, result in zip(unjudged, later, strict=True):
            results[index] = result
    return [r for r in results if r is not None]


def _message_part(planned: Planned) -> str:
    connector_pk, key = planned.receipt_key
    return f"message {connector_pk} {key}"
