"""``sort`` and ``filter[...]`` on the five List routes."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from uuid import UUID, uuid4

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support import writes as w
from tests.support.api import Reply, call, event
from tests.support.read_factories import ALL, PROVENANCE, RECORD, at, ids, read
from wellapi.resources import CHANGES, RESOURCES, Resource
from wellapi.resources.providers import PROVIDER_CATALOG

pytestmark = pytest.mark.usefixtures("api_database")

CURSOR_PROFILE = "https://jsonapi.org/profiles/ethanresnick/cursor-pagination"


def iso(moment: datetime) -> str:
    """An ISO-8601 timestamp as a query value ('+' must be percent-encoded)."""
    return quote(moment.isoformat(), safe="")


def newest_first(rows: list[rf.Row], stamps: dict[UUID, datetime]) -> list[str]:
    """The order the API promises: sort value, then the public id, both descending."""
    return [str(r.id) for r in sorted(rows, key=lambda r: (stamps[r.id], r.id), reverse=True)]


# --- sort --------------------------------------------------------------------------------------


# The resources a List sorts by updated_at too, and those it sorts by created_at only (the
# ledgers: GET /v1/changes says what changed since a time; tests/unit/test_resource_modules.py).
BY_UPDATE = [key for key in ALL if "updated_at" in RESOURCES[key].sorts]
BY_CREATION_ONLY = [key for key in ALL if RESOURCES[key].sorts == ("created_at",)]


@pytest.mark.parametrize("resource", ALL)
def test_each_supported_sort_orders_the_collection(admin, resource):
    t = f.tenant(admin)
    first, second, third = (rf.make_row(admin, t, resource, created_at=at(m)) for m in (1, 2, 3))
    # Updating the oldest row moves its updated_at to now(), after every fixed instant.
    rf.touch(admin, resource, first.pk)
    by_creation = [str(third.id), str(second.id), str(first.id)]
    by_update = [str(first.id), str(third.id), str(second.id)]
    expected = {"created_at": by_creation, "updated_at": by_update}

    assert ids(read(resource, t.claims())) == by_creation
    for name in RESOURCES[resource].sorts:
        assert ids(read(resource, t.claims(), query=f"sort=-{name}")) == expected[name]
        assert ids(read(resource, t.claims(), query=f"sort={name}")) == expected[name][::-1]


@pytest.mark.parametrize("resource", BY_CREATION_ONLY)
@pytest.mark.parametrize("sort", ["updated_at", "-updated_at"])
def test_a_ledger_sorted_by_updated_at_is_refused_naming_the_changes_feed(admin, resource, sort):
    t = f.tenant(admin)
    rf.make_row(admin, t, resource, created_at=at(1))

    reply = read(resource, t.claims(), query=f"sort={sort}")

    obj = rf.error(reply, 400, "sort")
    assert obj["code"] == "INVALID_SORT"
    assert obj["links"] == {"type": f"{CURSOR_PROFILE}/unsupported-sort"}
    assert "GET /v1/changes" in obj["detail"]
    assert "created_at, -created_at" in obj["detail"]
    assert obj["meta"]["sorts"] == ["created_at", "-created_at"]


@pytest.mark.parametrize("resource", ALL)
def test_rows_with_identical_created_at_are_ordered_by_public_id(admin, resource):
    t = f.tenant(admin)
    rows = [rf.make_row(admin, t, resource, created_at=at(7)) for _ in range(6)]
    rows += [rf.make_row(admin, t, resource, created_at=at(m)) for m in (6, 8)]
    stamps = {r.id: at(7) for r in rows[:6]} | {rows[6].id: at(6), rows[7].id: at(8)}
    expected = newest_first(rows, stamps)

    assert ids(read(resource, t.claims())) == expected
    assert ids(read(resource, t.claims(), query="sort=created_at")) == expected[::-1]
    # The same total order holds across page boundaries that fall inside the tie.
    for size in (1, 2, 4):
        walked: list[str] = []
        query = f"page[size]={size}"
        while True:
            reply = read(resource, t.claims(), query=query)
            walked += ids(reply)
            if reply.json["links"]["next"] is None:
                break
            query = rf.follow(reply.json["links"]["next"])
        assert walked == expected, size


@pytest.mark.parametrize(
    "value",
    [
        "direction",
        "id",
        "pk",
        "deleted_at",
        "is_selected",
        "account",
        "created_at,updated_at",
        "-created_at,id",
        "",
        "-",
        "+created_at",
        "--created_at",
        "CREATED_AT",
    ],
)
@pytest.mark.parametrize("resource", ALL)
def test_sorting_by_anything_else_is_the_profiles_unsupported_sort_error(admin, resource, value):
    t = f.tenant(admin)

    reply = read(resource, t.claims(), query=f"sort={quote(value)}")

    obj = rf.error(reply, 400, "sort")
    assert obj["code"] == "INVALID_SORT"
    assert obj["links"] == {"type": f"{CURSOR_PROFILE}/unsupported-sort"}
    # The sorts the List takes, for a person and for a program.
    sorts = list(RESOURCES[resource].sort_values)
    assert obj["meta"]["sorts"] == sorts
    assert ", ".join(sorts) in obj["detail"]


@pytest.mark.parametrize("resource", BY_UPDATE)
@pytest.mark.parametrize("sort", ["updated_at", "-updated_at"])
@pytest.mark.parametrize("operator", ["gte", "gt", "lte", "lt"])
def test_a_created_at_range_sorted_by_updated_at_is_refused_before_any_query(
    admin, resource, sort, operator
):
    t = f.tenant(admin)

    reply = read(
        resource,
        t.claims(),
        query=f"sort={sort}&filter[created_at][{operator}]=2026-01-01T00:00:00Z",
    )

    obj = rf.error(reply, 400, "sort")
    assert obj["code"] == "INVALID_SORT"
    assert f"filter[created_at][{operator}]" in obj["detail"]
    assert obj["links"] == {"type": f"{CURSOR_PROFILE}/unsupported-sort"}


# --- filter[direction] ----------------------------------------------------------------------


@pytest.mark.parametrize("resource", PROVENANCE)
def test_filter_direction_keeps_rows_with_that_direction(admin, resource):
    t = f.tenant(admin)
    inbound = rf.provenance(admin, t, resource, direction="input", created_at=at(1))
    outbound = rf.provenance(admin, t, resource, direction="output", created_at=at(2))

    assert ids(read(resource, t.claims(), query="filter[direction]=input")) == [str(inbound.id)]
    assert ids(read(resource, t.claims(), query="filter[direction]=output")) == [str(outbound.id)]
    both = read(resource, t.claims(), query="filter[direction]=input,output")
    assert ids(both) == [str(outbound.id), str(inbound.id)]


@pytest.mark.parametrize("value", ["sideways", "INPUT", "", "input,", "input,nope", "0"])
def test_filter_direction_with_a_value_outside_the_enum_is_rejected(admin, value):
    t = f.tenant(admin)

    reply = read("company_workspace_connectors", t.claims(), query=f"filter[direction]={value}")

    rf.error(reply, 400, "filter[direction]")


# --- filter[<relationship>] --------------------------------------------------------------------

# Every to-one relationship of every resource (`rf.PAIRS`): each is a filter.
RELATIONSHIP_FILTERS = rf.PAIRS


def two_visible_rows(admin, t: f.Tenant, resource: str) -> tuple[rf.Row, rf.Row]:
    """Two rows in t's scope whose parents differ wherever the tenant rule allows it."""
    if resource in PROVENANCE:
        one = rf.provenance(admin, t, resource, created_at=at(1))
        other = t.workspace_connector()
        return one, rf.provenance(admin, t, resource, connector=other, created_at=at(2))
    if resource == "workspace_group_workspaces":
        one = rf.enrolment(admin, t, created_at=at(1))
        # Visible through the caller's membership of the group, though in another workspace.
        elsewhere = f.tenant(admin)
        group = f.group(admin)
        rf.group_membership(admin, group[0], t.person_pk)
        colleague = t.member()
        two = rf.enrolment(
            admin,
            t,
            group=group,
            workspace=(elsewhere.workspace_pk, elsewhere.workspace_id),
            created_by=colleague,
            created_at=at(2),
        )
        return one, two
    one = rf.workspace_provider(admin, t, created_at=at(1))
    return one, rf.workspace_provider(admin, t, created_at=at(2))


