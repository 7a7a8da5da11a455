"""The change drainer: publishes the outbox's records to EventBridge once, in order, and marks
them sent (docs/changes.md, "Events").

A run is a sequence of cycles. Each cycle is one transaction of the drainer's role
(``well_drain``) held across its sends, and three round trips:

1. ``BEGIN`` and the transaction's settings (``core_api.set_transaction_settings()``,
   ``connections.in_transaction``), then the drainer's transaction-level advisory lock (one
   drainer at a time: a second one finds it taken and does nothing), and up to
   ``CYCLE_RECORDS`` unsent records **behind the horizon**
   (``xid < pg_snapshot_xmin(pg_current_snapshot())``) in ``(xid, pk)`` order, each already
   written as its event's ``detail`` by the statement (JSON text);
2. the sends: ``PutEvents`` calls of at most ``PUT_EVENTS_ENTRIES`` entries and
   ``PUT_EVENTS_BYTES``, one after the other, each of the oldest records the workspaces offer:
   up to ``PER_WORKSPACE`` (ten) of a workspace, in ``(xid, pk)`` order. EventBridge answers
   each entry: an accepted one is done with, whatever the others of its call got; a refused
   one goes back to the head of its workspace's records and is sent again, alone of its
   workspace, before any later record of it, up to ``SEND_ATTEMPTS`` sends in the run; then
   its workspace stops for the rest of the run, and the next run starts at it;
3. ``UPDATE sent_at`` of exactly the entries EventBridge accepted, and ``COMMIT``.

**The order.** A workspace's records are first sent in the feed's order, ``(xid, pk)``: within
a call, and each call after the one before it was answered. A record reaches EventBridge before
an earlier record of its workspace only when both were in one call and EventBridge refused the
earlier one there (so at most nine records pass it in a call), and a refused record is sent
again before any record of its workspace not yet sent. A consumer orders by each event's
``sequence`` in any case: EventBridge itself promises no order to its targets (docs/changes.md,
"What a consumer does").

A crash at any point loses nothing: before the commit nothing is marked (the server rolls the
transaction back when the connection goes), so the next run sends the same records again,
from the first unsent one of each workspace, with the same ``event_id`` (``<xid>-<pk>``).
Delivery is at least once: a record EventBridge accepted is sent again only when the mark of
its acceptance did not commit, and a consumer that drops an ``event_id`` it has seen gets each
change once.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from wellapi.store import connections
from wellapi.store.connections import COMMIT
from wellapi.store.rows import select_list
from wellapi.store.sql import BoundStatement, Script, ScriptPart, Statement

# The events' source, and the version of their detail (docs/schemas/change-event.schema.json).
SOURCE = "well.junctions"
DETAIL_VERSION = 1
# EventBridge's limits on one PutEvents call.
PUT_EVENTS_ENTRIES = 10
PUT_EVENTS_BYTES = 256 * 1024
# A workspace's records a call holds at most: all ten. 1 sends a workspace's records a call
# each, each after EventBridge accepted the one before it (the bench's comparison).
PER_WORKSPACE = PUT_EVENTS_ENTRIES
# A record EventBridge refuses is sent again, up to this many sends in a run; refused that
# often, its workspace stops for the rest of the run, and the next run starts at it.
SEND_ATTEMPTS = 3
# Records one cycle reads: a bulk change's record is about 80 KB as JSON (1,000 ids and record
# ids), so a cycle holds at most some 16 MB, and it is sent in a few seconds; 200 records of
# one id are some twenty calls. More a cycle would gain little: its reading and marking take
# about 10 ms (the bench), its calls each wait tens of ms for EventBridge.
CYCLE_RECORDS = 200
# A cycle is not started with less of the invocation left than this, and a cycle's sends stop
# (what was accepted is marked) with less than SEND_BUDGET_MS left.
CYCLE_BUDGET_MS = 20_000
SEND_BUDGET_MS = 8_000
# The drainers' advisory lock (transaction-level: released by the commit or the rollback).
DRAIN_LOCK = 0x5745_4C4C_4452_4E00  # "WELLDRN\0"

# An instant as the API writes one: UTC, microseconds only when there are some.
_INSTANT = (
    "replace(to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"
)


class Unsent(NamedTuple):
    """One unsent record, as its event."""

    pk: int
    workspace_pk: int
    detail_type: str
    time: str
    detail: str


# Each field of an event's detail, and the SQL of its value (``c`` the record, ``w`` its
# workspace). The schema (docs/schemas/change-event.schema.json) says what each means.
DETAIL_FIELDS = {
    "version": str(DETAIL_VERSION),
    "event_id": "c.xid::text || '-' || c.pk",
    "position": "lpad(c.xid::text, 20, '0') || '-' || lpad(c.pk::text, 20, '0')",
    "sequence": "c.pk",
    "workspace_id": "w.workspace_id",
    "resource_type": "c.resource_type",
    "change": "c.change",
    "ids": "c.ids",
    "record_ids": "c.record_ids",
    "details": "c.detail",
    "occurred_at": _INSTANT.format("c.occurred_at"),
    "recorded_at": _INSTANT.format("c.recorded_at"),
    "actor_kind": "c.actor_kind",
    "sync_run_id": "c.sync_run_id",
    "message_key": "c.message_key",
}


def _unsent_statement() -> Statement:
    """Up to ``limit`` records behind the horizon, as events, the workspaces ``stopped`` (an
    array, empty or not) left out: one statement, whatever the run stopped."""
    detail = ", ".join(f"'{name}', {sql}" for name, sql in DETAIL_FIELDS.items())
    columns = select_list(
        Unsent._fields,
        pk="c.pk",
        workspace_pk="c.workspace_pk",
        detail_type="c.resource_type || '.' || c.change",
        time=_INSTANT.format("c.occurred_at"),
        detail=f"json_build_object({detail})::text",
    )
    return Statement(
        f"""SELECT {columns}
