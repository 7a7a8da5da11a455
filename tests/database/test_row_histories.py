"""A consumer ends where the rows are (docs/changes.md, "The order"), whatever the concurrency.

Requests race on the same rows: selects with and without an ``Idempotency-Key``, PATCHes,
removals, enrolments and unenrolments (a member), ledger creates and deletes (a service) and
sync batches that link and unlink. Each runs on a connection of its own, in a thread of its
own; a transaction holding the rows' locks makes them queue, in the order hypothesis draws,
with their ids taken before or after they wait. Applying each row's records by the consumer's
rule (a record only when its ``sequence`` is larger than the last one applied to the row), in
the feed's order and in the events' ``position`` order, ends with every row as it is.

The issue's race is kept as a regression test: a select with an ``Idempotency-Key`` takes its
transaction id, then waits for the row a PATCH is changing; the PATCH commits first. The feed
lists the select's record first (``(xid, pk)``), and its ``sequence`` says it came second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pg8000.native
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from tests.database.test_change_drainer import BUS, REGION, Consumer
from tests.database.test_changes_feed import every_page
from tests.support import factories as f
from tests.support import histories, sqs
from tests.support import sync as s
from tests.support import writes as w
from tests.support.api import Lambda, Reply
from tests.support.proven import SignedScope
from tests.support.tenancy import settled
from wellapi.handlers import drain as drain_handler
from wellapi.handlers.sync import sync_handler
from wellapi.roles import API_ROLE, DRAIN_ROLE
from wellapi.store import connections as db
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

LEDGER = "account_workspace_connectors"
WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock'"
)


@pytest.fixture
def own_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each thread its own connection of each role, as each Lambda environment has (closed
    when the thread ends, ``Racing.run``)."""
    made: list[db.Pool] = []

    def get_pool(role: str = "api") -> db.Pool:
        pools: dict[str, db.Pool] = THREAD_POOLS.__dict__.setdefault("pools", {})
        role = db._pool_role(role)
        if role not in pools:
            pools[role] = db.build_pool(db.settings_for(role))
            made.append(pools[role])
        return pools[role]

    monkeypatch.setattr(db, "get_pool", get_pool)
    yield
    for pool in made:
        pool.dispose()


# The pools own_connections made for the thread that runs: a test of many racing threads
# would otherwise hold a connection per thread and role until its end, and with another
# worker's tests beside it run the server out of connection slots.
THREAD_POOLS = threading.local()


def release_own_connections() -> None:
    """Close the connections this thread opened through own_connections, as an environment's
    end closes its own."""
    for pool in THREAD_POOLS.__dict__.pop("pools", {}).values():
        pool.dispose()


LOOKUP = threading.Lock()


@dataclass
class World:
    """One workspace's rows the requests race on."""

    admin: pg8000.native.Connection
    tenant: f.Tenant
    providers: list[UUID]
    group: UUID
    records: list[UUID]
    # The authorizer's answers, made once: a request's thread must not share ``admin``.
    member: dict[str, str]
    service: dict[str, str]
    api_url: str

    def live(self, table: str, where: str, **params: Any) -> str | None:
        """The live row's id, as committed now (requests' threads share ``admin``, in turn)."""
        with LOOKUP:
            rows = self.admin.run(
                f"SELECT {table[:-1]}_id::text FROM core_api.{table} WHERE {where} "
                "AND deleted_at IS NULL",
                **params,
            )
        return str(rows[0][0]) if rows else None

    def live_ledger_row(self, record: int) -> str | None:
        return self.live(
            LEDGER,
            "account_pk = (SELECT pk FROM core_api.accounts WHERE account_id = :r) "
            "AND workspace_connector_pk = :c",
            r=str(self.records[record]),
            c=self.tenant.workspace_connector_pk,
        )

    def lock_every_live_row(self, conn: pg8000.native.Connection) -> None:
        conn.run("BEGIN")
        w_pk, c_pk = self.tenant.workspace_pk, self.tenant.workspace_connector_pk
        for table, where in (
            ("workspace_providers", f"workspace_pk = {w_pk}"),
            ("workspace_group_workspaces", f"workspace_pk = {w_pk}"),
            (LEDGER, f"workspace_connector_pk = {c_pk}"),
        ):
            conn.run(
                f"SELECT 1 FROM core_api.{table} WHERE {where} AND deleted_at IS NULL FOR UPDATE"
            )


