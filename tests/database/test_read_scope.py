"""Tenant scope, soft delete and workspace resolution: what exists for whom."""

from __future__ import annotations

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support.proven import SCOPE_STATEMENT, SignedScope
from tests.support.read_factories import ALL, PROVENANCE, ids, read
from wellapi.resources import resource_named

pytestmark = pytest.mark.usefixtures("api_database")


def assert_invisible(t: f.Tenant, row: rf.Row, *, query: str = "") -> None:
    """Out of scope answers exactly like missing: absent from List, 404 on Retrieve."""
    listed = read(row.resource, t.claims(), query=query)
    assert str(row.id) not in ids(listed)
    assert str(row.id) not in listed.body
    retrieved = read(row.resource, t.claims(), row_id=row.id)
    obj = rf.error(retrieved, 404)
    assert obj["code"] == "NOT_FOUND"


def assert_visible(t: f.Tenant, row: rf.Row, *, query: str = "") -> None:
    assert str(row.id) in ids(read(row.resource, t.claims(), query=query))
    assert read(row.resource, t.claims(), row_id=row.id, query=query).status == 200


# --- soft delete --------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL)
def test_a_soft_deleted_row_does_not_exist(admin, resource):
    t = f.tenant(admin)
    live = rf.make_row(admin, t, resource)
    gone = rf.make_row(admin, t, resource, deleted=True)
    later = rf.make_row(admin, t, resource)
    rf.soft_delete(admin, resource, later.pk)

    assert ids(read(resource, t.claims())) == [str(live.id)]
    assert_invisible(t, gone)
    assert_invisible(t, later)


# --- provenance: both parents in the workspace ------------------------------------------------


@pytest.mark.parametrize("resource", PROVENANCE)
def test_provenance_row_is_visible_in_the_workspace_of_both_its_parents(admin, resource):
    a, b = f.tenant(admin), f.tenant(admin)
    row = rf.provenance(admin, a, resource)

    assert_visible(a, row)
    assert_invisible(b, row)


@pytest.mark.parametrize("resource", PROVENANCE)
def test_provenance_rows_of_another_workspaces_connector_are_not_found_by_filter(admin, resource):
    a, b = f.tenant(admin), f.tenant(admin)
    theirs = rf.provenance(admin, b, resource)

    reply = read(
        resource, a.claims(), query=f"filter[workspace_connector]={b.workspace_connector_id}"
    )

    assert ids(reply) == []
    assert_invisible(a, theirs)


# --- the query's own rule, with row-level security out of the way ----------------------------

EVERYTHING = {key: ",".join(names) for key, names in rf.RELATIONSHIPS.items()}


def out_of_scope_rows(admin, t: f.Tenant, resource: str) -> list[rf.Row]:
    """Rows ``t`` must not see, one for each way of being out of scope."""
    other = f.tenant(admin)
    if resource in PROVENANCE:
        # A row whose record and connector sit in two workspaces cannot exist (see
        # tests/database/test_ledger_parents.py): the other tenant's rows are the only way out
        # of scope.
        return [rf.provenance(admin, other, resource)]
    if resource == "workspace_group_workspaces":
        left = f.group(admin)
        rf.group_membership(admin, left[0], t.person_pk, deleted=True)
        return [rf.enrolment(admin, other), rf.enrolment(admin, other, group=left)]
    return [rf.workspace_provider(admin, other)]


@pytest.mark.parametrize("resource", ALL)
def test_the_query_alone_applies_the_tenant_rule_without_row_level_security(
    admin, monkeypatch, resource
):
    # Row-level security repeats the rule for the API's role; here each layer must hold alone.
    bypass = "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    assert admin.run(bypass) == [[True]]
    t = f.tenant(admin)
    mine = rf.make_row(admin, t, resource)
    theirs = out_of_scope_rows(admin, t, resource)
    queries = rf.record_queries(monkeypatch)

    claims = t.claims()
    listed = read(resource, claims, query=f"include={EVERYTHING[resource]}")
    for row in theirs:
        rf.error(read(resource, claims, row_id=row.id), 404)

    assert ids(listed) == [str(mine.id)]
    requests = rf.requests_of(queries)
    assert all(request.read_only for request in requests)
    assert all(request.statements.startswith(SCOPE_STATEMENT) for request in requests)
    scripts = [request.bound for request in requests]
    assert len(scripts) == 1 + len(theirs)
    # The API's own statements with their bound values (each with a proof of its own
    # transaction), run by a role that bypasses row-level security.
    results = [SignedScope.of(claims).run(admin, script) for script in scripts]
    assert all(result[0][0] == t.workspace_pk for result in results)
    # The List's script: the scope, its total, its page.
    assert results[0][1] == [1]
    assert [str(row[0]) for row in results[0][2:]] == [str(mine.id)]
    assert all(result[1:] == [] for result in results[1:])