FROM core_api.change_records c
JOIN core_api.workspaces w ON w.pk = c.workspace_pk
WHERE c.sent_at IS NULL
  AND c.xid < (SELECT pg_snapshot_xmin(pg_current_snapshot()))
  AND c.workspace_pk <> ALL (%(stopped)s::bigint[])
ORDER BY c.xid, c.pk
LIMIT %(limit)s"""
    )


UNSENT = _unsent_statement()


def read_script(*, limit: int = CYCLE_RECORDS, stopped: Sequence[int] = ()) -> Script:
    """A cycle's read, in the transaction its opening began: the lock, the records behind the
    horizon (the workspaces ``stopped`` in this run left out)."""
    unsent = UNSENT.bind({"limit": limit, "stopped": list(stopped)})
    return Script(
        (
            ScriptPart("lock", LOCK, "one"),
            ScriptPart("unsent", unsent, "rows"),
        )
    )


LOCK = BoundStatement(f"SELECT pg_try_advisory_xact_lock({DRAIN_LOCK})")
# A cycle's last statement: mark the records ``pks`` (an array) sent; then it commits.
MARK = Statement(
    """UPDATE core_api.change_records SET sent_at = clock_timestamp()
WHERE pk = ANY (%(pks)s::bigint[]) AND sent_at IS NULL"""
)
ROLLBACK = BoundStatement("ROLLBACK")


def mark_statements(pks: Sequence[int]) -> list[BoundStatement]:
    """A cycle's last round trip: mark what EventBridge accepted, and commit."""
    if not pks:
        return [ROLLBACK]
    return [MARK.bind({"pks": list(pks)}), COMMIT]


def mark(pks: Sequence[int], *, pool: Any) -> None:
    """Mark ``pks`` sent and commit (or only end the transaction, when there are none).

    A mark that fails leaves nothing marked: its transaction is rolled back (the records are
    sent again by the next run), and the error goes on.
    """
    try:
        connections.execute(mark_statements(pks), retry=False, pool=pool)
    except Exception:
        with contextlib.suppress(Exception):
            connections.execute([ROLLBACK], retry=False, pool=pool)
        raise


class EventsClient(Protocol):
    """What the drainer calls of boto3's EventBridge client."""

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]: ...


def entry_bytes(unsent: Unsent) -> int:
    """An entry's size as EventBridge counts it: its source, detail type and detail in UTF-8,
    and 14 bytes for its time."""
    return 14 + len(SOURCE) + len(unsent.detail_type.encode()) + len(unsent.detail.encode())