def world(admin: pg8000.native.Connection, database: local_db.LocalDatabase) -> World:
    t = f.tenant(admin)
    providers = []
    for selected in (True, False):
        provider_pk, provider_id = f.provider(admin)
        f.workspace_provider(admin, t.workspace_pk, provider_pk, selected=selected)
        providers.append(provider_id)
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "owner")
    f.enrol(admin, group_pk, t.workspace_pk)
    records = [t.account()[1] for _ in range(2)]
    f.provenance(admin, LEDGER, t.account()[0], t.workspace_connector_pk)
    member, service = t.claims("member"), t.claims("service")
    return World(
        admin, t, providers, group_id, records, member, service, database.url_for(API_ROLE)
    )


def _key(idempotent: bool) -> dict[str, Any]:
    return {"headers": {"idempotency-key": str(uuid4())}} if idempotent else {}


# An operation: how to make its request once the world exists, in its thread (its place in
# the order it was started in, and when a deferred one may go on).
Request = Callable[[World, "Racing"], Reply | None]


def select(provider: int, idempotent: bool, selected: bool) -> Request:
    def request(world: World, _: Racing) -> Reply:
        body = w.provider_document(
            None, world.providers[provider], is_selected=selected, is_matched=True
        )
        return w.select(world.member, world.tenant.workspace_id, body, **_key(idempotent))

    return request


def patch(provider: int, selected: bool, matched: bool) -> Request:
    def request(world: World, _: Racing) -> Reply | None:
        row = world.live(
            "workspace_providers",
            "provider_pk = (SELECT pk FROM core_api.providers WHERE provider_id = :p) "
            "AND workspace_pk = :w",
            p=str(world.providers[provider]),
            w=world.tenant.workspace_pk,
        )
        if row is None:
            return None
        attributes = {"is_selected": selected, "is_matched": matched or selected}
        body = w.document("workspace_provider", row_id=row, attributes=attributes)
        return w.patch("workspace_providers", world.member, row, body)

    return request


def remove(provider: int) -> Request:
    def request(world: World, _: Racing) -> Reply:
        return w.remove(world.member, world.tenant.workspace_id, world.providers[provider])

    return request


def enrol(idempotent: bool) -> Request:
    def request(world: World, _: Racing) -> Reply:
        body = w.enrolment_document(None, world.tenant.workspace_id)
        return w.enrol(world.member, world.group, body, **_key(idempotent))

    return request


def unenrol() -> Request:
    def request(world: World, _: Racing) -> Reply:
        return w.unenrol(world.member, world.group, world.tenant.workspace_id)

    return request


def create_ledger_row(record: int, idempotent: bool) -> Request:
    def request(world: World, _: Racing) -> Reply:
        body = w.provenance_document(
            LEDGER, world.records[record], world.tenant.workspace_connector_id
        )
        return w.post(LEDGER, world.service, body, **_key(idempotent))

    return request


def delete_ledger_row(record: int) -> Request:
    def request(world: World, _: Racing) -> Reply | None:
        row = world.live_ledger_row(record)
        return None if row is None else w.delete(LEDGER, world.service, row)

    return request


def sync_batch(records: tuple[int, ...], link: bool) -> Request:
    def request(world: World, thread: Racing) -> None:
        message = s.linked if link else s.unlinked
        body = message(
            world.tenant.workspace_connector_id,
            [world.records[r] for r in records],
            occurred_at=s.at(thread.order),
        )
        # A batch that fails (a lock it waited for too long) goes back to its queue: whatever
        # it did is rolled back, which the histories must show too.
        sync_handler()(sqs.event(body), Lambda(remaining_ms=60_000))

    return request