@pytest.mark.parametrize(("resource", "name"), RELATIONSHIP_FILTERS)
def test_filter_by_relationship_keeps_rows_pointing_at_the_given_ids(admin, resource, name):
    t = f.tenant(admin)
    one, two = two_visible_rows(admin, t, resource)
    p1, p2 = one.parents[name], two.parents[name]
    assert p1 is not None
    assert p2 is not None
    parameter = f"filter[{name}]"

    def filtered(*values: object) -> list[str]:
        return ids(read(resource, t.claims(), query=f"{parameter}={','.join(map(str, values))}"))

    both = [str(two.id), str(one.id)]
    if p1 == p2:  # a workspace provider's workspace is always the caller's own
        assert filtered(p1[1]) == both
    else:
        assert filtered(p1[1]) == [str(one.id)]
        assert filtered(p2[1]) == [str(two.id)]
        assert filtered(p1[1], p2[1]) == both
        assert filtered(p2[1], p1[1], p2[1]) == both
    assert filtered(uuid4()) == []
    assert filtered(uuid4(), p1[1]) == ([str(one.id)] if p1 != p2 else both)


@pytest.mark.parametrize(("resource", "name"), RELATIONSHIP_FILTERS)
@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        "",
        "1",
        "9995d333-54b6-5100-9163-57643a86eb6b,",
        "601865fd-0b03-5aca-98e4-6facd46a5248,x",
        "4b262d72-7922-5061-a5ec-32fc00ba08f4;3af7fa58-eb80-56b6-93af-82c4615424ab",
    ],
)
def test_filter_by_relationship_with_a_malformed_id_is_rejected(admin, resource, name, value):
    t = f.tenant(admin)

    reply = read(resource, t.claims(), query=f"filter[{name}]={quote(value, safe=',')}")

    rf.error(reply, 400, f"filter[{name}]")


