"""All or nothing: a rejected write changes no byte of any table.

Each case arranges its rows, then the whole schema is snapshotted through the admin
connection (every row of every table, as PostgreSQL prints it), the request is sent, and the
schema is snapshotted again: the two must be identical. A request is refused for one reason
at a time, so the cases cover each reason on each route, including those refused after some
of their rules held.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import uuid4

import pytest

from tests.support import factories as f
from tests.support import writes as w
from tests.support.api import Reply

pytestmark = pytest.mark.usefixtures("api_database")

Send = Callable[[], Reply]
Case = Callable[[Any], Send]
CASES: dict[str, tuple[Case, int, str]] = {}


def case(name: str, status: int, code: str) -> Callable[[Case], Case]:
    def register(arrange: Case) -> Case:
        CASES[name] = (arrange, status, code)
        return arrange

    return register


def owner_group(admin: Any, t: f.Tenant, role: str = "owner") -> tuple[int, Any]:
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, role)
    return group_pk, group_id


# --- every route: the document --------------------------------------------------------------


def _media(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    return lambda: w.post(resource, c.claims, c.document, content_type="application/json")


def _json(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    return lambda: w.post(resource, c.claims, json.dumps(c.document)[:-1])


def _unknown(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    c.document["data"]["attributes"] = {"colour": "red"}
    return lambda: w.post(resource, c.claims, c.document)


def _client_id(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    c.document["data"]["id"] = f"not-a-uuid-{uuid4()}"
    return lambda: w.post(resource, c.claims, c.document)


def _system(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    c.document["data"]["attributes"] = {"created_at": "2020-01-01T00:00:00Z"}
    return lambda: w.post(resource, c.claims, c.document)


def _wrong_type(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    c.document["data"]["type"] = "workspace"
    return lambda: w.post(resource, c.claims, c.document)


def _delete_deleted(admin: Any, resource: str) -> Send:
    c, row_id = w.arrange_row(admin, resource)
    assert w.delete(resource, c.claims, row_id).status == 204
    return lambda: w.delete(resource, c.claims, row_id)


for _resource in w.ALL:
    for _name, _arrange, _status, _code in (
        ("media type", _media, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("truncated JSON", _json, 400, "INVALID_JSON"),
        ("unknown attribute", _unknown, 400, "SCHEMA_VALIDATION_ERROR"),
        ("client id", _client_id, 403, "CLIENT_GENERATED_ID_NOT_ALLOWED"),
        ("system field", _system, 403, "READ_ONLY_FIELD"),
        ("wrong type", _wrong_type, 409, "CONFLICT"),
        ("delete of a deleted row", _delete_deleted, 404, "NOT_FOUND"),
    ):
        case(f"{_resource}: {_name}", _status, _code)(partial(_arrange, resource=_resource))


# --- provenance -----------------------------------------------------------------------------


def _member_create(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    return lambda: w.post(resource, c.tenant.claims("member"), c.document)


def _member_patch(admin: Any, resource: str) -> Send:
    c, row_id = w.arrange_row(admin, resource)
    return lambda: w.patch(resource, c.tenant.claims("member"), row_id, c.document)


def _member_delete(admin: Any, resource: str) -> Send:
    c, row_id = w.arrange_row(admin, resource)
    return lambda: w.delete(resource, c.tenant.claims("member"), row_id)


def _mismatch(admin: Any, resource: str) -> Send:
    a, b = f.tenant(admin), f.tenant(admin)
    _, record_id = f.record_of(a, resource)
    doc = w.provenance_document(resource, record_id, b.workspace_connector_id)
    return lambda: w.post(resource, a.claims("service"), doc)


def _missing_record(admin: Any, resource: str) -> Send:
    t = f.tenant(admin)
    doc = w.provenance_document(resource, uuid4(), t.workspace_connector_id)
    return lambda: w.post(resource, t.claims("service"), doc)


def _no_direction(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    c.document["data"]["attributes"] = {}
    return lambda: w.post(resource, c.claims, c.document)


def _direction_change(admin: Any, resource: str) -> Send:
    c, row_id = w.arrange_row(admin, resource)
    c.document["data"]["attributes"] = {"direction": "output"}
    return lambda: w.patch(resource, c.claims, row_id, c.document)


def _connector_change(admin: Any, resource: str) -> Send:
    c, row_id = w.arrange_row(admin, resource)
    _, other = c.tenant.workspace_connector()
    c.document["data"]["relationships"] = {
        "workspace_connector": w.linkage("workspace_connector", other)
    }
    return lambda: w.patch(resource, c.claims, row_id, c.document)


def _service_out_of_scope(admin: Any, resource: str) -> Send:
    c = w.arrange_create(admin, resource)
    return lambda: w.post(resource, c.claims, c.document, query=f"workspace_id={uuid4()}")


for _resource in w.PROVENANCE:
    for _name, _arrange, _status, _code in (
        ("member create", _member_create, 403, "FORBIDDEN"),
        ("member update", _member_patch, 403, "FORBIDDEN"),
        ("member delete", _member_delete, 403, "FORBIDDEN"),
        ("parents in two workspaces", _mismatch, 422, "WORKSPACE_MISMATCH"),
        ("missing record", _missing_record, 404, "NOT_FOUND"),
        ("no direction", _no_direction, 422, "UNPROCESSABLE_ENTITY"),
        ("direction change", _direction_change, 403, "IMMUTABLE_FIELD"),
        ("connector change", _connector_change, 403, "IMMUTABLE_FIELD"),
        ("service key naming no workspace", _service_out_of_scope, 403, "FORBIDDEN"),
    ):
        case(f"{_resource}: {_name}", _status, _code)(partial(_arrange, resource=_resource))


# --- group enrolments -----------------------------------------------------------------------

GROUPS = "workspace_group_workspaces"


@case("enrolment: group member without owner/admin", 403, "FORBIDDEN")
def _enrol_not_admin(admin: Any) -> Send:
    t = f.tenant(admin)
    _, group_id = owner_group(admin, t, "member")
    return lambda: w.post(GROUPS, t.claims(), w.enrolment_document(group_id, t.workspace_id))


@case("enrolment: pending membership in the workspace", 403, "FORBIDDEN")
def _enrol_pending(admin: Any) -> Send:
    t, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, t.person_pk, other, status="pending")
    _, group_id = owner_group(admin, t)
    return lambda: w.post(GROUPS, t.claims(), w.enrolment_document(group_id, other.workspace_id))


@case("enrolment: invisible group", 404, "NOT_FOUND")
def _enrol_invisible(admin: Any) -> Send:
    t = f.tenant(admin)
    _, group_id = f.group(admin)
    return lambda: w.post(GROUPS, t.claims(), w.enrolment_document(group_id, t.workspace_id))


@case("enrolment: duplicate", 409, "WORKSPACE_GROUP_WORKSPACE_ALREADY_EXISTS")
def _enrol_duplicate(admin: Any) -> Send:
    t = f.tenant(admin)
    group_pk, group_id = owner_group(admin, t)
    f.enrol(admin, group_pk, t.workspace_pk, t.person_pk)
    return lambda: w.post(GROUPS, t.claims(), w.enrolment_document(group_id, t.workspace_id))


@case("enrolment: client names the creator", 403, "READ_ONLY_FIELD")
def _enrol_created_by(admin: Any) -> Send:
    t = f.tenant(admin)
    _, group_id = owner_group(admin, t)
    doc = w.enrolment_document(group_id, t.workspace_id)
    doc["data"]["relationships"]["created_by"] = w.linkage("people", t.person_id)
    return lambda: w.post(GROUPS, t.claims(), doc)


@case("enrolment: member scoped to a workspace they are not active in", 403, "FORBIDDEN")
def _enrol_scoped_out(admin: Any) -> Send:
    t, elsewhere = f.tenant(admin), f.tenant(admin)
    _, group_id = owner_group(admin, t)
    doc = w.enrolment_document(group_id, t.workspace_id)
    return lambda: w.post(GROUPS, t.claims(), doc, query=f"workspace_id={elsewhere.workspace_id}")


@case("enrolment: patch", 403, "FORBIDDEN")
def _enrol_patch(admin: Any) -> Send:
    c, row_id = w.arrange_row(admin, GROUPS)
    return lambda: w.patch(GROUPS, c.claims, row_id, c.document)


@case("enrolment: delete without owner/admin", 403, "FORBIDDEN")
def _enrol_delete_not_admin(admin: Any) -> Send:
    t = f.tenant(admin)
    group_pk, _ = owner_group(admin, t, "guest")
    row_id = f.enrol(admin, group_pk, t.workspace_pk)
    return lambda: w.delete(GROUPS, t.claims(), row_id)


@case("enrolment: nested post naming another group", 409, "CONFLICT")
def _enrol_nested_other_group(admin: Any) -> Send:
    t = f.tenant(admin)
    (_, group_id), (_, other_id) = owner_group(admin, t), owner_group(admin, t)
    doc = w.enrolment_document(other_id, t.workspace_id)
    return lambda: w.enrol(t.claims(), group_id, doc)


@case("enrolment: nested delete without owner/admin", 403, "FORBIDDEN")
def _unenrol_not_admin(admin: Any) -> Send:
    t = f.tenant(admin)
    group_pk, group_id = owner_group(admin, t, "member")
    f.enrol(admin, group_pk, t.workspace_pk)
    return lambda: w.unenrol(t.claims(), group_id, t.workspace_id)


@case("enrolment: nested delete without a live enrolment", 404, "NOT_FOUND")
def _unenrol_none(admin: Any) -> Send:
    t = f.tenant(admin)
    group_pk, group_id = owner_group(admin, t)
    f.enrol(admin, group_pk, t.workspace_pk, deleted=True)
    return lambda: w.unenrol(t.claims(), group_id, t.workspace_id)


# --- workspace providers --------------------------------------------------------------------

PROVIDERS = "workspace_providers"


@case("provider: duplicate", 409, "WORKSPACE_PROVIDER_ALREADY_EXISTS")
def _provider_duplicate(admin: Any) -> Send:
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    f.workspace_provider(admin, t.workspace_pk, provider_pk, selected=False, matched=False)
    doc = w.provider_document(t.workspace_id, provider_id, is_selected=True)
    return lambda: w.post(PROVIDERS, t.claims(), doc)


@case("provider: selected but not matched", 422, "SELECTED_IMPLIES_MATCHED")
def _provider_contradiction(admin: Any) -> Send:
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(t.workspace_id, provider_id, is_selected=True, is_matched=False)
    return lambda: w.post(PROVIDERS, t.claims(), doc)


@case("provider: unmatching a selected row", 422, "SELECTED_IMPLIES_MATCHED")
def _provider_unmatch(admin: Any) -> Send:
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)
    doc = w.document("workspace_provider", row_id=row_id, attributes={"is_matched": False})
    return lambda: w.patch(PROVIDERS, t.claims(), row_id, doc)


@case("provider: another workspace", 404, "NOT_FOUND")
def _provider_other_workspace(admin: Any) -> Send:
    t, other = f.tenant(admin), f.tenant(admin)
    _, provider_id = f.provider(admin)
    return lambda: w.post(
        PROVIDERS, t.claims(), w.provider_document(other.workspace_id, provider_id)
    )


@case("provider: select in a workspace the caller is not in", 404, "NOT_FOUND")
def _select_not_member(admin: Any) -> Send:
    t, other = f.tenant(admin), f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    f.workspace_provider(admin, other.workspace_pk, provider_pk, selected=False, matched=False)
    doc = w.provider_document(None, provider_id)
    return lambda: w.select(t.claims(), other.workspace_id, doc)


@case("provider: select unselecting", 422, "UNPROCESSABLE_ENTITY")
def _select_unselecting(admin: Any) -> Send:
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    f.workspace_provider(admin, t.workspace_pk, provider_pk, selected=False, matched=False)
    doc = w.provider_document(None, provider_id, is_selected=False)
    return lambda: w.select(t.claims(), t.workspace_id, doc)


@case("provider: remove in a workspace the caller is not in", 404, "NOT_FOUND")
def _remove_not_member(admin: Any) -> Send:
    t, other = f.tenant(admin), f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    f.workspace_provider(admin, other.workspace_pk, provider_pk)
    return lambda: w.remove(t.claims(), other.workspace_id, provider_id)


@case("provider: remove without a live row", 404, "NOT_FOUND")
def _remove_none(admin: Any) -> Send:
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    f.workspace_provider(admin, t.workspace_pk, provider_pk, deleted=True)
    return lambda: w.remove(t.claims(), t.workspace_id, provider_id)


@pytest.mark.parametrize("name", CASES)
def test_a_rejected_write_changes_nothing(admin, name):
    arrange, status, code = CASES[name]
    send = arrange(admin)

    with w.writes_nothing(admin):
        reply = send()

    assert reply.status == status, reply.body
    assert code in reply.error_codes()


# --- the snapshot sees every write, so the cases above can fail -------------------------------


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_the_snapshot_sees_an_update_that_only_moves_updated_at(admin, resource):
    # A PATCH that changes nothing writes nothing; an UPDATE that sets no column still fires
    # the trigger, which moves updated_at alone.
    _, row_id = w.arrange_row(admin, resource)
    before = w.snapshot(admin)

    admin.run(
        f"UPDATE core_api.{resource} SET pk = pk WHERE {w.type_of(resource)}_id = CAST(:i AS uuid)",
        i=str(row_id),
    )

    after = w.snapshot(admin)
    assert [t for t in before if before[t] != after[t]] == [resource]


@pytest.mark.parametrize("resource", w.ALL)
def test_the_snapshot_sees_a_create_and_a_delete(admin, resource):
    c = w.arrange_create(admin, resource)
    before = w.snapshot(admin)
    row_id = w.created(w.post(resource, c.claims, c.document))["id"]
    created = w.snapshot(admin)
    assert w.delete(resource, c.claims, row_id).status == 204
    deleted = w.snapshot(admin)

    # Each write also leaves its change record (core_api.change_records).
    changed = sorted([resource, "change_records"])
    assert [t for t in before if before[t] != created[t]] == changed
    assert [t for t in created if created[t] != deleted[t]] == changed


def test_writes_nothing_fails_when_a_row_changes(admin):
    c, row_id = w.arrange_row(admin, "workspace_providers")

    with pytest.raises(AssertionError, match="workspace_providers"), w.writes_nothing(admin):
        w.delete("workspace_providers", c.claims, row_id)