def by_hand(provider: int, selected: bool, matched: bool) -> Request:
    """A member's own SQL, as the API role with its proven scope: it takes its transaction id
    when it starts, and changes the row only once every other request has started (so it
    queues last for the row's lock, behind transactions with larger ids)."""

    def request(world: World, thread: Racing) -> None:
        conn = local_db.admin_connection(world.api_url)
        try:
            SignedScope.of(world.member).open(conn, "SELECT pg_current_xact_id()")
            thread.go.wait(30)
            conn.run(
                "UPDATE core_api.workspace_providers SET is_selected = :s, is_matched = :m "
                "WHERE workspace_pk = :w AND deleted_at IS NULL "
                "AND provider_pk = (SELECT pk FROM core_api.providers WHERE provider_id = :p)",
                s=selected,
                m=matched or selected,
                w=world.tenant.workspace_pk,
                p=str(world.providers[provider]),
            )
            conn.run("COMMIT")
        finally:
            conn.close()

    request.deferred = True  # type: ignore[attr-defined]
    return request


RECORD = st.integers(0, 1)
OPERATIONS = st.one_of(
    st.builds(select, st.integers(0, 1), st.booleans(), st.booleans()),
    st.builds(patch, st.integers(0, 1), st.booleans(), st.booleans()),
    st.builds(remove, st.integers(0, 1)),
    st.builds(enrol, st.booleans()),
    st.builds(unenrol),
    st.builds(create_ledger_row, RECORD, st.booleans()),
    st.builds(delete_ledger_row, RECORD),
    st.builds(
        sync_batch, st.lists(RECORD, min_size=1, max_size=2, unique=True).map(tuple), st.booleans()
    ),
)


class Racing(threading.Thread):
    """One request on a connection of its own."""

    def __init__(self, world: World, request: Request, order: int) -> None:
        super().__init__(daemon=True)
        self.world, self.request, self.order = world, request, order
        self.deferred = bool(getattr(request, "deferred", False))
        self.go = threading.Event()
        self.reply: Reply | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.reply = self.request(self.world, self)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
        finally:
            release_own_connections()


def waiting(conn: pg8000.native.Connection) -> int:
    return int(conn.run(WAITING)[0][0])


def go_on_when_queued(
    watcher: pg8000.native.Connection, thread: Racing, step: Callable[[], None]
) -> None:
    """Take ``step`` of ``thread``, and return once it ended or waits for a lock (a deferred
    thread once it has taken its id and waits to go on)."""
    before = waiting(watcher)
    step()
    deadline = time.monotonic() + 0.5
    while thread.is_alive() and waiting(watcher) <= before and time.monotonic() < deadline:
        time.sleep(0.002)


def race(
    database: local_db.LocalDatabase, world: World, requests: list[Request], held: bool
) -> list[Racing]:
    """Start the requests one after another, each once the one before it finished or waits
    for a lock; with ``held``, behind a transaction that holds every live row's lock until
    all have started."""
    holder = local_db.admin_connection(database.admin_url)
    watcher = local_db.admin_connection(database.admin_url)
    try:
        if held:
            world.lock_every_live_row(holder)
        started = [Racing(world, request, order) for order, request in enumerate(requests)]
        for thread in started:
            go_on_when_queued(watcher, thread, thread.start)
        for thread in started:
            if thread.deferred:
                go_on_when_queued(watcher, thread, thread.go.set)
        if held:
            holder.run("COMMIT")
        for thread in started:
            thread.join(60)
        return started
    finally:
        holder.close()
        watcher.close()


def assert_answered(threads: list[Racing]) -> None:
    for thread in threads:
        assert not thread.is_alive(), "a request never ended"
        if thread.error is not None:
            raise thread.error
        if thread.reply is not None:
            # 503: a lock waited for past the role's lock_timeout, or a deadlock; retry later.
            assert thread.reply.status < 500 or thread.reply.status == 503, thread.reply.body


def events_of(database: local_db.LocalDatabase, workspace_id: UUID) -> list[histories.Record]:
    """The drainer's events of the workspace, through moto's EventBridge, by ``position``."""
    url = database.url_for(DRAIN_ROLE)
    pool = db.build_pool(db.replace_settings(db.settings_for("api"), database_url=url))
    try:
        with mock_aws():
            consumer = Consumer()
            drain_handler.drain_once(
                pool=pool, client=consumer.events, bus=BUS, time_left_ms=lambda: 1 << 40
            )
            details = [e["detail"] for e in consumer.received()]
    finally:
        pool.dispose()
    mine = sorted(
        (d for d in details if d["workspace_id"] == str(workspace_id)),
        key=lambda d: d["position"],
    )
    return [histories.from_event(d) for d in mine]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)