def test_filter_by_relationship_accepts_at_most_a_hundred_ids(admin):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, "people_workspace_connectors")
    hundred = [str(uuid4()) for _ in range(99)] + [str(row.parents["people"][1])]  # type: ignore[index]

    accepted = read(
        "people_workspace_connectors", t.claims(), query="filter[people]=" + ",".join(hundred)
    )
    refused = read(
        "people_workspace_connectors",
        t.claims(),
        query="filter[people]=" + ",".join([*hundred, str(uuid4())]),
    )

    assert ids(accepted) == [str(row.id)]
    rf.error(refused, 400, "filter[people]")


@pytest.mark.parametrize("resource", PROVENANCE)
def test_a_filter_never_widens_the_scope(admin, resource):
    mine, theirs = f.tenant(admin), f.tenant(admin)
    rf.provenance(admin, theirs, resource)

    reply = read(
        resource,
        mine.claims(),
        query=f"filter[workspace_connector]={theirs.workspace_connector_id}",
    )

    assert ids(reply) == []


# --- filter[created_at][...] -------------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL)
def test_created_at_range_operators_bound_the_collection(admin, resource):
    t = f.tenant(admin)
    rows = [rf.make_row(admin, t, resource, created_at=at(m)) for m in (0, 10, 20, 30)]
    r0, r10, r20, r30 = (str(r.id) for r in rows)

    def within(query: str) -> list[str]:
        return ids(read(resource, t.claims(), query=query))

    assert within(f"filter[created_at][gte]={iso(at(10))}") == [r30, r20, r10]
    assert within(f"filter[created_at][gt]={iso(at(10))}") == [r30, r20]
    assert within(f"filter[created_at][lte]={iso(at(20))}") == [r20, r10, r0]
    assert within(f"filter[created_at][lt]={iso(at(20))}") == [r10, r0]
    assert within(
        f"filter[created_at][gte]={iso(at(10))}&filter[created_at][lt]={iso(at(30))}"
    ) == [r20, r10]
    # Any UTC offset, and the Z spelling, name the same instant.
    assert within("filter[created_at][gte]=2024-05-10T10:10:00%2B02:00") == [r30, r20, r10]
    assert within("filter[created_at][gte]=2024-05-10T08:10:00Z") == [r30, r20, r10]


