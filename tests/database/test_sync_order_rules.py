"""Each delivery the ledger must survive, as issue #28 listed them, and each rule made for it.

Messages arrive through the real sync handler (Lambda SQS events), one batch at a time, in the
order a standard queue might deliver them; the ledgers are read back through the admin
connection. ``tests/database/test_sync_order_property.py`` generates such sequences; these are
the named cases, each with the state the rule promises.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support.api import Lambda
from wellapi.errors import DatabaseUnavailable
from wellapi.handlers.sync import sync_handler
from wellapi.store import connections as db
from wellapi.sync import sweeper
from wellapi.sync.ledgers import LEDGERS
from welldev import database as local_db
from welldev.database import LocalDatabase

handler = sync_handler()
# The sync function's timeout (template/sync.yaml): a fresh invocation has all of it.
SYNC_TIMEOUT_MS = 120_000


def deliver(*bodies: dict[str, Any]) -> list[str]:
    """One batch of ``bodies``; the indexes of the records the function reports failed."""
    event = sqs.event(*bodies)
    failed = set(sqs.failed_ids(handler(event, Lambda(remaining_ms=SYNC_TIMEOUT_MS))))
    return [str(i) for i, m in enumerate(sqs.message_ids(event)) if m in failed]


def deliver_each(*bodies: dict[str, Any]) -> None:
    """Each body in a batch of its own, in this order; every one is applied."""
    for body in bodies:
        assert deliver(body) == [], body


@pytest.fixture
def tenant(api_database: LocalDatabase, admin: Connection) -> f.Tenant:
    return f.tenant(admin)


def links(admin: Connection, tenant: f.Tenant) -> list[s.Link]:
    return s.ledger(admin, tenant.workspace_connector_pk)


# --- the table of the issue, row by row ---------------------------------------------------


def test_a_link_older_than_an_applied_unlink_never_becomes_live(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    wc = tenant.workspace_connector_id

    deliver_each(
        s.unlinked(wc, [account_id], occurred_at=s.at(60)),  # 12:00
        s.linked(wc, [account_id], occurred_at=s.at(0)),  # 11:00, later
    )

    assert links(admin, tenant) == [s.Link("account", account_pk, "input", False)]


def test_a_link_older_than_its_connectors_revocation_never_becomes_live(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    wc = tenant.workspace_connector_id

    deliver_each(
        s.revoked(wc, occurred_at=s.at(120)),  # 13:00
        s.linked(wc, [account_id], occurred_at=s.at(119)),  # 12:59, later
    )
    s.sweep()

    assert links(admin, tenant) == [s.Link("account", account_pk, "input", False)]


def test_a_key_another_tenant_used_is_applied_for_this_one(admin: Connection) -> None:
    acme, other = f.tenant(admin), f.tenant(admin)
    acme_pk, acme_account = acme.account()
    other_pk, other_account = other.account()
    key = "run-42/accounts/1"

    assert (
        deliver(s.linked(other.workspace_connector_id, [other_account], idempotency_key=key)) == []
    )
    assert deliver(s.linked(acme.workspace_connector_id, [acme_account], idempotency_key=key)) == []

    assert links(admin, acme) == [s.Link("account", acme_pk, "input", True)]
    assert links(admin, other) == [s.Link("account", other_pk, "input", True)]


def test_a_revocation_in_a_batch_with_another_tenants_message_costs_neither_a_statement_per_row(
    admin: Connection, tenant: f.Tenant
) -> None:
    # The revocation records the connector; its rows are swept after, in bounded steps.
    s.sweep_what_others_left()  # so that the sweep below is this revocation's alone
    other = f.tenant(admin)
    other_pk, other_account = other.account()
    records = s.records(admin, tenant, "account", 250)
    admin.run(
        "INSERT INTO core_api.account_workspace_connectors "
        "(account_pk, workspace_connector_pk, direction) "
        "SELECT unnest(CAST(:pks AS bigint[])), :wc, 'input'",
        pks=[pk for pk, _ in records],
        wc=tenant.workspace_connector_pk,
    )

    assert (
        deliver(
            s.revoked(tenant.workspace_connector_id),
            s.linked(other.workspace_connector_id, [other_account]),
        )
        == []
    )

    # Recorded, not yet swept: every row is still physically live, and hidden from reads.
    assert len(s.live(admin, tenant.workspace_connector_pk)) == 250
    assert links(admin, other) == [s.Link("account", other_pk, "input", True)]
    report = s.sweep(rows=100)
    # Three steps of the account ledger's inputs, one for each other ledger and direction.
    steps = 3 + (2 * len(LEDGERS) - 1)
    assert (report.rows, report.steps, report.revocations_done) == (250, steps, 1)
    assert s.live(admin, tenant.workspace_connector_pk) == []


# --- the rules made for them --------------------------------------------------------------


def test_a_link_after_its_connectors_revocation_is_refused_every_time(
    admin: Connection, tenant: f.Tenant
) -> None:
    _, account_id = tenant.account()
    wc = tenant.workspace_connector_id
    late = s.linked(wc, [account_id], occurred_at=s.at(1))

    assert deliver(s.revoked(wc)) == []
    assert deliver(late) == ["0"]
    assert deliver(late) == ["0"]  # judged again: it left no receipt

    assert links(admin, tenant) == []
    assert s.receipts(admin, [late["idempotency_key"]]) == []


def test_a_link_older_than_35_days_is_refused_as_stale(admin: Connection, tenant: f.Tenant) -> None:
    _, account_id = tenant.account()
    stale = s.linked(tenant.workspace_connector_id, [account_id], occurred_at=s.at(-36 * 24 * 60))

    assert deliver(stale) == ["0"]
    assert links(admin, tenant) == []


def test_an_unlink_removes_only_rows_that_occurred_at_or_before_it(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    wc = tenant.workspace_connector_id
    deliver_each(*(s.linked(wc, [account_id], occurred_at=s.at(t)) for t in (0, 10, 20)))

    deliver_each(s.unlinked(wc, [account_id], occurred_at=s.at(10)))

    assert links(admin, tenant) == [
        s.Link("account", account_pk, "input", False),
        s.Link("account", account_pk, "input", False),
        s.Link("account", account_pk, "input", True),
    ]


def test_the_latest_unlink_is_the_tombstone_whatever_order_they_arrive_in(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    wc = tenant.workspace_connector_id
    deliver_each(
        s.unlinked(wc, [account_id], occurred_at=s.at(30)),
        s.unlinked(wc, [account_id], occurred_at=s.at(10)),
    )

    deliver_each(s.linked(wc, [account_id], occurred_at=s.at(20)))  # before 30

    assert links(admin, tenant) == [s.Link("account", account_pk, "input", False)]


def test_tombstones_are_pruned_only_when_no_accepted_link_can_be_older(
    admin: Connection, tenant: f.Tenant
) -> None:
    (old_pk, old_id), (young_pk, young_id), (_, linked_id) = s.records(admin, tenant, "account", 3)
    wc = tenant.workspace_connector_id
    # Unlinks are applied at any age; their tombstones are kept 36 days.
    deliver_each(
        s.unlinked(wc, [old_id], occurred_at=s.at(-37 * 24 * 60)),
        s.unlinked(wc, [young_id], occurred_at=s.at(-34 * 24 * 60)),
    )

    # Every batch prunes: this one deletes the tombstone no accepted link can be older than.
    assert deliver(s.linked(wc, [linked_id])) == []

    kept = admin.run(
        "SELECT record_pk FROM core_api.sync_tombstones WHERE workspace_connector_pk = :c",
        c=tenant.workspace_connector_pk,
    )
    assert [int(r[0]) for r in kept] == [young_pk]
    assert old_pk != young_pk


# --- the sweep ----------------------------------------------------------------------------


def _revoked_with_rows(admin: Connection, tenant: f.Tenant, count: int) -> None:
    records = s.records(admin, tenant, "account", count)
    admin.run(
        "INSERT INTO core_api.account_workspace_connectors "
        "(account_pk, workspace_connector_pk, direction) "
        "SELECT unnest(CAST(:pks AS bigint[])), :wc, 'input'",
        pks=[pk for pk, _ in records],
        wc=tenant.workspace_connector_pk,
    )
    assert deliver(s.revoked(tenant.workspace_connector_id)) == []


def _parts_of(tenant: f.Tenant) -> list[sweeper.SweepPart]:
    return [
        p
        for p in sweeper.pending_parts(pool=db.get_pool("sync"))
        if p.workspace_connector_pk == tenant.workspace_connector_pk
    ]


def test_a_sweep_cut_off_mid_step_loses_nothing_and_soft_deletes_each_row_once(
    api_database: LocalDatabase, admin: Connection, tenant: f.Tenant
) -> None:
    _revoked_with_rows(admin, tenant, 30)
    (part,) = [p for p in _parts_of(tenant) if (p.record_type, p.direction) == ("account", "input")]
    pool = db.get_pool("sync")
    assert sweeper.run_step(part, pool=pool, rows=10).rows == 10

    # The next step waits on a row held by another transaction; its backend is killed there.
    locker = local_db.admin_connection(api_database.admin_url)
    locker.run("BEGIN")
    locker.run(
        "SELECT 1 FROM core_api.account_workspace_connectors WHERE workspace_connector_pk = :c "
        "AND deleted_at IS NULL ORDER BY pk DESC LIMIT 1 FOR UPDATE",
        c=tenant.workspace_connector_pk,
    )
    killed = threading.Event()

    def kill_the_waiting_step() -> None:
        watcher = local_db.admin_connection(api_database.admin_url)
        try:
            for _ in range(3000):  # only bounds a hang
                waiting = watcher.run(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND usename = 'well_sync' AND wait_event_type = 'Lock'"
                )
                if waiting:
                    watcher.run("SELECT pg_terminate_backend(:p)", p=waiting[0][0])
                    killed.set()
                    return
                threading.Event().wait(0.02)
        finally:
            watcher.close()

    thread = threading.Thread(target=kill_the_waiting_step)
    thread.start()
    with pytest.raises(DatabaseUnavailable):
        sweeper.run_step(part, pool=pool, rows=100)
    thread.join(60)
    locker.run("ROLLBACK")
    locker.close()
    assert killed.is_set()

    s.sweep()

    assert s.live(admin, tenant.workspace_connector_pk) == []
    ((rows_swept, once),) = admin.run(
        "SELECT r.rows_swept, count(DISTINCT l.deleted_at) = 1 "
        "FROM core_api.connector_revocations r JOIN core_api.account_workspace_connectors l "
        "ON l.workspace_connector_pk = r.workspace_connector_pk "
        "WHERE r.workspace_connector_pk = :c GROUP BY r.rows_swept",
        c=tenant.workspace_connector_pk,
    )
    assert rows_swept == 30
    assert once is True  # every row soft-deleted at the revocation's time, by one step


def test_a_sweep_step_in_progress_never_blocks_another_connectors_batch(
    api_database: LocalDatabase, admin: Connection, tenant: f.Tenant
) -> None:
    _revoked_with_rows(admin, tenant, 5)
    other = f.tenant(admin)
    other_pk, other_account = other.account()
    # A sweep step of the revoked connector, holding its lock in an open transaction.
    holder = local_db.admin_connection(api_database.admin_url)
    holder.run("BEGIN")
    holder.run("SELECT pg_advisory_xact_lock(:c)", c=tenant.workspace_connector_pk)
    try:
        assert deliver(s.linked(other.workspace_connector_id, [other_account])) == []
    finally:
        holder.run("ROLLBACK")
        holder.close()
    assert links(admin, other) == [s.Link("account", other_pk, "input", True)]
