"""What reaches the database: one read-only transaction per request, of one message (BEGIN
and the transaction's settings, the proof, the scope statement and one SELECT, pipelined with
their bound values), and a good plan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest

from tests.support import factories as f
from tests.support import plans
from tests.support import read_factories as rf
from tests.support.proven import SCOPE_STATEMENT, SignedScope
from tests.support.read_factories import ALL, PROVENANCE, RECORD, T0, ids, read
from wellapi.jsonapi.cursor import Cursor
from wellapi.resources import RESOURCES
from wellapi.store.sql import BoundStatement

pytestmark = pytest.mark.usefixtures("api_database")

RELATIONSHIPS = {key: ",".join(names) for key, names in rf.RELATIONSHIPS.items()}


@pytest.fixture
def driver(admin, monkeypatch) -> list[rf.Sent]:
    """Every message the API's pg8000 connection sends (``rf.record_queries``)."""
    # Connect (and let SQLAlchemy run its first-connect checks) before counting.
    warm = f.tenant(admin)
    assert read("workspace_providers", warm.claims()).status == 200
    return rf.record_queries(monkeypatch)


def assert_one_request(calls: list[rf.Sent]) -> list[BoundStatement]:
    """Exactly one request: one message of a read-only transaction's opening, its proof, the
    scope statement and one SELECT, with a List's total counted between them in the same
    message; returns the scope statement and the SELECT, with their bound values."""
    (request,) = rf.requests_of(calls)
    assert request.read_only
    parts = request.bound
    texts = [part.text for part in parts]
    assert len(parts) in (2, 3), texts
    assert texts[0].startswith(SCOPE_STATEMENT)
    if len(parts) == 3:
        assert texts[1].startswith("SELECT count(*) AS total"), texts[1]
    assert texts[-1].startswith("SELECT ")
    calls.clear()
    return [parts[0], parts[-1]]


@pytest.mark.parametrize("resource", ALL)
def test_list_and_retrieve_are_one_request_of_one_message_whatever_the_page_size_or_include(
    admin, driver, resource
):
    t = f.tenant(admin)
    # Thirty rows with thirty different parents: an N+1 would show as more messages.
    rows = [rf.make_row(admin, t, resource, created_at=rf.at(m)) for m in range(30)]
    everything = RELATIONSHIPS[resource]
    include = f"include={everything}"
    requests = [
        {"query": "page[size]=1"},
        {"query": "page[size]=500"},
        {"query": f"page[size]=500&include={everything}"},
        {"query": f"page[size]=1&include={everything}"},
        # The resource's last sort (updated_at, but for a ledger's created_at), oldest first.
        {"query": f"sort={RESOURCES[resource].sorts[-1]}&{include}"},
        {"query": f"filter[created_at][gte]=2024-05-10T08:05:00Z&{include}"},
        {"row_id": rows[3].id},
        {"row_id": rows[3].id, "query": f"include={everything}"},
        {"row_id": rows[3].id, "query": f"workspace_id={t.workspace_id}"},
    ]
    selects = []
    for request in requests:
        reply = read(resource, t.claims(), **request)
        assert reply.status == 200, reply.body
        selects.append(assert_one_request(driver)[1])
    # Walking on with the cursor costs the same one request.
    first = read(resource, t.claims(), query=f"page[size]=7&include={everything}")
    assert_one_request(driver)
    second = read(resource, t.claims(), query=rf.follow(first.json["links"]["next"]))
    assert len(ids(second)) == 7
    assert_one_request(driver)
    # Retrieving what does not exist is the same one request, then a 404.
    assert read(resource, t.claims(), row_id=uuid4()).status == 404
    assert_one_request(driver)
    # One row or five hundred: the same statement text, only the LIMIT's bound value differs.
    one, five_hundred = selects[:2]
    assert one.text == five_hundred.text
    # (a ledger's List limits each walk of its indexes by the same parameter)
    (limit,) = set(re.findall(r"\bLIMIT \$(\d+)\b", one.text))
    at = int(limit) - 1
    assert (one.values[at], five_hundred.values[at]) == (2, 501)
    assert (
        one.values[:at] + one.values[at + 1 :]
        == five_hundred.values[:at] + (five_hundred.values[at + 1 :])
    )


@pytest.mark.parametrize(
    ("query", "headers", "claims", "status"),
    [
        ("bogus=1", None, True, 400),
        ("page[size]=501", None, True, 400),
        ("include=nope", None, True, 400),
        ("", {"Accept": "application/vnd.api+json; charset=utf-8"}, True, 406),
        ("", None, False, 401),
    ],
)
def test_a_request_refused_before_the_database_sends_nothing(
    admin, driver, query, headers, claims, status
):
    t = f.tenant(admin)

    reply = read(
        "account_workspace_connectors",
        t.claims() if claims else None,
        query=query,
        headers=headers,
    )

    assert reply.status == status
    assert driver == []


def test_a_forbidden_workspace_is_decided_in_the_same_request(admin, driver):
    t, other = f.tenant(admin), f.tenant(admin)

    reply = read("workspace_providers", t.claims(), query=f"workspace_id={other.workspace_id}")

    assert reply.status == 403
    assert_one_request(driver)