@pytest.mark.parametrize("resource", PROVENANCE)
def test_sync_status_query_returns_what_connector_x_touched_between_t1_and_t2(admin, resource):
    t = f.tenant(admin)
    x, y = t.workspace_connector(), t.workspace_connector()
    record = f.record_of(t, resource)
    touched = {
        minute: rf.provenance(admin, t, resource, record=record, connector=x, created_at=at(minute))
        for minute in (0, 10, 15, 20, 30)
    }
    for minute in (10, 15, 20):
        rf.provenance(admin, t, resource, record=record, connector=y, created_at=at(minute))
    # A soft-deleted link inside the window is not part of the answer.
    rf.provenance(admin, t, resource, connector=x, created_at=at(12), deleted=True)

    reply = read(
        resource,
        t.claims(),
        query=(
            f"filter[workspace_connector]={x[1]}"
            f"&filter[created_at][gte]={iso(at(10))}&filter[created_at][lt]={iso(at(20))}"
            f"&include={RECORD[resource]}"
        ),
    )

    assert ids(reply) == [str(touched[15].id), str(touched[10].id)]
    assert [o["id"] for o in reply.json["included"]] == [str(record[1])]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("filter[created_at][gte]", "yesterday"),
        ("filter[created_at][gte]", ""),
        ("filter[created_at][gt]", "2024-05-10T08:00:00"),  # no UTC offset
        ("filter[created_at][lte]", "2024-05-10"),
        ("filter[created_at][lt]", "2024-13-10T08:00:00Z"),
        ("filter[created_at][lt]", "1715328000"),
        ("filter[created_at][gte]", "0001-01-01T00:00:00%2B01:00"),  # no UTC equivalent
        ("filter[created_at][eq]", "2024-05-10T08:00:00Z"),
        ("filter[created_at][between]", "2024-05-10T08:00:00Z"),
        ("filter[created_at]", "2024-05-10T08:00:00Z"),
        ("filter[created_at][gte][x]", "2024-05-10T08:00:00Z"),
        ("filter[updated_at][gte]", "2024-05-10T08:00:00Z"),
        ("filter[deleted_at][gte]", "2024-05-10T08:00:00Z"),
    ],
)
@pytest.mark.parametrize("resource", ["account_workspace_connectors", "workspace_providers"])
def test_a_malformed_created_at_range_is_rejected(admin, resource, parameter, value):
    t = f.tenant(admin)

    reply = read(resource, t.claims(), query=f"{parameter}={value}")

    rf.error(reply, 400, parameter)


# --- filter[is_selected] / filter[is_matched] --------------------------------------------------


def test_workspace_provider_flags_filter_the_collection(admin):
    t = f.tenant(admin)
    chosen = rf.workspace_provider(admin, t, selected=True, matched=True, created_at=at(3))
    matched = rf.workspace_provider(admin, t, selected=False, matched=True, created_at=at(2))
    neither = rf.workspace_provider(admin, t, selected=False, matched=False, created_at=at(1))

    def where(query: str) -> list[str]:
        return ids(read("workspace_providers", t.claims(), query=query))

    assert where("filter[is_selected]=true") == [str(chosen.id)]
    assert where("filter[is_selected]=false") == [str(matched.id), str(neither.id)]
    assert where("filter[is_matched]=true") == [str(chosen.id), str(matched.id)]
    assert where("filter[is_matched]=false") == [str(neither.id)]
    assert where("filter[is_selected]=false&filter[is_matched]=true") == [str(matched.id)]