# --- workspace providers ------------------------------------------------------------------------


def test_workspace_provider_is_visible_only_in_its_workspace(admin):
    a, b = f.tenant(admin), f.tenant(admin)
    provider = f.provider(admin)
    in_a = rf.workspace_provider(admin, a, provider=provider)
    in_b = rf.workspace_provider(admin, b, provider=provider)

    assert ids(read("workspace_providers", a.claims())) == [str(in_a.id)]
    assert ids(read("workspace_providers", b.claims())) == [str(in_b.id)]
    assert_invisible(a, in_b)
    assert_invisible(b, in_a)


# --- group enrolments -----------------------------------------------------------------------


def test_enrolment_is_visible_in_its_workspace(admin):
    a, b = f.tenant(admin), f.tenant(admin)
    row = rf.enrolment(admin, a)

    assert_visible(a, row)
    assert_invisible(b, row)


def test_enrolment_is_visible_to_an_active_member_of_its_group(admin):
    owner, member, outsider = f.tenant(admin), f.tenant(admin), f.tenant(admin)
    group = f.group(admin, created_by_pk=owner.person_pk)
    rf.group_membership(admin, group[0], member.person_pk)
    row = rf.enrolment(admin, owner, group=group)

    assert_visible(member, row)
    assert_invisible(outsider, row)


def test_enrolment_is_invisible_once_the_group_membership_is_soft_deleted(admin):
    owner, former = f.tenant(admin), f.tenant(admin)
    group = f.group(admin)
    rf.group_membership(admin, group[0], former.person_pk, deleted=True)
    row = rf.enrolment(admin, owner, group=group)

    assert_invisible(former, row)


def test_enrolment_seen_through_group_membership_includes_nothing_of_the_other_tenant(admin):
    owner, member = f.tenant(admin, name="Owner workspace"), f.tenant(admin)
    group = f.group(admin, name="Shared group", created_by_pk=owner.person_pk)
    rf.group_membership(admin, group[0], member.person_pk)
    row = rf.enrolment(admin, owner, group=group)  # created by the owner's person
    everything = "include=workspace_group,workspace,created_by"

    for reply in (
        read("workspace_group_workspaces", member.claims(), query=everything),
        read("workspace_group_workspaces", member.claims(), row_id=row.id, query=everything),
    ):
        assert reply.status == 200, reply.body
        data = reply.json["data"]
        obj = data[0] if isinstance(data, list) else data
        # The row's own linkage still names its parents...
        assert obj["relationships"]["workspace"]["data"]["id"] == str(owner.workspace_id)
        # ...but only the group, which the caller may see, is included.
        included = {(o["type"], o["id"]) for o in reply.json["included"]}
        assert included == {("workspace_group", str(group[1]))}
        assert "Owner workspace" not in reply.body
        assert "Grace Hopper" not in reply.body  # the owner's person
    # The owner sees all of it.
    own = read("workspace_group_workspaces", owner.claims(), row_id=row.id, query=everything)
    assert {o["type"] for o in own.json["included"]} == {"workspace_group", "workspace", "people"}


def test_included_group_of_an_enrolment_in_scope_is_visible(admin):
    t = f.tenant(admin)
    group = f.group(admin, name="Mine")
    row = rf.enrolment(admin, t, group=group)

    reply = read(
        "workspace_group_workspaces", t.claims(), row_id=row.id, query="include=workspace_group"
    )

    assert [o["attributes"] for o in reply.json["included"]] == [{"name": "Mine"}]


# --- workspace resolution ---------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["workspace_id", "workspaceId"])
@pytest.mark.parametrize("resource", ALL)
def test_workspace_id_of_an_active_membership_switches_the_scope(admin, resource, spelling):
    home, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, home.person_pk, other, status="active")
    mine = rf.make_row(admin, home, resource)
    theirs = rf.make_row(admin, other, resource)
    switch = f"{spelling}={other.workspace_id}"

    assert ids(read(resource, home.claims(), query=switch)) == [str(theirs.id)]
    assert read(resource, home.claims(), row_id=theirs.id, query=switch).status == 200
    rf.error(read(resource, home.claims(), row_id=mine.id, query=switch), 404)
    # Without the parameter the key's default workspace applies.
    assert ids(read(resource, home.claims())) == [str(mine.id)]


