"""A changes feed page reads a page of records, not the workspace's, in the plan the API keeps.

The API role keeps each named statement's generic plan from its first use (``plan_cache_mode``): one
plan, made without values, serves every workspace's pages and cursors. A database of its own
holds a workspace of 100,000 change records and one of 1,000 (``welldev.bench.databases.
feed_seed``); every page statement the feed sends runs in its generic plan under ``EXPLAIN
(ANALYZE, BUFFERS)`` (``tests.support.plans``), logged in as the API role, in the big
workspace's scope, and may read a page of records: one a filter pair (each range cut to the
page), or of one sync run's records those of the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import plans
from tests.support.proven import SignedScope
from wellapi.resources import CHANGE_PAIRS
from wellapi.roles import API_ROLE
from wellapi.store.connections import send
from wellapi.store.feed import expired_statement, page_statement
from wellapi.store.sql import BoundStatement
from welldev import database as local_db
from welldev.bench import databases as seed
from welldev.bench import large_tenant as lt
from welldev.bench.raw_client import prepared
from welldev.claims import claims

BIG_RECORDS = 100_000
SMALL_RECORDS = 1_000
PAGE = 21  # the default page and the row that says another follows
NAMED = "feed_plan"


@pytest.fixture(scope="module")
def scoped(server: local_db.LocalDatabase) -> Iterator[tuple[Any, SignedScope, dict[str, Any]]]:
    """The API role's connection, the big workspace's scope, and the places its pages start."""
    name = f"wellapi_feed_plans_{os.getpid()}"
    db = seed.feed_seed(server, name, BIG_RECORDS, SMALL_RECORDS)
    try:
        with local_db.admin_connection(db.admin_url) as admin:
            t = lt.tenant(admin, "big")
            who = claims(admin, t.person_id, t.workspace_id, "member")
            ((xid, pk),) = admin.run(
                "SELECT xid::text, pk FROM core_api.change_records WHERE workspace_pk = :w "
                "ORDER BY xid, pk OFFSET :o LIMIT 1",
                w=t.workspace_pk,
                o=BIG_RECORDS // 2,
            )
        # Half way through the records, and the sync run there (one every RECORDS_PER_RUN).
        run = f"run-{BIG_RECORDS // seed.RECORDS_PER_RUN // 2}"
        places = {"deep": (int(xid), pk), "run": run}
        with local_db.admin_connection(db.url_for(API_ROLE)) as api:
            yield api, SignedScope.of(who), places
    finally:
        local_db.drop_database(server, name)


def statements(places: dict[str, Any]) -> dict[str, tuple[BoundStatement, int]]:
    """Every page the feed sends, from the start and from deep in the workspace's records, and
    the records it may read: a page, one a filter pair (each range cut to the page), or of a
    sync run's records those its pairs keep, which the run's own range holds."""
    providers = tuple(p for p in CHANGE_PAIRS if p[0] == "workspace_provider")
    deep, run = places["deep"], places["run"]
    return {
        "first": (page_statement(after=None, limit=PAGE), PAGE),
        "deep": (page_statement(after=deep, limit=PAGE), PAGE),
        "deep_pairs": (
            page_statement(after=deep, limit=PAGE, pairs=providers),
            PAGE * len(providers),
        ),
        "deep_one_pair": (page_statement(after=deep, limit=PAGE, pairs=providers[:1]), PAGE),
        "sync_run": (page_statement(after=None, limit=PAGE, sync_run_id=run), PAGE),
        "sync_run_pairs": (
            page_statement(after=None, limit=PAGE, pairs=providers, sync_run_id=run),
            seed.RECORDS_PER_RUN,
        ),
        "expired": (expired_statement(deep), PAGE),
    }


PAGES = ("first", "deep", "deep_pairs", "deep_one_pair", "sync_run", "sync_run_pairs", "expired")


@pytest.mark.parametrize("name", PAGES)
def test_a_feed_page_reads_a_page_of_records_in_the_plan_every_workspace_shares(scoped, name):
    conn, scope, places = scoped
    sql, bound = statements(places)[name]

    plan = plans.explain(conn, scope, sql, plan="generic")

    # The workspace holds 100,000 records: a plan that sorted its matches would read thousands.
    read = plans.rows_read(plan).get("change_records", 0)
    assert read <= bound, f"{sql.text}\nbound: {sql.values}"


def test_the_api_role_plans_a_named_statement_once_from_its_first_use(scoped):
    conn, scope, places = scoped
    sql, _ = statements(places)["first"]
    try:
        assert scope.open(conn)[0] is not None  # the transaction's settings hold the role's
        execute = prepared(conn, NAMED, sql)
        send(conn, [execute])
        kept = conn.run(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = :n",
            n=NAMED,
        )
    finally:
        conn.run("ROLLBACK")
        conn.run(f"DEALLOCATE {NAMED}")

    assert kept == [[1, 0]]