def assert_consumers_end_where_the_rows_are(
    admin: pg8000.native.Connection, database: local_db.LocalDatabase, world: World
) -> None:
    settled(admin)  # a record is read once every older transaction has ended
    rows = histories.rows_of(admin, world.tenant.workspace_pk)
    feed = [histories.from_feed(r) for r in every_page(world.member)]
    assert feed == histories.stored(admin, world.tenant.workspace_pk)
    assert histories.disagreements(histories.replay(feed), rows) == {}
    events = events_of(database, world.tenant.workspace_id)
    assert sorted(e.sequence for e in events) == sorted(r.sequence for r in feed)
    assert histories.disagreements(histories.replay(events), rows) == {}


def sent_already(admin: pg8000.native.Connection) -> None:
    """What other tests of this database recorded is not this test's to drain."""
    admin.run("UPDATE core_api.change_records SET sent_at = now() WHERE sent_at IS NULL")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests=st.lists(OPERATIONS, min_size=2, max_size=7), held=st.booleans())
# Always: a transaction with the smaller id changes the row after one with a larger id.
@example(requests=[by_hand(0, False, False), patch(0, False, True)], held=True)
@example(
    requests=[by_hand(1, False, False), select(1, True, True), sync_batch((0,), True)], held=False
)
def test_a_consumer_ends_where_the_rows_are_whatever_the_requests_race(
    admin, database, own_connections, aws, requests, held
):
    sent_already(admin)
    racing = world(admin, database)
    assert_answered(race(database, racing, requests, held))
    assert_consumers_end_where_the_rows_are(admin, database, racing)


def test_a_select_with_a_key_racing_a_patch_over_http_ends_where_the_row_is(
    admin, database, own_connections, aws
):
    """The issue's race, as it was found: a select with an ``Idempotency-Key`` and a PATCH of
    the same live row, sent together, many times (81 of 190 pairs ended wrong before)."""
    sent_already(admin)
    racing = world(admin, database)
    for n in range(40):
        pair = [select(0, True, True), patch(0, selected=False, matched=n % 2 == 0)]
        threads = [Racing(racing, request, order) for order, request in enumerate(pair)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert_answered(threads)
    assert_consumers_end_where_the_rows_are(admin, database, racing)


def test_a_change_that_took_its_id_before_waiting_is_listed_first_and_applied_second(
    admin, database, aws
):
    """The mechanism, step by step: the first transaction takes its id (a select claiming its
    key does), the second changes the row and commits, the first changes it after."""
    sent_already(admin)
    racing = world(admin, database)
    scope = SignedScope.of(racing.member)
    provider = racing.providers[0]
    row = f"provider_pk = (SELECT pk FROM core_api.providers WHERE provider_id = '{provider}')"
    first, second = (local_db.admin_connection(database.url_for(API_ROLE)) for _ in range(2))
    try:
        scope.open(first, "SELECT pg_current_xact_id()")
        scope.open(
            second,
            f"UPDATE core_api.workspace_providers SET is_selected = false WHERE {row}",
        )
        waiting_update = Racing(
            racing,
            lambda *_: first.run(
                f"UPDATE core_api.workspace_providers SET is_selected = true WHERE {row}"
            ),
            0,
        )
        waiting_update.start()
        while waiting(admin) == 0:
            time.sleep(0.002)
        second.run("COMMIT")
        waiting_update.join(60)
        first.run("COMMIT")
    finally:
        first.close()
        second.close()
    assert waiting_update.error is None

    records = histories.stored(admin, racing.tenant.workspace_pk)
    (patched,) = [r for r in records if r.change == "changed" and not r.detail["is_selected"]]
    (selected,) = [r for r in records if r.change == "changed" and r.detail["is_selected"]]
    # Listed in the order the transactions took their ids; applied by sequence.
    assert records.index(selected) < records.index(patched)
    assert selected.sequence > patched.sequence
    assert histories.rows_of(admin, racing.tenant.workspace_pk)[selected.ids[0]] == (
        "live",
        True,
        True,
    )
    assert_consumers_end_where_the_rows_are(admin, database, racing)
