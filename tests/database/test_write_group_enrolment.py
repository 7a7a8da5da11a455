"""Workspace group enrolments: adding needs owner/admin on the group and an active membership
in the workspace, removing needs owner/admin on the group only, and there is at most one live
enrolment per (group, workspace). Both the generic routes and the platform's nested ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support import factories as f
from tests.support import writes as w
from tests.support.api import get

pytestmark = pytest.mark.usefixtures("api_database")
RESOURCE = "workspace_group_workspaces"
CONFLICT = "WORKSPACE_GROUP_WORKSPACE_ALREADY_EXISTS"


@dataclass
class Group:
    pk: int
    id: UUID


def group_with(admin: Any, person_pk: int, role: str | None) -> Group:
    """A group in which the person has ``role`` (None: not a member at all)."""
    pk, group_id = f.group(admin)
    if role is not None:
        f.group_member(admin, pk, person_pk, role)
    return Group(pk, group_id)


def enrolments(admin: Any, group: Group, workspace_pk: int) -> list[Any]:
    return list(
        admin.run(
            "SELECT workspace_group_workspace_id, created_by_pk, deleted_at "
            "FROM core_api.workspace_group_workspaces "
            "WHERE workspace_group_pk = :g AND workspace_pk = :w ORDER BY pk",
            g=group.pk,
            w=workspace_pk,
        )
    )


def live(admin: Any, group: Group, workspace_pk: int) -> list[str]:
    return [str(r[0]) for r in enrolments(admin, group, workspace_pk) if r[2] is None]


# --- adding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_a_group_owner_or_admin_adds_a_workspace_they_are_active_in(admin, role):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, role)

    data = w.created(w.post(RESOURCE, t.claims(), w.enrolment_document(group.id, t.workspace_id)))

    assert w.related_id(data, "workspace_group") == str(group.id)
    assert w.related_id(data, "workspace") == str(t.workspace_id)
    assert live(admin, group, t.workspace_pk) == [data["id"]]


def test_the_enrolment_records_the_caller_as_its_creator(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")

    data = w.created(w.post(RESOURCE, t.claims(), w.enrolment_document(group.id, t.workspace_id)))

    assert w.related_id(data, "created_by") == str(t.person_id)
    assert enrolments(admin, group, t.workspace_pk)[0][1] == t.person_pk


def test_a_workspace_other_than_the_callers_default_can_be_added(admin):
    home, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, home.person_pk, other)
    group = group_with(admin, home.person_pk, "admin")

    reply = w.post(RESOURCE, home.claims(), w.enrolment_document(group.id, other.workspace_id))

    assert w.related_id(w.created(reply), "workspace") == str(other.workspace_id)


def test_a_client_may_not_name_the_creator(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")
    doc = w.enrolment_document(group.id, t.workspace_id)
    doc["data"]["relationships"]["created_by"] = w.linkage("people", t.person_id)

    with w.writes_nothing(admin):
        obj = w.error(w.post(RESOURCE, t.claims(), doc), 403)

    assert obj["source"] == {"pointer": "/data/relationships/created_by"}


@pytest.mark.parametrize("role", ["member", "guest", None])
def test_adding_needs_owner_or_admin_on_the_group(admin, role):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, role)
    if role is None:
        # Visible to the caller through their workspace's enrolment, but not theirs to manage.
        f.enrol(admin, group.pk, t.workspace_pk)
        target = f.tenant(admin)
        f.join_workspace(admin, t.person_pk, target)
    else:
        target = t

    with w.writes_nothing(admin):
        reply = w.post(RESOURCE, t.claims(), w.enrolment_document(group.id, target.workspace_id))

    obj = w.error(reply, 403)
    assert obj["source"] == {"pointer": "/data/relationships/workspace_group"}


def test_adding_needs_an_active_membership_in_the_workspace(admin):
    home, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, home.person_pk, other, status="pending")
    group = group_with(admin, home.person_pk, "owner")

    with w.writes_nothing(admin):
        reply = w.post(RESOURCE, home.claims(), w.enrolment_document(group.id, other.workspace_id))

    obj = w.error(reply, 403)
    assert obj["source"] == {"pointer": "/data/relationships/workspace"}


def test_a_workspace_the_caller_has_no_membership_in_is_404(admin):
    home, stranger = f.tenant(admin), f.tenant(admin)
    group = group_with(admin, home.person_pk, "owner")
    doc = w.enrolment_document(group.id, stranger.workspace_id)

    with w.writes_nothing(admin):
        obj = w.error(w.post(RESOURCE, home.claims(), doc), 404)

    assert obj["source"] == {"pointer": "/data/relationships/workspace"}


@pytest.mark.parametrize("state", ["invisible", "missing", "soft-deleted"])
def test_a_group_the_caller_cannot_see_is_404(admin, state):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner" if state == "soft-deleted" else None)
    group_id = uuid4() if state == "missing" else group.id
    if state == "soft-deleted":
        admin.run(
            "UPDATE core_api.workspace_groups SET deleted_at = now() WHERE pk = :g", g=group.pk
        )

    with w.writes_nothing(admin):
        obj = w.error(
            w.post(RESOURCE, t.claims(), w.enrolment_document(group_id, t.workspace_id)), 404
        )

    assert obj["source"] == {"pointer": "/data/relationships/workspace_group"}


def test_a_second_live_enrolment_of_the_same_pair_is_409(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")
    doc = w.enrolment_document(group.id, t.workspace_id)
    first = w.created(w.post(RESOURCE, t.claims(), doc))

    with w.writes_nothing(admin):
        obj = w.error(w.post(RESOURCE, t.claims(), doc), 409)

    assert obj["code"] == CONFLICT
    assert live(admin, group, t.workspace_pk) == [first["id"]]


def test_remove_then_add_again_creates_a_new_row(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")
    doc = w.enrolment_document(group.id, t.workspace_id)
    first = w.created(w.post(RESOURCE, t.claims(), doc))
    assert w.delete(RESOURCE, t.claims(), first["id"]).status == 204

    second = w.created(w.post(RESOURCE, t.claims(), doc))

    assert second["id"] != first["id"]
    rows = enrolments(admin, group, t.workspace_pk)
    assert [str(r[0]) for r in rows] == [first["id"], second["id"]]
    assert rows[0][2] is not None
    assert rows[1][2] is None
    assert get(RESOURCE, t.claims(), row_id=first["id"]).status == 404


def test_a_service_principal_adds_without_group_or_workspace_roles(admin):
    service, other = f.tenant(admin), f.tenant(admin)
    group = group_with(admin, other.person_pk, "owner")

    data = w.created(
        w.post(
            RESOURCE, service.claims("service"), w.enrolment_document(group.id, other.workspace_id)
        )
    )

    assert w.related_id(data, "created_by") == str(service.person_id)


def test_a_member_scoped_to_a_workspace_without_their_active_membership_writes_nothing(admin):
    """set_scope knows the person even then: no rule that asks about the person may let the
    write through when the request is refused for its scope."""
    t, elsewhere = f.tenant(admin), f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")
    scoped_out = f"workspace_id={elsewhere.workspace_id}"
    row_id = f.enrol(admin, group.pk, t.workspace_pk, t.person_pk)
    other_group = group_with(admin, t.person_pk, "owner")

    with w.writes_nothing(admin):
        created = w.post(
            RESOURCE,
            t.claims(),
            w.enrolment_document(other_group.id, t.workspace_id),
            query=scoped_out,
        )
        deleted = w.delete(RESOURCE, t.claims(), row_id, query=scoped_out)

    for reply in (created, deleted):
        assert w.error(reply, 403)["source"] == {"parameter": "workspace_id"}


# --- removing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_removing_needs_owner_or_admin_on_the_group_only(admin, role):
    enrolled, remover = f.tenant(admin), f.tenant(admin)
    group = group_with(admin, remover.person_pk, role)
    row_id = f.enrol(admin, group.pk, enrolled.workspace_pk, enrolled.person_pk)

    assert w.delete(RESOURCE, remover.claims(), row_id).status == 204

    assert live(admin, group, enrolled.workspace_pk) == []


@pytest.mark.parametrize("role", ["member", "guest"])
def test_a_group_member_without_owner_or_admin_may_not_remove(admin, role):
    enrolled, member = f.tenant(admin), f.tenant(admin)
    group = group_with(admin, member.person_pk, role)
    row_id = f.enrol(admin, group.pk, enrolled.workspace_pk)

    with w.writes_nothing(admin):
        obj = w.error(w.delete(RESOURCE, member.claims(), row_id), 403)

    assert obj["code"] == "FORBIDDEN"


def test_the_workspace_owner_without_a_group_role_may_not_remove(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, None)
    row_id = f.enrol(admin, group.pk, t.workspace_pk, t.person_pk)

    with w.writes_nothing(admin):
        assert w.error(w.delete(RESOURCE, t.claims(), row_id), 403)["code"] == "FORBIDDEN"


def test_an_enrolment_the_caller_cannot_see_is_404_on_delete(admin):
    enrolled, stranger = f.tenant(admin), f.tenant(admin)
    group = group_with(admin, enrolled.person_pk, "owner")
    row_id = f.enrol(admin, group.pk, enrolled.workspace_pk)

    with w.writes_nothing(admin):
        assert w.error(w.delete(RESOURCE, stranger.claims(), row_id), 404)["code"] == "NOT_FOUND"


def test_a_service_principal_removes_any_enrolment(admin):
    enrolled, service = f.tenant(admin), f.tenant(admin)
    group = group_with(admin, enrolled.person_pk, "owner")
    row_id = f.enrol(admin, group.pk, enrolled.workspace_pk)

    assert w.delete(RESOURCE, service.claims("service"), row_id).status == 204
    assert w.db_row(admin, RESOURCE, row_id)["deleted_at"] is not None


# --- no PATCH -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["member", "service"])
def test_patch_is_403(admin, kind):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")
    row_id = f.enrol(admin, group.pk, t.workspace_pk, t.person_pk)
    doc = w.document("workspace_group_workspace", row_id=row_id)

    with w.writes_nothing(admin):
        obj = w.error(w.patch(RESOURCE, t.claims(kind), row_id, doc), 403)

    assert obj["code"] == "FORBIDDEN"


# --- the nested routes --------------------------------------------------------------------------


def test_nested_post_takes_the_group_from_the_path(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")

    data = w.created(w.enrol(t.claims(), group.id, w.enrolment_document(None, t.workspace_id)))

    assert w.related_id(data, "workspace_group") == str(group.id)
    assert w.related_id(data, "created_by") == str(t.person_id)
    # The path names a group, not a workspace: the links carry none.
    assert data["links"]["self"] == f"https://api.test/v1/workspace-group-workspaces/{data['id']}"
    assert live(admin, group, t.workspace_pk) == [data["id"]]


def test_nested_post_may_repeat_the_paths_group_in_the_body(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")

    reply = w.enrol(t.claims(), group.id, w.enrolment_document(group.id, t.workspace_id))

    w.created(reply)


def test_nested_post_naming_another_group_in_the_body_is_409(admin):
    t = f.tenant(admin)
    group, other = (group_with(admin, t.person_pk, "owner") for _ in range(2))

    with w.writes_nothing(admin):
        reply = w.enrol(t.claims(), group.id, w.enrolment_document(other.id, t.workspace_id))

    obj = w.error(reply, 409)
    assert obj["source"] == {"pointer": "/data/relationships/workspace_group"}


def test_nested_post_applies_the_same_rules(admin):
    t = f.tenant(admin)
    member_of = group_with(admin, t.person_pk, "member")
    owned = group_with(admin, t.person_pk, "owner")
    f.enrol(admin, owned.pk, t.workspace_pk)
    doc = w.enrolment_document(None, t.workspace_id)

    with w.writes_nothing(admin):
        forbidden = w.enrol(t.claims(), member_of.id, doc)
        duplicate = w.enrol(t.claims(), owned.id, doc)
        invisible = w.enrol(t.claims(), uuid4(), doc)

    assert w.error(forbidden, 403)["source"] == {"pointer": "/data/relationships/workspace_group"}
    assert w.error(duplicate, 409)["code"] == CONFLICT
    assert w.error(invisible, 404)["source"] == {"pointer": "/data/relationships/workspace_group"}


def test_nested_delete_removes_the_live_enrolment(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "admin")
    old = f.enrol(admin, group.pk, t.workspace_pk, deleted=True)
    row_id = f.enrol(admin, group.pk, t.workspace_pk, t.person_pk)

    reply = w.unenrol(t.claims(), group.id, t.workspace_id)

    assert reply.status == 204, reply.body
    assert reply.body == ""
    assert w.db_row(admin, RESOURCE, row_id)["deleted_at"] is not None
    assert live(admin, group, t.workspace_pk) == []
    assert w.db_row(admin, RESOURCE, old)["deleted_at"] is not None


def test_nested_delete_without_a_live_enrolment_is_404(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")
    f.enrol(admin, group.pk, t.workspace_pk, deleted=True)
    other = f.tenant(admin)

    with w.writes_nothing(admin):
        never = w.unenrol(t.claims(), group.id, other.workspace_id)
        removed = w.unenrol(t.claims(), group.id, t.workspace_id)
        no_group = w.unenrol(t.claims(), uuid4(), t.workspace_id)

    for reply in (never, removed, no_group):
        assert w.error(reply, 404)["code"] == "NOT_FOUND"


def test_nested_delete_needs_owner_or_admin_on_the_group(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "member")
    f.enrol(admin, group.pk, t.workspace_pk)

    with w.writes_nothing(admin):
        obj = w.error(w.unenrol(t.claims(), group.id, t.workspace_id), 403)

    assert obj["code"] == "FORBIDDEN"


def test_nested_delete_then_nested_post_enrols_again(admin):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")
    doc = w.enrolment_document(None, t.workspace_id)
    first = w.created(w.enrol(t.claims(), group.id, doc))
    assert w.unenrol(t.claims(), group.id, t.workspace_id).status == 204

    second = w.created(w.enrol(t.claims(), group.id, doc))

    assert second["id"] != first["id"]
    assert live(admin, group, t.workspace_pk) == [second["id"]]


@pytest.mark.parametrize("bad", ["group", "workspace"])
def test_nested_routes_with_a_path_id_that_is_no_uuid_are_400(admin, bad):
    t = f.tenant(admin)
    group = group_with(admin, t.person_pk, "owner")
    group_id = "nope" if bad == "group" else str(group.id)
    workspace_id = "nope" if bad == "workspace" else str(t.workspace_id)

    with w.writes_nothing(admin):
        deleted = w.unenrol(t.claims(), group_id, workspace_id)
    assert w.error(deleted, 400)["code"] == "INVALID_ID"
    if bad == "group":
        with w.writes_nothing(admin):
            posted = w.enrol(t.claims(), group_id, w.enrolment_document(None, t.workspace_id))
        assert w.error(posted, 400)["code"] == "INVALID_ID"
