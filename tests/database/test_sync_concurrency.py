"""Sync batches for the same connector at the same time, on real concurrent connections.

Each batch runs in a process of its own, with its own sync connection, as it would in a Lambda
execution environment of its own (``tests/support/environments.py``). To make the overlap
certain rather than likely, the test holds a lock on a ledger table until every batch is
waiting inside its transaction (seen in ``pg_stat_activity``), then lets them all go at once;
two batches given to one process would never wait together, and the test would fail.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from pg8000.native import Connection

from tests.support import environments, sqs
from tests.support import factories as f
from tests.support import sync as s
from wellapi.handlers.sync import process
from wellapi.store import connections as db
from wellapi.sync.batches import Applied, apply, check, resolve
from wellapi.sync.messages import parse_message
from welldev import database as local_db
from welldev.database import LocalDatabase

ENVIRONMENTS = 4


@pytest.fixture
def pools(api_database: LocalDatabase) -> Iterator[ProcessPoolExecutor]:
    with environments.processes(ENVIRONMENTS) as executor:
        yield executor


def write(bodies: Sequence[dict[str, Any]]) -> list[Applied]:
    """What the handler does with a batch of valid messages, on the environment's connection."""
    pool = db.get_pool("sync")
    messages = [parse_message(json.dumps(b)) for b in bodies]
    resolution = resolve(messages, pool=pool)
    return apply([check(m, resolution) for m in messages], pool=pool)


@contextmanager
def released_together(
    database: LocalDatabase, table: str | tuple[str, ...], waiters: int
) -> Iterator[None]:
    """Hold ``table`` (or each of several) until ``waiters`` sync backends wait on a lock (a
    table's, or another batch's: a connector's advisory lock, a receipt), then release it."""
    locker = local_db.admin_connection(database.admin_url)
    # Activity is read outside the locker's transaction, which would see one frozen snapshot.
    watcher = local_db.admin_connection(database.admin_url)
    locker.run("BEGIN")
    for name in (table,) if isinstance(table, str) else table:
        locker.run(f"LOCK TABLE core_api.{name} IN SHARE MODE")
    try:
        yield
        deadline = time.monotonic() + 60  # only bounds a hang
        while True:
            (waiting,) = watcher.run(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND usename = 'well_sync' AND wait_event_type = 'Lock'"
            )[0]
            if waiting >= waiters:
                break
            assert time.monotonic() < deadline, f"only {waiting} of {waiters} batches waiting"
            time.sleep(0.02)
    finally:
        locker.run("ROLLBACK")
        locker.close()
        watcher.close()


def together[T](
    database: LocalDatabase,
    table: str | tuple[str, ...],
    jobs: Sequence[Callable[[], T]],
    pool: ProcessPoolExecutor,
) -> list[T]:
    """The jobs' results, each job run in a process of the pool, all released at once."""
    with released_together(database, table, len(jobs)):
        futures = [pool.submit(job) for job in jobs]
    return [future.result(timeout=30) for future in futures]


def test_the_same_key_in_two_concurrent_batches_is_applied_by_exactly_one(
    api_database: LocalDatabase, admin: Connection, pools: ProcessPoolExecutor
) -> None:
    tenant = f.tenant(admin)
    accounts = s.records(admin, tenant, "account", 3)
    message = s.linked(tenant.workspace_connector_id, [a[1] for a in accounts])

    results = together(
        api_database,
        "account_workspace_connectors",
        [partial(write, [message]), partial(write, [message])],
        pools,
    )

    assert sorted(result.applied for (result,) in results) == [False, True]
    assert sorted(result.rows for (result,) in results) == [0, 3]
    assert len(s.ledger(admin, tenant.workspace_connector_pk)) == 3
    assert s.receipts(admin, [message["idempotency_key"]]) == [message["idempotency_key"]]