# --- the sync-status query plan ------------------------------------------------------------

ROWS = 40_000
CONNECTORS = 4  # X holds every fourth row: 10,000 of them, one a minute from T0.
RECORDS = 997
RECORD_TABLE = {table: parent.table.name for table, parent in f.LEDGER_PARENT.items()}


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


@pytest.mark.parametrize("resource", PROVENANCE)
def test_sync_status_query_reads_the_connector_created_at_index_between_its_bounds(
    admin, api_conn, driver, resource
):
    t = f.tenant(admin)
    # As a sync ledger is: many records, each touched now and then by one of a few connectors,
    # carried in and out. Both of X's directions hold rows, so that each branch's walk is
    # planned for rows it must read: on an empty one, walking another of the direction's
    # indexes and sorting its nothing costs the planner the same (the choice then turns on
    # what other tests left in the table).
    records = rf.bulk_records(admin, t, resource, RECORDS)
    connectors = [t.workspace_connector_pk] + [t.workspace_connector()[0] for _ in range(3)]
    admin.run(
        f"INSERT INTO core_api.{resource} ({RECORD[resource]}_pk, workspace_connector_pk, "
        f"direction, {resource[:-1]}_id) "
        f"SELECT (CAST(:records AS bigint[]))[1 + g % {RECORDS}], "
        f"(CAST(:connectors AS bigint[]))[1 + g % {CONNECTORS}], "
        f"CAST((ARRAY['input', 'output'])[1 + g / {CONNECTORS} % 2] AS core_api.direction_enum), "
        "core_api.uuid_v7_at(CAST(:t0 AS timestamptz) + g * interval '1 minute') "
        "FROM generate_series(0, :last) g",
        records=records,
        connectors=connectors,
        t0=T0,
        last=ROWS - 1,
    )
    for table in (resource, RECORD_TABLE[resource], "workspace_connectors"):
        admin.run(f"ANALYZE core_api.{table}")
    # Connector X between t1 and t2 (about 8,000 of its rows), from deep inside that range.
    t1, t2 = T0 + timedelta(minutes=4_000), T0 + timedelta(minutes=36_000)
    deep = admin.run(
        f"SELECT created_at, {resource[:-1]}_id FROM core_api.{resource} "
        "WHERE workspace_connector_pk = :x AND created_at < :t2 "
        "ORDER BY created_at DESC, 2 DESC OFFSET 4000 LIMIT 1",
        x=t.workspace_connector_pk,
        t2=t2,
    )[0]
    cursor = Cursor("-created_at", deep[0], deep[1]).encode()
    window = (
        f"filter[created_at][gte]={quote(t1.isoformat())}"
        f"&filter[created_at][lt]={quote(t2.isoformat())}"
    )
    # The partial indexes a List walks per connector and direction.
    indexes = {f"idx_{resource}_wc_{d}" for d in ("input", "output")}
    of_ledger = plans.ledger_indexes(admin)
    x_id = t.workspace_connector_id

    # X has 10,000 rows, every other one carried out; about 4,000 lie between t1 and the
    # cursor, 5,000 below the cursor: half of each in each direction's index.
    for query, at_most in (
        (f"filter[workspace_connector]={x_id}&{window}&page[after]={cursor}", 2_001),
        (f"filter[workspace_connector]={x_id}&page[after]={cursor}", 2_501),
    ):
        claims = t.claims()
        reply = read(resource, claims, query=query)
        assert len(ids(reply)) == 20
        scope, select = assert_one_request(driver)

        # The API's own statements, planned with the API's own scope and settings (the role's
        # random_page_cost), logged in as the API role, with a proof of their own.
        explain = [
            scope,
            BoundStatement(f"EXPLAIN (ANALYZE, FORMAT JSON) {select.text}", select.values),
        ]
        result = SignedScope.of(claims).run(api_conn, explain)
        assert result[0][0] == t.workspace_pk, "the scope did not resolve"
        plan = result[-1][0]
        nodes = list(plan_nodes(plan[0]["Plan"]))
        # A ledger's periods, read as the ledger; their indexes as the ledger's.
        on_junction = [
            n for n in nodes if plans.PERIOD.sub("", n.get("Relation Name", "")) == resource
        ]
        assert on_junction, nodes
        assert not any(n["Node Type"] == "Seq Scan" for n in on_junction), nodes
        scans = [n for n in nodes if of_ledger.get(n.get("Index Name", "")) in indexes]
        # Whole in a failure's message (a list would be cut short there).
        used = "; ".join(f"{n['Node Type']} {n.get('Index Name') or ''}" for n in nodes)
        assert {of_ledger[n["Index Name"]] for n in scans} == indexes, used
        for scan in scans:
            assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), used
            # The connector's key and the time bounds (the window and the cursor) are index
            # conditions: the walk starts at the cursor and stops at the page.
            condition = scan["Index Cond"]
            assert "workspace_connector_pk =" in condition
            assert f"{resource[:-1]}_id <" in condition  # the cursor, and the window's end
            assert scan["Actual Rows"] <= min(at_most, 21), scan["Actual Rows"]
