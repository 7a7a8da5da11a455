"""A client PATCHes back the resource it fetched: what it may not change, it may repeat.

Read-only attributes (the timestamps), create-only ones (``direction``) and the relationships
are accepted at the row's current values and refused, with a pointer and nothing written,
only when they would change. A PATCH that changes nothing writes nothing: the row is not
updated (its ``xmin`` stays), ``updated_at`` does not move, and the answer is the resource as
it is. The rules come from the resource descriptions, so every resource a PATCH may change is
checked the same way.
"""

from __future__ import annotations

import copy
from datetime import timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support import writes as w
from tests.support.api import get
from tests.support.proven import SCOPE_STATEMENT
from wellapi.jsonapi.body import canonical_type
from wellapi.resources import RESOURCES, Attribute

pytestmark = pytest.mark.usefixtures("api_database")

ENROLMENTS = "workspace_group_workspaces"
READ_ONLY = [
    (r, a.name) for r in w.PATCHABLE for a in RESOURCES[r].attributes if a.writable == "never"
]
CREATE_ONLY = [
    (r, a.name) for r in w.PATCHABLE for a in RESOURCES[r].attributes if a.writable == "create"
]
RELATIONSHIPS = [(r, rel.name) for r in w.PATCHABLE for rel in RESOURCES[r].relationships]
# The one writable attribute each resource changes in a round trip, if it has any (a ledger
# row has none: every member of it is create-only or read-only).
CHANGED = {"workspace_providers": ("is_matched", True)}


def fetched(resource: str, claims: dict[str, str], row_id: UUID | str) -> w.Json:
    reply = get(resource, claims, row_id=row_id)
    assert reply.status == 200, reply.body
    return dict(reply.json["data"])


def sent_back(data: w.Json) -> w.Json:
    """The fetched resource object as the body of a PATCH, links and all."""
    return {"data": copy.deepcopy(data)}


def row_version(admin: Any, resource: str, row_id: UUID | str) -> tuple[str, Any]:
    """The row's xmin (a new one for every UPDATE of it) and its updated_at."""
    (row,) = admin.run(
        f"SELECT xmin::text, updated_at FROM core_api.{resource} "
        f"WHERE {w.type_of(resource)}_id = CAST(:i AS uuid)",
        i=str(row_id),
    )
    return row[0], row[1]


def another_value(attribute: Attribute, value: Any) -> Any:
    if attribute.kind == "datetime":
        if value is None:
            return "2020-01-01T00:00:00Z"
        moved = w.timestamp(value) + timedelta(microseconds=1)
        return moved.isoformat().replace("+00:00", "Z")
    if attribute.kind == "enum":
        return next(v for v in attribute.enum if v != value)
    if attribute.kind == "boolean":
        return not value
    raise AssertionError(f"no other value for {attribute.name}")