@pytest.mark.parametrize("name", ["is_selected", "is_matched"])
@pytest.mark.parametrize("value", ["yes", "1", "TRUE", "", "true,false", "null"])
def test_a_flag_filter_takes_only_true_or_false(admin, name, value):
    t = f.tenant(admin)

    reply = read("workspace_providers", t.claims(), query=f"filter[{name}]={value}")

    rf.error(reply, 400, f"filter[{name}]")


@pytest.mark.parametrize(
    ("resource", "parameter"),
    [
        ("account_workspace_connectors", "filter[is_selected]"),
        ("account_workspace_connectors", "filter[company]"),
        ("account_workspace_connectors", "filter[workspace]"),
        ("account_workspace_connectors", "filter[id]"),
        ("account_workspace_connectors", "filter[account][id]"),
        ("account_workspace_connectors", "filter[account_pk]"),
        ("workspace_providers", "filter[direction]"),
        ("workspace_providers", "filter[workspace_connector]"),
        ("workspace_group_workspaces", "filter[is_matched]"),
        ("workspace_group_workspaces", "filter[nope]"),
        ("workspace_group_workspaces", "filter[]"),
    ],
)
def test_a_filter_the_resource_does_not_define_is_rejected(admin, resource, parameter):
    t = f.tenant(admin)

    reply = read(resource, t.claims(), query=f"{parameter}=true")

    rf.error(reply, 400, parameter)


# --- an unknown filter names the filters there are ---------------------------------------------


def _list(name: str, t: f.Tenant, query: str) -> Reply:
    """A List of ``name`` (a resource, the provider catalog or the changes feed) as ``t``."""
    if name == "catalog":
        return w.catalog(t.claims(), t.workspace_id, query)
    if name == "changes":
        return call("changes", "feed", event("GET", "/v1/changes", query=query, claims=t.claims()))
    return read(name, t.claims(), query=query)


def _described(name: str) -> Resource:
    return {"catalog": PROVIDER_CATALOG, "changes": CHANGES}.get(name) or RESOURCES[name]


def _a_value_it_takes(resource: Resource, parameter: str) -> str:
    """A value ``parameter`` accepts, from the resource's description, not from the error."""
    if parameter.startswith("filter[created_at]["):
        return "2026-01-01T00%3A00%3A00Z"
    name = parameter.removeprefix("filter[").removesuffix("]")
    if name not in resource.filters:
        return str(uuid4())  # a relationship's filter
    attribute = resource.attribute(name)
    if attribute.kind == "boolean":
        return "true"
    return attribute.enum[0] if attribute.enum else "run-1"


LISTS = (*ALL, "catalog", "changes")


@pytest.mark.parametrize("name", LISTS)
def test_an_unknown_filter_names_every_filter_the_list_takes(admin, name):
    t = f.tenant(admin)
    resource = _described(name)

    reply = _list(name, t, "filter[nope]=x")

    obj = rf.error(reply, 400, "filter[nope]")
    assert obj["code"] == "INVALID_FILTER"
    named = obj["meta"]["filters"]
    assert named
    assert len(set(named)) == len(named)
    for parameter in named:
        assert parameter in obj["detail"]
        # Each one named is taken: the list is what the parser reads, not a copy of it.
        value = _a_value_it_takes(resource, parameter)
        assert _list(name, t, f"{parameter}={value}").status == 200, parameter


def test_an_unknown_filter_of_a_ledger_lists_its_relationships_direction_and_range(admin):
    t = f.tenant(admin)

    obj = rf.error(read("account_workspace_connectors", t.claims(), query="filter[nope]=x"), 400)

    assert obj["meta"]["filters"] == [
        "filter[account]",
        "filter[workspace_connector]",
        "filter[direction]",
        "filter[created_at][gte]",
        "filter[created_at][gt]",
        "filter[created_at][lte]",
        "filter[created_at][lt]",
    ]
    assert obj["detail"].startswith(
        "filter[nope] is not a filter of account_workspace_connector; its filters are: "
        "filter[account], filter[workspace_connector], filter[direction], "
    )