def test_batches_sharing_keys_in_opposite_orders_both_complete_without_deadlock(
    api_database: LocalDatabase, admin: Connection, pools: ProcessPoolExecutor
) -> None:
    tenant = f.tenant(admin)
    wc = tenant.workspace_connector_id
    accounts = s.records(admin, tenant, "account", 4)
    first = s.linked(wc, [a[1] for a in accounts[:2]])
    second = s.linked(wc, [a[1] for a in accounts[2:]])
    forward, backward = sqs.event(first, second), sqs.event(second, first)

    responses = together(
        api_database,
        "account_workspace_connectors",
        [
            partial(process, forward),
            partial(process, backward),
        ],
        pools,
    )

    assert responses == [{"batchItemFailures": []}] * 2
    links = s.ledger(admin, tenant.workspace_connector_pk)
    assert sorted(link.record_pk for link in links) == sorted(a[0] for a in accounts)


def test_many_concurrent_batches_of_overlapping_duplicates_apply_each_key_once(
    api_database: LocalDatabase, admin: Connection, pools: ProcessPoolExecutor
) -> None:
    tenant = f.tenant(admin)
    accounts = s.records(admin, tenant, "account", 40)
    messages = [
        s.linked(tenant.workspace_connector_id, [a[1] for a in accounts[i * 2 : (i + 1) * 2]])
        for i in range(20)
    ]
    shuffler = random.Random(20261121)
    applied: Counter[str] = Counter()
    sent: set[str] = set()
    for _ in range(3):
        batches = [shuffler.sample(messages, 10) for _ in range(ENVIRONMENTS)]
        sent.update(m["idempotency_key"] for batch in batches for m in batch)
        results = together(
            api_database,
            "account_workspace_connectors",
            [partial(write, batch) for batch in batches],
            pools,
        )
        applied.update(r.message.idempotency_key for result in results for r in result if r.applied)

    assert applied == Counter(sent)
    links = s.ledger(admin, tenant.workspace_connector_pk)
    assert len(links) == 2 * len(sent)
    assert len({link.record_pk for link in links}) == len(links)
    assert s.receipts(admin, [m["idempotency_key"] for m in messages]) == sorted(sent)


def test_a_revocation_racing_a_link_of_its_instant_leaves_no_link_of_the_connector_live(
    api_database: LocalDatabase, admin: Connection, pools: ProcessPoolExecutor
) -> None:
    tenant = f.tenant(admin)
    wc_pk = tenant.workspace_connector_pk
    old = s.records(admin, tenant, "account", 5)
    for record_pk, _ in old:
        f.provenance(admin, "account_workspace_connectors", record_pk, wc_pk)
    new = s.records(admin, tenant, "account", 50)
    link = s.linked(tenant.workspace_connector_id, [a[1] for a in new])
    revoke = s.revoked(tenant.workspace_connector_id)

    results = together(
        api_database,
        ("account_workspace_connectors", "connector_revocations"),
        [partial(write, [link]), partial(write, [revoke])],
        pools,
    )
    s.sweep()

    assert [r.applied for (r,) in results] == [True, True]
    links = s.ledger(admin, wc_pk)
    assert not any(x.live for x in links)
    assert len(links) == 55


def test_concurrent_unlinks_and_a_revocation_remove_each_link_once(
    api_database: LocalDatabase, admin: Connection, pools: ProcessPoolExecutor
) -> None:
    s.sweep_what_others_left()  # so that the sweep below is this revocation's alone
    tenant = f.tenant(admin)
    accounts = s.records(admin, tenant, "account", 500)
    admin.run(
        "INSERT INTO core_api.account_workspace_connectors "
        "(account_pk, workspace_connector_pk, direction) "
        "SELECT unnest(CAST(:pks AS bigint[])), :wc, 'input'",
        pks=[pk for pk, _ in reversed(accounts)],
        wc=tenant.workspace_connector_pk,
    )
    ids = [account_id for _, account_id in accounts]
    wc = tenant.workspace_connector_id
    batches = [
        [s.unlinked(wc, ids)],
        [s.revoked(wc)],
        [s.unlinked(wc, list(reversed(ids)))],
    ]

    results = together(
        api_database,
        ("account_workspace_connectors", "connector_revocations"),
        [partial(write, batch) for batch in batches],
        pools,
    )
    swept = s.sweep()

    assert all(r.applied for (r,) in results)
    # Each link is removed once: by whichever unlink came first, or by the sweep.
    assert sum(r.rows for (r,) in results) + swept.rows == 500
    assert s.live(admin, tenant.workspace_connector_pk) == []