# --- unchanged: 200, nothing written ----------------------------------------------------------


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_a_fetched_resource_sent_back_unchanged_is_200_and_writes_nothing(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    before = row_version(admin, resource, row_id)

    with w.writes_nothing(admin):
        reply = w.patch(resource, case.claims, row_id, sent_back(data))

    assert reply.status == 200, reply.body
    assert reply.json["data"] == data
    assert reply.json["data"]["attributes"]["updated_at"] == data["attributes"]["updated_at"]
    assert row_version(admin, resource, row_id) == before
    assert fetched(resource, case.claims, row_id) == data


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_an_empty_patch_does_not_fire_the_updated_at_trigger(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    before = row_version(admin, resource, row_id)

    with w.writes_nothing(admin):
        reply = w.patch(
            resource, case.claims, row_id, w.document(w.type_of(resource), row_id=row_id)
        )

    assert reply.status == 200, reply.body
    assert reply.json["data"] == data
    assert row_version(admin, resource, row_id) == before


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_only_the_read_only_members_at_their_values_write_nothing(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    kept = {
        a.name: data["attributes"][a.name]
        for a in RESOURCES[resource].attributes
        if a.writable != "always"
    }
    doc = w.document(w.type_of(resource), row_id=row_id, attributes=kept)
    doc["data"]["relationships"] = copy.deepcopy(data["relationships"])
    before = row_version(admin, resource, row_id)

    with w.writes_nothing(admin):
        reply = w.patch(resource, case.claims, row_id, doc)

    assert reply.status == 200, reply.body
    assert reply.json["data"] == data
    assert row_version(admin, resource, row_id) == before


def test_writable_attributes_sent_at_their_values_write_nothing(admin):
    case, row_id = w.arrange_row(admin, "workspace_providers")
    data = fetched("workspace_providers", case.claims, row_id)
    doc = w.document(
        "workspace_provider",
        row_id=row_id,
        attributes={"is_selected": False, "is_matched": False},
    )
    before = row_version(admin, "workspace_providers", row_id)

    with w.writes_nothing(admin):
        reply = w.patch("workspace_providers", case.claims, row_id, doc)

    assert reply.status == 200, reply.body
    assert reply.json["data"] == data
    assert row_version(admin, "workspace_providers", row_id) == before


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_a_timestamp_is_compared_as_an_instant_whatever_its_offset(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    doc = sent_back(data)
    created = w.timestamp(data["attributes"]["created_at"])
    # The same instant, written another way: another offset, all six fraction digits.
    doc["data"]["attributes"]["created_at"] = created.astimezone(
        timezone(timedelta(hours=5, minutes=30))
    ).isoformat(timespec="microseconds")
    before = row_version(admin, resource, row_id)

    with w.writes_nothing(admin):
        reply = w.patch(resource, case.claims, row_id, doc)

    assert reply.status == 200, reply.body
    assert reply.json["data"] == data
    assert row_version(admin, resource, row_id) == before


def test_a_parent_deleted_since_may_still_be_sent_back(admin):
    """Relationships are compared by the parent's public id, not looked up again: a provider
    taken out of the catalog is still the row's provider, as the GET shows."""
    case, row_id = w.arrange_row(admin, "workspace_providers")
    data = fetched("workspace_providers", case.claims, row_id)
    admin.run(
        "UPDATE core_api.providers SET deleted_at = now() WHERE provider_id = CAST(:p AS uuid)",
        p=w.related_id(data, "provider"),
    )

    reply = w.patch("workspace_providers", case.claims, row_id, sent_back(data))

    assert reply.status == 200, reply.body
    assert reply.json["data"] == data


# Each resource a PATCH may change, sent back unchanged and (where it has a writable
# attribute) changed, with each query a write may ask of its answer.
PATCH_ANSWERS = [
    (r, q, changed)
    for changed, resources in ((False, w.PATCHABLE), (True, sorted(CHANGED)))
    for r in resources
    for q in w.answer_queries(r)
]


@pytest.mark.parametrize(("resource", "query", "changed"), PATCH_ANSWERS, ids=str)
def test_a_patch_answers_what_a_retrieve_with_its_query_answers(
    admin, monkeypatch, resource, query, changed
):
    """A PATCH's one statement answers with the row it leaves, the row it wrote or, when
    nothing changes, the row it found (``wellapi.sqltext.writes.written_row``), and nothing
    reads it back: the document, included records and all, is the Retrieve's."""
    case, row_id = w.arrange_row(admin, resource)
    body = sent_back(fetched(resource, case.claims, row_id))
    if changed:
        name, value = CHANGED[resource]
        body["data"]["attributes"][name] = value
    sent = rf.record_queries(monkeypatch)

    reply = w.patch(resource, case.claims, row_id, body, query=query)

    assert reply.status == 200, reply.body
    (request,) = rf.requests_of(sent)
    scope, write = (s.text for s in request.bound)
    assert scope.startswith(SCOPE_STATEMENT)
    assert write.startswith("WITH ")
    retrieved = get(resource, case.claims, row_id=row_id, query=query)
    assert retrieved.status == 200, retrieved.body
    answered = (reply.json["data"], reply.json.get("included"))
    assert answered == (retrieved.json["data"], retrieved.json.get("included"))
    assert reply.json.get("included"), "each query includes a record"


# --- changed: what may change changes ---------------------------------------------------------


@pytest.mark.parametrize("resource", sorted(CHANGED))
def test_a_fetched_resource_with_a_writable_attribute_changed_is_200_and_changed(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    name, value = CHANGED[resource]
    assert data["attributes"][name] != value
    doc = sent_back(data)
    doc["data"]["attributes"][name] = value
    before = row_version(admin, resource, row_id)

    reply = w.patch(resource, case.claims, row_id, doc)

    assert reply.status == 200, reply.body
    after = reply.json["data"]
    assert after["attributes"][name] == value
    assert w.timestamp(after["attributes"]["updated_at"]) > before[1]
    assert after["attributes"]["created_at"] == data["attributes"]["created_at"]
    assert after["relationships"] == data["relationships"]
    assert row_version(admin, resource, row_id)[0] != before[0]
    assert w.db_row(admin, resource, row_id)[name] == value
    assert fetched(resource, case.claims, row_id) == after


def kitsu_style(fetched_document: w.Json, resource: str, *, canonical: bool) -> w.Json:
    """What a client sends back after a Retrieve with include (kitsu, jsona): the resource as
    fetched, with its links, its relationships' links and a meta of the client's, beside the
    answer's included records, links and jsonapi, and a top-level meta and @-member of its own.
    With ``canonical``, every type in the platform's canonical spelling."""
    doc = copy.deepcopy(fetched_document)
    data = doc["data"]
    assert data["links"]
    assert all(r["links"] for r in data["relationships"].values())
    assert doc.get("included"), "fetched with include: a round trip sends the records back"
    data["meta"] = {"dirty": True}
    for linked in data["relationships"].values():
        linked["meta"] = {}
    if canonical:
        described = RESOURCES[resource]
        data["type"] = canonical_type(described)
        for name, linked in data["relationships"].items():
            if linked["data"] is not None:
                linked["data"]["type"] = canonical_type(described.relationship(name).parent)
    doc["meta"] = {"client": "kitsu"}
    doc["@context"] = "https://schema.org"
    return doc


@pytest.mark.parametrize("canonical", [False, True], ids=["today's types", "canonical types"])
@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_a_kitsu_style_update_with_included_writes_exactly_the_attributes_sent(
    admin, resource, canonical
):
    case, row_id = w.arrange_row(admin, resource)
    include = ",".join(rel.name for rel in RESOURCES[resource].relationships)
    reply = get(resource, case.claims, row_id=row_id, query=f"include={include}")
    assert reply.status == 200, reply.body
    doc = kitsu_style(reply.json, resource, canonical=canonical)
    changed = dict([CHANGED[resource]]) if resource in CHANGED else {}
    doc["data"]["attributes"].update(changed)
    before = w.db_row(admin, resource, row_id)

    answer = w.patch(resource, case.claims, row_id, doc)

    assert answer.status == 200, answer.body
    after = w.db_row(admin, resource, row_id)
    differs = {column for column in after if after[column] != before[column]}
    assert differs == ({*changed, "updated_at"} if changed else set())
    assert {k: after[k] for k in changed} == changed
    data = answer.json["data"]
    assert data["type"] == w.type_of(resource)
    assert data["relationships"] == reply.json["data"]["relationships"]
    assert {k: v for k, v in data["attributes"].items() if k != "updated_at"} == {
        k: changed.get(k, v)
        for k, v in reply.json["data"]["attributes"].items()
        if k != "updated_at"
    }


# --- changed: what may not change is refused -------------------------------------------------


@pytest.mark.parametrize(("resource", "name"), READ_ONLY + CREATE_ONLY)
def test_each_read_only_attribute_changed_is_403_with_its_pointer(admin, resource, name):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    attribute = RESOURCES[resource].attribute(name)
    doc = sent_back(data)
    doc["data"]["attributes"][name] = another_value(attribute, data["attributes"][name])

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, case.claims, row_id, doc), 403)

    # Create-only members keep the code they always had; the rest are read-only.
    assert obj["code"] == (
        "IMMUTABLE_FIELD" if attribute.writable == "create" else "READ_ONLY_FIELD"
    )
    assert obj["source"] == {"pointer": f"/data/attributes/{name}"}


def another_parent(admin: Any, t: f.Tenant, resource: str, name: str) -> UUID:
    """Another live parent the caller may point at, for relationship ``name``."""
    if name == "workspace_connector":
        return t.workspace_connector()[1]
    if name == "provider":
        return f.provider(admin)[1]
    if name == "workspace":
        return f.tenant(admin).workspace_id
    return f.record_of(t, resource)[1]


@pytest.mark.parametrize(("resource", "name"), RELATIONSHIPS)
def test_each_relationship_changed_is_403_with_its_pointer(admin, resource, name):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    doc = sent_back(data)
    other = another_parent(admin, case.tenant, resource, name)
    doc["data"]["relationships"][name]["data"]["id"] = str(other)
    # A member may point only at its scoped workspace (another is 404, as on create); a
    # service key sees every workspace.
    claims = case.tenant.claims("service") if name == "workspace" else case.claims

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, claims, row_id, doc), 403)

    assert obj["code"] == "IMMUTABLE_FIELD"
    assert obj["source"] == {"pointer": f"/data/relationships/{name}"}


@pytest.mark.parametrize(("resource", "name"), RELATIONSHIPS)
def test_a_relationship_changed_to_a_missing_parent_is_404_with_its_pointer(admin, resource, name):
    case, row_id = w.arrange_row(admin, resource)
    doc = sent_back(fetched(resource, case.claims, row_id))
    doc["data"]["relationships"][name]["data"]["id"] = str(uuid4())

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, case.claims, row_id, doc), 404)

    assert obj["source"] == {"pointer": f"/data/relationships/{name}"}


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_every_changed_read_only_member_is_reported_at_once(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    doc = sent_back(data)
    doc["data"]["attributes"]["created_at"] = "2020-01-01T00:00:00Z"
    doc["data"]["attributes"]["deleted_at"] = "2020-01-01T00:00:00Z"

    with w.writes_nothing(admin):
        reply = w.patch(resource, case.claims, row_id, doc)

    assert reply.status == 403, reply.body
    assert w.pointers(reply) == ["/data/attributes/created_at", "/data/attributes/deleted_at"]
    assert set(reply.error_codes()) == {"READ_ONLY_FIELD"}


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_a_stale_updated_at_is_a_change_and_refused(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    data = fetched(resource, case.claims, row_id)
    admin.run(
        f"UPDATE core_api.{resource} SET pk = pk WHERE {w.type_of(resource)}_id = CAST(:i AS uuid)",
        i=str(row_id),
    )

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, case.claims, row_id, sent_back(data)), 403)

    assert obj["code"] == "READ_ONLY_FIELD"
    assert obj["source"] == {"pointer": "/data/attributes/updated_at"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("created_at", "yesterday"),
        ("created_at", 1767225600),
        ("created_at", "2026-01-01T00:00:00"),
        ("created_at", ""),
        ("created_at", None),
        ("updated_at", ["2026-01-01T00:00:00Z"]),
        ("deleted_at", "2026-13-01T00:00:00Z"),
    ],
    ids=repr,
)
@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_a_malformed_timestamp_is_400_with_its_pointer(admin, resource, name, value):
    case, row_id = w.arrange_row(admin, resource)
    doc = sent_back(fetched(resource, case.claims, row_id))
    doc["data"]["attributes"][name] = value

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, case.claims, row_id, doc), 400)

    assert obj["code"] == "SCHEMA_VALIDATION_ERROR"
    assert obj["source"] == {"pointer": f"/data/attributes/{name}"}


