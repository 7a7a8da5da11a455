"""A revoked connector's ledger rows are deleted rows from the moment its revocation commits.

A ``workspace_connector.revoked`` message only records the connector in
``core_api.connector_revocations``; the sweeper soft-deletes its rows later, in bounded steps.
Here the revocation is inserted directly, as the sync pipeline commits it, and every row of the
connector stays physically live (``deleted_at IS NULL``) throughout: each read shape (List with
every filter, sort, include and cursor page; Retrieve; the related and relationship routes) and
each write (PATCH, DELETE, and a create naming the connector) must answer as if those rows were
soft-deleted, while the rows of the workspace's other connector still show. The revoked
connector's rows are the newest of the ledger and interleave with the live ones, so a List that
let them through would show them on its first page and between its cursor pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import plans
from tests.support import read_factories as rf
from tests.support import writes as w
from tests.support.api import Reply, related
from tests.support.proven import SignedScope
from tests.support.read_factories import PROVENANCE, RECORD, ids, read
from wellapi.jsonapi.query import parse_read_query
from wellapi.resources import resource_named
from wellapi.sqltext.statements import read_template
from wellapi.store.connections import send
from wellapi.store.shapes import ReadShape, read_params
from wellapi.store.sql import BoundStatement

pytestmark = pytest.mark.usefixtures("api_database")

KINDS = ("member", "service")
NOT_FOUND = "NOT_FOUND"
REVOKED = "WORKSPACE_CONNECTOR_REVOKED"


@dataclass(frozen=True)
class Revoked:
    """A workspace with two connectors, the second revoked, rows of both on one record."""

    tenant: f.Tenant
    resource: str
    record: tuple[int, UUID]
    live_connector: tuple[int, UUID]
    revoked_connector: tuple[int, UUID]
    kept: tuple[rf.Row, ...]  # the live connector's rows, newest first
    gone: tuple[rf.Row, ...]  # the revoked connector's rows, newest first
    directions: dict[UUID, str]  # each row's direction, by id

    def claims(self, kind: str) -> dict[str, str]:
        return self.tenant.claims(kind)

    @property
    def record_name(self) -> str:
        return RECORD[self.resource]

    def kept_ids(self, direction: str | None = None) -> list[str]:
        return [str(r.id) for r in self.kept if direction in (None, self.directions[r.id])]


def instant(minutes: float) -> str:
    """``rf.at(minutes)`` as a filter value (``Z``: a ``+`` in a query string is a space)."""
    return rf.at(minutes).isoformat().replace("+00:00", "Z")


def revoke(admin: pg8000.native.Connection, connector_pk: int) -> None:
    """What the sync pipeline commits for ``workspace_connector.revoked``: the revocation only."""
    admin.run(
        "INSERT INTO core_api.connector_revocations (workspace_connector_pk, occurred_at) "
        "VALUES (:w, now())",
        w=connector_pk,
    )


def physically_live(admin: pg8000.native.Connection, case: Revoked) -> int:
    return int(
        admin.run(
            f"SELECT count(*) FROM core_api.{case.resource} "
            "WHERE workspace_connector_pk = :w AND deleted_at IS NULL",
            w=case.revoked_connector[0],
        )[0][0]
    )


def arrange(admin: pg8000.native.Connection, resource: str) -> Revoked:
    t = f.tenant(admin)
    live = (t.workspace_connector_pk, t.workspace_connector_id)
    revoked = t.workspace_connector()
    record = f.record_of(t, resource)
    kept: list[rf.Row] = []
    gone: list[rf.Row] = []
    directions: dict[UUID, str] = {}
    # Minute 2k is the live connector's, 2k + 1 the revoked one's: newest of all, and one
    # between every two live rows. Both directions on both connectors.
    for minute in range(8):
        connector, rows = (revoked, gone) if minute % 2 else (live, kept)
        direction = "input" if minute % 4 < 2 else "output"
        row = rf.provenance(
            admin,
            t,
            resource,
            record=record,
            connector=connector,
            direction=direction,
            created_at=rf.at(minute),
        )
        directions[row.id] = direction
        rows.insert(0, row)
    revoke(admin, revoked[0])
    case = Revoked(t, resource, record, live, revoked, tuple(kept), tuple(gone), directions)
    assert physically_live(admin, case) == len(gone)
    return case


@pytest.fixture(params=PROVENANCE)
def case(request: pytest.FixtureRequest, admin: pg8000.native.Connection) -> Revoked:
    return arrange(admin, request.param)


def assert_shows_none_of_them(case: Revoked, reply: Reply) -> None:
    """No row of the revoked connector, and the connector itself in no linkage or include."""
    assert reply.status == 200, reply.body
    gone = {str(r.id) for r in case.gone}
    revoked = str(case.revoked_connector[1])
    for item in reply.json["data"]:
        assert item["id"] not in gone
        assert item["relationships"]["workspace_connector"]["data"]["id"] != revoked
    assert revoked not in {i["id"] for i in reply.json.get("included", [])}


# --- Lists ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_default_list_shows_only_the_live_connectors_rows(case, kind):
    reply = read(case.resource, case.claims(kind))

    assert_shows_none_of_them(case, reply)
    assert ids(reply) == case.kept_ids()


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_filtered_by_the_revoked_connector_is_empty(case, kind):
    revoked = case.revoked_connector[1]

    for query in (
        f"filter[workspace_connector]={revoked}",
        f"filter[workspace_connector]={revoked}&filter[direction]=output",
        f"filter[workspace_connector]={revoked}&sort=created_at",
        f"filter[workspace_connector]={revoked}&filter[created_at][gte]={instant(0)}",
        f"filter[workspace_connector]={revoked}&filter[{case.record_name}]={case.record[1]}",
    ):
        assert ids(read(case.resource, case.claims(kind), query=query)) == [], query


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_filtered_by_both_connectors_shows_the_live_ones_rows(case, kind):
    named = f"{case.revoked_connector[1]},{case.live_connector[1]}"

    reply = read(case.resource, case.claims(kind), query=f"filter[workspace_connector]={named}")

    assert_shows_none_of_them(case, reply)
    assert ids(reply) == case.kept_ids()


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_filtered_by_the_record_walks_the_record_without_the_revoked_rows(case, kind):
    record = f"filter[{case.record_name}]={case.record[1]}"

    for query, expected in (
        (record, case.kept_ids()),
        (f"{record}&filter[direction]=output", case.kept_ids("output")),
        (f"{record}&filter[created_at][gt]={instant(2)}", case.kept_ids()[:2]),
        (f"{record}&sort=created_at", case.kept_ids()[::-1]),
    ):
        reply = read(case.resource, case.claims(kind), query=query)
        assert_shows_none_of_them(case, reply)
        assert ids(reply) == expected, query


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("direction", ["input", "output"])
def test_a_list_filtered_by_direction_shows_the_live_connectors_rows(case, kind, direction):
    reply = read(case.resource, case.claims(kind), query=f"filter[direction]={direction}")

    assert_shows_none_of_them(case, reply)
    assert ids(reply) == case.kept_ids(direction)


@pytest.mark.parametrize("kind", KINDS)
def test_every_sort_and_range_shows_only_the_live_connectors_rows(case, kind):
    sorts = [
        (f"sort={s}", case.kept_ids() if s.startswith("-") else case.kept_ids()[::-1])
        for s in resource_named(case.resource).sort_values
    ]
    for query, expected in (*sorts, (f"filter[created_at][lte]={instant(5)}", case.kept_ids()[1:])):
        reply = read(case.resource, case.claims(kind), query=query)
        assert_shows_none_of_them(case, reply)
        assert ids(reply) == expected, query


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_with_include_shows_neither_the_rows_nor_the_revoked_connector(case, kind):
    include = f"include={case.record_name},workspace_connector"

    reply = read(case.resource, case.claims(kind), query=include)

    assert_shows_none_of_them(case, reply)
    assert ids(reply) == case.kept_ids()
    included = {(i["type"], i["id"]) for i in reply.json["included"]}
    assert included == {
        (case.record_name, str(case.record[1])),
        ("workspace_connector", str(case.live_connector[1])),
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sort", ["-created_at", "created_at"])
def test_cursor_pages_step_over_the_revoked_rows_both_ways(case, kind, sort):
    claims = case.claims(kind)
    expected = case.kept_ids() if sort == "-created_at" else case.kept_ids()[::-1]

    first = read(case.resource, claims, query=f"sort={sort}&page[size]=2")
    assert_shows_none_of_them(case, first)
    second = read(case.resource, claims, query=rf.follow(first.json["links"]["next"]))
    assert_shows_none_of_them(case, second)
    back = read(case.resource, claims, query=rf.follow(second.json["links"]["prev"]))

    assert ids(first) == expected[:2]
    assert ids(second) == expected[2:]
    assert not second.json["links"].get("next")
    assert ids(back) == expected[:2]


# --- Retrieve, related and relationship routes ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_retrieving_a_revoked_connectors_row_is_404_like_a_deleted_one(case, kind):
    include = f"include={case.record_name},workspace_connector"
    for row in case.gone:
        for query in ("", include):
            reply = read(case.resource, case.claims(kind), row_id=row.id, query=query)
            assert rf.error(reply, 404)["code"] == NOT_FOUND
    kept = read(case.resource, case.claims(kind), row_id=case.kept[0].id, query=include)
    assert kept.status == 200, kept.body


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("linkage", [False, True], ids=["related", "relationship"])
def test_the_related_and_relationship_routes_of_a_revoked_row_are_404(case, kind, linkage):
    row = case.gone[0]
    for name in (case.record_name, "workspace_connector"):
        reply = related(case.resource, case.claims(kind), str(row.id), name, linkage=linkage)
        assert rf.error(reply, 404)["code"] == NOT_FOUND, name
        kept = related(
            case.resource, case.claims(kind), str(case.kept[0].id), name, linkage=linkage
        )
        assert kept.status == 200, kept.body


# --- writes --------------------------------------------------------------------------------------


def test_patching_a_revoked_connectors_row_is_404_and_writes_nothing(admin, case):
    row = case.gone[0]
    doc = w.document(
        w.type_of(case.resource), row_id=row.id, attributes={"direction": case.directions[row.id]}
    )

    with w.writes_nothing(admin):
        reply = w.patch(case.resource, case.claims("service"), row.id, doc)

    assert w.error(reply, 404)["code"] == NOT_FOUND
    kept = case.kept[0]
    same = w.document(
        w.type_of(case.resource), row_id=kept.id, attributes={"direction": case.directions[kept.id]}
    )
    assert w.patch(case.resource, case.claims("service"), kept.id, same).status == 200


def test_deleting_a_revoked_connectors_row_is_404_and_writes_nothing(admin, case):
    with w.writes_nothing(admin):
        reply = w.delete(case.resource, case.claims("service"), case.gone[0].id)

    assert w.error(reply, 404)["code"] == NOT_FOUND
    assert physically_live(admin, case) == len(case.gone)


def test_creating_a_row_of_a_revoked_connector_is_422_and_writes_nothing(admin, case):
    doc = w.provenance_document(case.resource, case.record[1], case.revoked_connector[1])

    with w.writes_nothing(admin):
        reply = w.post(case.resource, case.claims("service"), doc)

    obj = w.error(reply, 422)
    assert obj["code"] == REVOKED
    assert obj["source"] == {"pointer": "/data/relationships/workspace_connector"}
    assert obj["detail"] == "The workspace_connector is revoked: it takes no new links."
    # The live connector still takes links to the same record.
    live = w.provenance_document(case.resource, case.record[1], case.live_connector[1])
    assert w.created(w.post(case.resource, case.claims("service"), live))


@pytest.mark.parametrize("resource", PROVENANCE)
def test_a_revoked_connector_is_reported_before_a_workspace_mismatch(admin, resource):
    """A record of another workspace as well: no other record would do, so the revocation is
    what the client is told."""
    case = arrange(admin, resource)
    _, foreign_record = f.record_of(f.tenant(admin), resource)
    doc = w.provenance_document(resource, foreign_record, case.revoked_connector[1])

    with w.writes_nothing(admin):
        reply = w.post(resource, case.claims("service"), doc)

    assert w.error(reply, 422)["code"] == REVOKED


@pytest.mark.parametrize("resource", PROVENANCE)
def test_a_member_is_still_refused_before_the_revocation_is_looked_at(admin, resource):
    case = arrange(admin, resource)
    doc = w.provenance_document(resource, case.record[1], case.revoked_connector[1])

    with w.writes_nothing(admin):
        reply = w.post(resource, case.claims("member"), doc)

    assert w.error(reply, 403)["code"] == "FORBIDDEN"


def test_every_answer_left_the_revoked_rows_to_the_sweeper(admin, case):
    """Reads and refused writes change nothing: the rows stay physically live, unswept."""
    for kind in KINDS:
        read(case.resource, case.claims(kind))
        read(case.resource, case.claims(kind), row_id=case.gone[0].id)
    w.delete(case.resource, case.claims("service"), case.gone[1].id)

    assert physically_live(admin, case) == len(case.gone)


# --- the plan: a revoked connector is not walked ----------------------------------------------

REVOKED_ROWS = 5_000


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("query", ["", "sort=created_at", "filter[direction]=input"])
def test_a_list_reads_none_of_a_revoked_connectors_rows(admin, api_conn, kind, query):
    """The revoked connector holds thousands of physically live rows, newer than every live
    one: the List's plan, run as the API role, walks the live connector only (the walk leaves
    the revoked one out before it reads its index), so none of them is read."""
    resource = "account_workspace_connectors"
    case = arrange(admin, resource)
    admin.run(
        f"INSERT INTO core_api.{resource} (account_pk, workspace_connector_pk, direction, "
        "created_at) SELECT :r, :w, "
        "CAST(CASE WHEN g % 2 = 0 THEN 'input' ELSE 'output' END AS core_api.direction_enum), "
        "now() + g * interval '1 second' FROM generate_series(1, :n) g",
        r=case.record[0],
        w=case.revoked_connector[0],
        n=REVOKED_ROWS,
    )
    admin.run(f"ANALYZE core_api.{resource}, core_api.connector_revocations")
    assert physically_live(admin, case) == len(case.gone) + REVOKED_ROWS

    parsed = parse_read_query(resource_named(resource), query, "list")
    shape = ReadShape.of(resource_named(resource), parsed, single=False, service=kind == "service")
    template, _ = read_template(shape)
    sql = template.bind(read_params(parsed))
    analyze = BoundStatement(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql.text}", sql.values)
    scope = SignedScope.of(case.claims(kind))
    try:
        assert scope.open(api_conn)[0] == case.tenant.workspace_pk
        raw = send(api_conn, [analyze])[0][0]
    finally:
        api_conn.run("ROLLBACK")
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]

    shown = case.kept_ids("input" if "direction" in query else None)
    # Only the live connector is walked: every scan of the ledger runs once, for it. A walk of
    # the revoked one would run each twice. (Not a count of the rows read: on a small period,
    # of other tests' rows, the planner may rightly read in id order and filter the connector.)
    loops = {n["Actual Loops"] for n in plans.scans(plan) if plans.of_table(n) == resource}
    assert loops == {1}, sql
    assert plan["Actual Rows"] == len(shown)