@dataclass
class DrainReport:
    """What a run of the drainer did."""

    sent: int = 0
    failed: int = 0
    calls: int = 0
    cycles: int = 0
    # Whether another drainer held the lock (this run then did nothing).
    busy: bool = False
    # Workspaces stopped at a record EventBridge refused SEND_ATTEMPTS times, and how many
    # entries it refused, by error code.
    stopped: set[int] = field(default_factory=set)
    errors: dict[str, int] = field(default_factory=dict)


class Sends:
    """The sends of one cycle: each workspace's records in order, up to ``per_workspace`` of them
    a call; a record EventBridge refused sent again, alone of its workspace, before any later
    one, until it is accepted or refused ``SEND_ATTEMPTS`` times (its workspace then stops)."""

    def __init__(self, records: Sequence[Unsent], per_workspace: int = PER_WORKSPACE) -> None:
        self.accepted: list[int] = []
        self._per_workspace = per_workspace
        # Each workspace's records not yet accepted, by their place in the cycle's order; a
        # workspace leaves once it has none left, or stopped.
        self._queues: dict[int, deque[tuple[int, Unsent]]] = {}
        self._refusals: dict[int, int] = {}
        for index, record in enumerate(records):
            self._queues.setdefault(record.workspace_pk, deque()).append((index, record))

    def next_batch(self) -> list[Unsent]:
        """The next call's records: the oldest of those each workspace offers, within
        EventBridge's limits; empty when nothing is left to send."""
        batch: list[Unsent] = []
        size = 0
        # Ten records at most: of the workspaces whose first records are the ten oldest.
        oldest = heapq.nsmallest(PUT_EVENTS_ENTRIES, self._queues.values(), key=_first_place)
        for _, record in heapq.merge(*map(self._offered, oldest)):
            size += entry_bytes(record)
            if len(batch) == PUT_EVENTS_ENTRIES or (batch and size > PUT_EVENTS_BYTES):
                break
            batch.append(record)
        return batch

    def _offered(self, queue: deque[tuple[int, Unsent]]) -> Iterator[tuple[int, Unsent]]:
        """A workspace's first records, in order: ``per_workspace`` of them, or only the first
        when EventBridge refused it (no later record goes before it is accepted)."""
        refused = queue[0][1].pk in self._refusals
        return itertools.islice(queue, 1 if refused else self._per_workspace)

    def record_answers(
        self, batch: Sequence[Unsent], answers: Sequence[dict[str, Any]], report: DrainReport
    ) -> None:
        """What EventBridge answered for each entry of ``batch``, in order: each accepted one
        done with, whatever the answers of the others; the refused ones back at the head of
        their workspace's records."""
        refused: dict[int, list[tuple[int, Unsent]]] = {}
        for record, answer in zip(batch, answers, strict=True):
            # A batch holds the first records of each of its workspaces, in order.
            entry = self._queues[record.workspace_pk].popleft()
            if answer.get("ErrorCode") or not answer.get("EventId"):
                report.failed += 1
                code = str(answer.get("ErrorCode") or "NoEventId")
                report.errors[code] = report.errors.get(code, 0) + 1
                refused.setdefault(record.workspace_pk, []).append(entry)
            else:
                self.accepted.append(record.pk)
        for workspace in dict.fromkeys(record.workspace_pk for record in batch):
            self._put_back(workspace, refused.get(workspace, []), report)

    def _put_back(
        self, workspace: int, refused: list[tuple[int, Unsent]], report: DrainReport
    ) -> None:
        """``refused`` (a workspace's, in order) back at the head of its records, or the
        workspace stopped for the run once one of them was refused ``SEND_ATTEMPTS`` times; a
        workspace with no record left leaves."""
        queue = self._queues[workspace]
        for _, record in refused:
            self._refusals[record.pk] = self._refusals.get(record.pk, 0) + 1
        if any(self._refusals[record.pk] >= SEND_ATTEMPTS for _, record in refused):
            report.stopped.add(workspace)
            queue.clear()
        else:
            queue.extendleft(reversed(refused))
        if not queue:
            del self._queues[workspace]


def _first_place(queue: deque[tuple[int, Unsent]]) -> int:
    return queue[0][0]


def entries(batch: Sequence[Unsent], bus: str) -> list[dict[str, Any]]:
    return [
        {
            "Source": SOURCE,
            "DetailType": record.detail_type,
            "Detail": record.detail,
            # A datetime, which boto3 sends as it is: a string it parses with dateutil, twice
            # an entry (its check and its request), some 0.13 ms of CPU an entry.
            "Time": datetime.fromisoformat(record.time),
            "EventBusName": bus,
        }
        for record in batch
    ]