# --- out of scope: 404 before anything is compared --------------------------------------------


@pytest.mark.parametrize("changed", [False, True])
def test_a_no_op_patch_by_an_out_of_scope_caller_is_404(admin, changed):
    case, row_id = w.arrange_row(admin, "workspace_providers")
    doc = sent_back(fetched("workspace_providers", case.claims, row_id))
    if changed:
        doc["data"]["attributes"]["created_at"] = "2020-01-01T00:00:00Z"
    stranger = f.tenant(admin)

    with w.writes_nothing(admin):
        obj = w.error(w.patch("workspace_providers", stranger.claims(), row_id, doc), 404)

    assert obj["code"] == "NOT_FOUND"
    assert "source" not in obj


@pytest.mark.parametrize("resource", w.PROVENANCE)
def test_a_no_op_patch_of_a_ledger_row_by_a_member_is_refused_before_the_body(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    doc = sent_back(fetched(resource, case.claims, row_id))

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, case.tenant.claims("member"), row_id, doc), 403)

    assert obj["code"] == "FORBIDDEN"


def test_a_no_op_patch_of_a_deleted_row_is_404(admin):
    case, row_id = w.arrange_row(admin, "workspace_providers")
    doc = sent_back(fetched("workspace_providers", case.claims, row_id))
    assert w.delete("workspace_providers", case.claims, row_id).status == 204

    with w.writes_nothing(admin):
        obj = w.error(w.patch("workspace_providers", case.claims, row_id, doc), 404)

    assert obj["code"] == "NOT_FOUND"