@pytest.mark.parametrize("status", ["pending", None])
@pytest.mark.parametrize("spelling", ["workspace_id", "workspaceId"])
def test_workspace_id_without_an_active_membership_is_forbidden(admin, status, spelling):
    home, other = f.tenant(admin), f.tenant(admin)
    if status:
        f.join_workspace(admin, home.person_pk, other, status=status)
    row = rf.make_row(admin, other, "account_workspace_connectors")
    switch = f"{spelling}={other.workspace_id}"

    for reply in (
        read("account_workspace_connectors", home.claims(), query=switch),
        read("account_workspace_connectors", home.claims(), row_id=row.id, query=switch),
    ):
        obj = rf.error(reply, 403, spelling)
        assert obj["code"] == "FORBIDDEN"


def test_a_soft_deleted_membership_does_not_open_a_workspace(admin):
    home, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, home.person_pk, other, status="active")
    admin.run(
        "UPDATE core_api.memberships SET deleted_at = now() "
        "WHERE person_pk = :p AND workspace_pk = :w",
        p=home.person_pk,
        w=other.workspace_pk,
    )

    reply = read("workspace_providers", home.claims(), query=f"workspace_id={other.workspace_id}")

    rf.error(reply, 403, "workspace_id")


def test_a_default_workspace_without_an_active_membership_is_forbidden(admin):
    home, other = f.tenant(admin), f.tenant(admin)
    claims = home.claims() | {"workspace_id": str(other.workspace_id)}

    reply = read("workspace_providers", claims)

    obj = rf.error(reply, 403)
    assert obj["code"] == "FORBIDDEN"
    assert "source" not in obj


@pytest.mark.parametrize("resource", ALL)
def test_a_service_principal_may_choose_any_live_workspace(admin, resource):
    service, other = f.tenant(admin), f.tenant(admin)
    row = rf.make_row(admin, other, resource)

    listed = read(resource, service.claims("service"), query=f"workspace_id={other.workspace_id}")
    retrieved = read(
        resource,
        service.claims("service"),
        row_id=row.id,
        query=f"workspace_id={other.workspace_id}",
    )

    assert str(row.id) in ids(listed)
    assert retrieved.status == 200


@pytest.mark.parametrize("resource", ALL)
def test_a_service_list_reads_the_scoped_workspace_or_the_parents_its_filter_names(admin, resource):
    service, other = f.tenant(admin), f.tenant(admin)
    theirs = rf.make_row(admin, other, resource)
    ours = rf.make_row(admin, service, resource)

    # No List reads every tenant at once: without a filter, the key's own workspace.
    assert ids(read(resource, service.claims("service"))) == [str(ours.id)]
    for name in resource_named(resource).scope_relationships:
        parent = theirs.parents[name]
        assert parent is not None
        named = read(resource, service.claims("service"), query=f"filter[{name}]={parent[1]}")
        assert ids(named) == [str(theirs.id)], name


def test_a_service_principal_cannot_choose_a_deleted_or_unknown_workspace(admin):
    service, gone = f.tenant(admin), f.tenant(admin)
    admin.run(
        "UPDATE core_api.workspaces SET deleted_at = now() WHERE pk = :pk", pk=gone.workspace_pk
    )

    for workspace_id in (gone.workspace_id, "00000000-0000-4000-8000-000000000000"):
        reply = read(
            "workspace_providers", service.claims("service"), query=f"workspace_id={workspace_id}"
        )
        rf.error(reply, 403, "workspace_id")


def test_a_member_principal_is_not_a_service_principal(admin):
    member, other = f.tenant(admin), f.tenant(admin)

    reply = read(
        "workspace_providers", member.claims("member"), query=f"workspace_id={other.workspace_id}"
    )

    rf.error(reply, 403, "workspace_id")


def test_a_soft_deleted_person_is_unauthorized(admin):
    t = f.tenant(admin)
    admin.run("UPDATE core_api.peoples SET deleted_at = now() WHERE pk = :pk", pk=t.person_pk)

    rf.error(read("workspace_providers", t.claims()), 401)
