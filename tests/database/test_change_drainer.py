"""The EventBridge drainer (wellapi.sync.drainer, docs/changes.md "Events"): every change record
is published once, in commit order per workspace, with a stable event id, and marked sent.

Against moto's EventBridge (a rule on the bus that delivers to an SQS queue, which the test
reads as a consumer would): the events the drainer emits validate against the published JSON
Schema, carry what the record says, and a crash between the send and the mark sends the same
events again, never loses one. Against a client that fails as told (a hypothesis property):
over random sequences of records, partial failures, failed calls and crashes between send and
mark, no record is lost, none is marked sent unless EventBridge accepted it, and each
workspace's events, after dropping repeated event ids, arrive in commit order.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def insert_records(admin: pg8000.native.Connection, workspace_pk: int, count: int) -> list[int]:
    """``count`` records of a workspace, each in its own transaction (its own xid)."""
    pks = []
    for n in range(count):
        rows = admin.run(
            "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
            "detail, occurred_at, actor_kind, sync_run_id, message_key) VALUES (:w, "
            "'account_workspace_connector', 'linked', ARRAY[gen_random_uuid()], '{}'::jsonb, "
            "now(), 'sync', 'run-1', :k) RETURNING pk",
            w=workspace_pk,
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
    xid, ids, recorded = admin.run(
        "SELECT xid::text, ids::text[], recorded_at FROM core_api.change_records WHERE pk = :p",
        p=pk,
    )[0]

    drain_handler.drain_once(pool=pool, client=consumer.events, bus=BUS, time_left_ms=forever)

    (event,) = consumer.received()
    assert event["source"] == "well.junctions"
    assert event["detail-type"] == "account_workspace_connector.linked"
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


# ---- over random failures (a hypothesis property) ----------------------------------------------


class Crash(BaseException):
    """The drainer's function dies: nothing after this point runs, its connection goes."""


class FailingBus:
    """An EventBridge that fails as the plan says, call after call, and remembers what it
    accepted in the order it accepted it (what consumers get)."""

    def __init__(self, plan: list[tuple[str, int]]) -> None:
        self.plan = plan
        self.calls = 0
        self.delivered: list[dict[str, Any]] = []
        self.crash_before_mark = False

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        fault, seed = self.plan[self.calls] if self.calls < len(self.plan) else ("ok", 0)
        self.calls += 1
        if fault == "raise":
            raise ConnectionError("EventBridge did not answer")
        answers = []
        for n, entry in enumerate(Entries):
            if fault == "refuse" and (seed >> n) & 1:
                answers.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                self.delivered.append(json.loads(entry["Detail"]))
                answers.append({"EventId": f"e-{len(self.delivered)}"})
        if fault == "crash":
            self.crash_before_mark = True
        return {"FailedEntryCount": sum("ErrorCode" in a for a in answers), "Entries": answers}


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
    counts=st.lists(st.integers(0, 6), min_size=1, max_size=4),
    order=st.randoms(use_true_random=False),
    plan=FAULTS,
    limit=st.integers(1, 12),
)
def test_no_record_is_lost_and_each_workspace_arrives_in_commit_order_whatever_fails(
    admin, pool, tenants, monkeypatch, counts, order, plan, limit
):
    all_sent(admin)
    # The records of up to four workspaces, interleaved, each in its own transaction.
    turns = [n for n, count in enumerate(counts) for _ in range(count)]
    order.shuffle(turns)
    written = [(n, insert_records(admin, tenants[n].workspace_pk, 1)[0]) for n in turns]
    settled(admin)
    bus = FailingBus(plan)
    real_mark = drainer.mark

    def mark(pks: list[int], *, pool: db.Pool) -> None:
        if bus.crash_before_mark:
            bus.crash_before_mark = False
            pool.dispose()
            raise Crash
        real_mark(pks, pool=pool)

    monkeypatch.setattr(drainer, "mark", mark)
    runs = 0
    while unsent(admin, [pk for _, pk in written]) and runs < 50:
        runs += 1
        with contextlib.suppress(Crash, ConnectionError):
            drainer.drain(pool=pool, client=bus, bus=BUS, time_left_ms=forever, limit=limit)
        # Nothing is marked sent that EventBridge did not accept.
        delivered = {int(d["event_id"].split("-")[1]) for d in bus.delivered}
        marked = {pk for _, pk in written} - set(unsent(admin, [pk for _, pk in written]))
        assert marked <= delivered

    assert unsent(admin, [pk for _, pk in written]) == []
    for n, t in enumerate(tenants[: len(counts)]):
        seen = [d for d in bus.delivered if d["workspace_id"] == str(t.workspace_id)]
        first = list(dict.fromkeys(d["event_id"] for d in seen))
        assert [int(i.split("-")[1]) for i in first] == [pk for m, pk in written if m == n]
        positions = [d["position"] for d in seen]
        assert sorted(dict.fromkeys(positions)) == list(dict.fromkeys(positions))


@pytest.fixture(scope="module")
def tenants(database: local_db.LocalDatabase) -> list[f.Tenant]:
    conn = local_db.admin_connection(database.admin_url)
    try:
        return [f.tenant(conn) for _ in range(4)]
    finally:
        conn.close()