# --- a relationship no client writes (created_by), where a PATCH is allowed -------------------


@pytest.fixture
def enrolments_patchable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Enrolments are never PATCHed (removed and added instead); with that rule lifted, the
    generic engine compares their server-set ``created_by`` as it does any read-only member."""
    monkeypatch.setattr(RESOURCES[ENROLMENTS].rules, "patch_allowed", True)


def enrolment(admin: Any, *, created_by: bool) -> tuple[f.Tenant, UUID]:
    t = f.tenant(admin)
    group_pk, _ = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "admin")
    return t, f.enrol(admin, group_pk, t.workspace_pk, t.person_pk if created_by else None)


def test_enrolments_are_still_never_patched(admin):
    t, row_id = enrolment(admin, created_by=True)
    doc = sent_back(fetched(ENROLMENTS, t.claims(), row_id))

    with w.writes_nothing(admin):
        assert w.error(w.patch(ENROLMENTS, t.claims(), row_id, doc), 403)["code"] == "FORBIDDEN"


@pytest.mark.usefixtures("enrolments_patchable")
@pytest.mark.parametrize("created_by", [True, False], ids=["set", "null"])
def test_a_server_set_relationship_sent_back_unchanged_writes_nothing(admin, created_by):
    t, row_id = enrolment(admin, created_by=created_by)
    data = fetched(ENROLMENTS, t.claims(), row_id)
    assert (w.related_id(data, "created_by") is None) is not created_by
    before = row_version(admin, ENROLMENTS, row_id)

    with w.writes_nothing(admin):
        reply = w.patch(ENROLMENTS, t.claims(), row_id, sent_back(data))

    assert reply.status == 200, reply.body
    assert reply.json["data"] == data
    assert row_version(admin, ENROLMENTS, row_id) == before


@pytest.mark.usefixtures("enrolments_patchable")
@pytest.mark.parametrize(
    ("created_by", "linkage"),
    [(True, "another"), (True, "null"), (False, "another")],
    ids=["set-changed", "set-nulled", "null-set"],
)
def test_a_server_set_relationship_changed_is_403_read_only_field(admin, created_by, linkage):
    t, row_id = enrolment(admin, created_by=created_by)
    doc = sent_back(fetched(ENROLMENTS, t.claims(), row_id))
    doc["data"]["relationships"]["created_by"] = (
        {"data": None} if linkage == "null" else w.linkage("people", uuid4())
    )

    with w.writes_nothing(admin):
        obj = w.error(w.patch(ENROLMENTS, t.claims(), row_id, doc), 403)

    assert obj["code"] == "READ_ONLY_FIELD"
    assert obj["source"] == {"pointer": "/data/relationships/created_by"}