def drain_cycle(
    *,
    pool: Any,
    client: EventsClient,
    bus: str,
    report: DrainReport,
    time_left_ms: Callable[[], int] = lambda: 1 << 62,
    limit: int = CYCLE_RECORDS,
    per_workspace: int = PER_WORKSPACE,
) -> int:
    """One cycle; answers how many records it read (0: nothing behind the horizon, or busy).

    A ``PutEvents`` call that raises ends the cycle: what was accepted before it is marked,
    then the error goes on (the run fails, and alarms).
    """
    answer = _locked_read(read_script(limit=limit, stopped=sorted(report.stopped)), pool)
    if answer is None:
        report.busy = True
        return 0
    sends = Sends([Unsent._make(row) for row in answer["unsent"]], per_workspace)
    try:
        while batch := sends.next_batch():
            report.calls += 1
            answers = client.put_events(Entries=entries(batch, bus))["Entries"]
            sends.record_answers(batch, answers, report)
            if time_left_ms() < SEND_BUDGET_MS:
                break
    finally:
        mark(sends.accepted, pool=pool)
        report.sent += len(sends.accepted)
    report.cycles += 1
    return len(answer["unsent"])


def _locked_read(script: Script, pool: Any) -> dict[str, list[list[Any]]] | None:
    """The cycle's first round trip, its answer by part; None when another session holds the
    drainers' lock (its transaction is then rolled back).

    That session is another drainer, or one that holds the lock past what its role allows
    (only a session that turned its own timeouts off can): that one is ended and the lock
    asked for once more.
    """
    for _ in range(2):
        # Its transaction opened as every transaction is (its settings first:
        # core_api.set_transaction_settings()), and left open for the mark.
        rows = connections.in_transaction(script.statements, retry=False, pool=pool, commit=False)
        answer = script.split(rows)
        if answer["lock"][0][0]:
            return answer
        connections.execute([ROLLBACK], retry=False, pool=pool)
        if not connections.end_stalled_sessions(pool):
            return None
    return None


def drain(
    *,
    pool: Any,
    client: EventsClient,
    bus: str,
    time_left_ms: Callable[[], int] = lambda: 1 << 62,
    limit: int = CYCLE_RECORDS,
    per_workspace: int = PER_WORKSPACE,
) -> DrainReport:
    """Drain while there are records behind the horizon and the invocation has time.

    First, once a run, the sessions that outlived their role's timeouts are ended: a
    transaction left open holds the horizon back and takes no lock the drainer would notice.
    """
    report = DrainReport()
    connections.end_stalled_sessions(pool)
    while time_left_ms() >= CYCLE_BUDGET_MS:
        read = drain_cycle(
            pool=pool,
            client=client,
            bus=bus,
            report=report,
            time_left_ms=time_left_ms,
            limit=limit,
            per_workspace=per_workspace,
        )
        if read < limit:
            break
    return report


def oldest_unsent_seconds(*, pool: Any = None) -> float:
    """How long the first unsent record, in order, has waited since it was recorded (0 when
    every record is sent): what the drainer's alarm watches."""
    rows = connections.in_transaction([OLDEST_UNSENT], pool=pool)
    return float(rows[0][0])


OLDEST_UNSENT = BoundStatement(
    """SELECT coalesce((
    SELECT extract(epoch FROM clock_timestamp() - recorded_at)
    FROM core_api.change_records WHERE sent_at IS NULL ORDER BY xid, pk LIMIT 1
), 0)::float8"""
)


def event_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The detail of an entry as a consumer reads it (tests, the local bus)."""
    detail: dict[str, Any] = json.loads(entry["Detail"])
    return detail


__all__ = [
    "CYCLE_RECORDS",
    "DETAIL_VERSION",
    "PER_WORKSPACE",
    "PUT_EVENTS_BYTES",
    "PUT_EVENTS_ENTRIES",
    "SEND_ATTEMPTS",
    "SOURCE",
    "DrainReport",
    "EventsClient",
    "Sends",
    "Unsent",
    "drain",
    "drain_cycle",
    "entries",
    "mark",
    "mark_statements",
    "oldest_unsent_seconds",
    "read_script",
]
