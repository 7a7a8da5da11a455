"""Write requests as JSON:API 1.1 documents: media types, malformed bodies, document rules,
pointers to every member at fault, and the documents a write answers with.

Every reply is checked by ``api.call`` (media type, JSON:API 1.1 schema); every rejected
request is checked to write nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.support import factories as f
from tests.support import writes as w
from tests.support.api import JSONAPI, Reply, get

pytestmark = pytest.mark.usefixtures("api_database")


# --- the four routes that take a document ---------------------------------------------------


@dataclass
class Route:
    """One write route, ready to send its valid document or any other body."""

    name: str
    document: w.Json
    success: int
    send: Callable[..., Reply]


def _route(admin: Any, name: str) -> Route:
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    if name == "create":
        doc = w.provider_document(t.workspace_id, provider_id)
        return Route(
            name,
            doc,
            201,
            lambda body, **kw: w.post("workspace_providers", t.claims(), body, **kw),
        )
    if name == "update":
        provider_pk, _ = f.provider(admin)
        row_id = f.workspace_provider(
            admin, t.workspace_pk, provider_pk, selected=False, matched=False
        )
        doc = w.document("workspace_provider", row_id=row_id, attributes={"is_matched": True})
        return Route(
            name,
            doc,
            200,
            lambda body, **kw: w.patch("workspace_providers", t.claims(), row_id, body, **kw),
        )
    if name == "select":
        doc = w.provider_document(None, provider_id)
        return Route(
            name, doc, 201, lambda body, **kw: w.select(t.claims(), t.workspace_id, body, **kw)
        )
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "owner")
    doc = w.enrolment_document(None, t.workspace_id)
    return Route(name, doc, 201, lambda body, **kw: w.enrol(t.claims(), group_id, body, **kw))


@pytest.fixture(params=["create", "update", "select", "enrol"])
def route(request: pytest.FixtureRequest, admin: Any) -> Route:
    return _route(admin, request.param)


def assert_unsupported(reply: Reply) -> None:
    obj = w.error(reply, 415)
    assert obj["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert obj["source"] == {"header": "Content-Type"}


# --- media types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        JSONAPI,
        f'{JSONAPI}; profile="https://example.com/profiles/audit"',
        "Application/Vnd.Api+JSON",
    ],
)
def test_the_jsonapi_media_type_alone_or_with_a_profile_is_accepted(route, admin, content_type):
    reply = route.send(route.document, content_type=content_type)

    assert reply.status == route.success, reply.body
    assert reply.json["data"]["type"] == route.document["data"]["type"]


def test_a_body_without_content_type_is_415(route, admin):
    with w.writes_nothing(admin):
        assert_unsupported(route.send(route.document, content_type=None))


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/vnd.api+json-patch",
        "*/*",
        "",
    ],
)
def test_a_body_in_another_media_type_is_415(route, admin, content_type):
    with w.writes_nothing(admin):
        assert_unsupported(route.send(route.document, content_type=content_type))


@pytest.mark.parametrize(
    "parameter", ["charset=utf-8", "charset=UTF-8", "version=1.1", 'foo="bar"', "q=0.5"]
)
def test_the_jsonapi_media_type_with_a_parameter_other_than_ext_or_profile_is_415(
    route, admin, parameter
):
    with w.writes_nothing(admin):
        reply = route.send(route.document, content_type=f"{JSONAPI}; {parameter}")
    assert_unsupported(reply)


def test_the_jsonapi_media_type_with_an_extension_we_lack_is_415(route, admin):
    content_type = f'{JSONAPI}; ext="https://jsonapi.org/ext/atomic"'
    with w.writes_nothing(admin):
        assert_unsupported(route.send(route.document, content_type=content_type))


def test_accept_listing_jsonapi_only_with_other_parameters_is_406(route, admin):
    with w.writes_nothing(admin):
        reply = route.send(route.document, headers={"accept": f"{JSONAPI}; charset=utf-8"})
    obj = w.error(reply, 406)
    assert obj["source"] == {"header": "Accept"}


# --- malformed JSON -----------------------------------------------------------------------------

VALID = json.dumps(
    w.provider_document(
        UUID("d0055dbc-fa8f-5b1b-bb5d-1b2073bad8d6"), UUID("5e1aa994-50c5-5240-8b4b-3673c67bf016")
    )
)
MALFORMED: dict[str, str | bytes] = {
    "empty": "",
    "whitespace": " \n\t ",
    "truncated": VALID[:-3],
    "cut after a key": '{"data": {"type"',
    "trailing garbage": VALID + "x",
    "two documents": VALID + VALID,
    "single quotes": "{'data': {'type': 'workspace_provider'}}",
    "a comment": '{"data": {} /* a comment */}',
    "a trailing comma": '{"data": {"type": "workspace_provider",}}',
    "duplicate top-level key": '{"data": {"type": "workspace_provider"}, "data": {}}',
    "duplicate nested key": (
        '{"data": {"type": "workspace_provider", "attributes": '
        '{"is_matched": true, "is_matched": false}}}'
    ),
    "array at the top": "[]",
    "array of documents": f"[{VALID}]",
    "string at the top": '"data"',
    "number at the top": "42",
    "null at the top": "null",
    "boolean at the top": "true",
    "NaN": '{"data": {"type": "workspace_provider", "attributes": {"is_matched": NaN}}}',
    "Infinity": '{"data": {"type": "workspace_provider", "meta": {"n": -Infinity}}}',
    "deeply nested arrays": "[" * 20_000 + "]" * 20_000,
    "deeply nested objects": '{"data":' * 5_000 + "{}" + "}" * 5_000,
    # Parsed by Python 3.13, refused for its depth (MAX_DEPTH = 512).
    "meta nested past 512 levels": (  # 513 levels: the document, data, 511 in meta
        '{"data": {"type": "workspace_provider", "meta": ' + '{"m":' * 511 + "1" + "}" * 511 + "}}"
    ),
    "deeply nested attribute": (
        '{"data": {"type": "workspace_provider", "attributes": {"is_matched": '
        + "[" * 10_000
        + "]" * 10_000
        + "}}}"
    ),
    "latin-1 bytes": '{"data": {"type": "caf\u00e9"}}'.encode("latin-1"),
    "invalid utf-8 byte": b'{"data": "\xff\xfe"}',
    "utf-8 encoded surrogate": b'{"data": "\xed\xa0\x80"}',
    # Escapes of UTF-16 surrogates that do not form a pair: no character at all.
    "a member name that is a lone surrogate": '{"data": {"type": "x", "\\ud800": 1}}',
    "a value that is a lone low surrogate": '{"data": {"type": "\\udfff"}}',
    "a high surrogate followed by no low one": '{"data": {"type": "\\ud83dx"}}',
    "overlong utf-8": b'{"data": "\xc0\xaf"}',
}


# One parser serves every route: each malformation on the generic create, a few on the rest.
PARSED = [("create", name) for name in MALFORMED] + [
    (route, name)
    for route in ("update", "select", "enrol")
    for name in ("truncated", "duplicate nested key", "array at the top", "invalid utf-8 byte")
]


@pytest.mark.parametrize(("name", "body"), PARSED, ids=[f"{r}-{b}" for r, b in PARSED])
def test_a_body_that_is_not_a_json_object_is_400_invalid_json(admin, name, body):
    route = _route(admin, name)
    with w.writes_nothing(admin):
        reply = route.send(MALFORMED[body])

    obj = w.error(reply, 400)
    assert obj["code"] == "INVALID_JSON"
    assert obj["source"] == {"pointer": ""}


def test_meta_nested_up_to_the_depth_limit_is_not_refused_as_invalid_json(admin):
    case = w.arrange_create(admin, "workspace_providers")
    document = json.loads(json.dumps(case.document))
    document["data"]["meta"] = json.loads('{"m":' * 510 + "1" + "}" * 510)  # 512 levels in all

    reply = w.post("workspace_providers", case.claims, json.dumps(document).encode())

    assert reply.status == 201, reply.body


def test_a_character_outside_the_bmp_escaped_as_a_surrogate_pair_is_accepted(admin):
    case = w.arrange_create(admin, "workspace_providers")
    document = json.loads(json.dumps(case.document))
    document["data"]["meta"] = {"note": "\U0001f600"}
    body = json.dumps(document).encode()  # ensure_ascii: "\\ud83d\\ude00"
    assert b"\\ud83d\\ude00" in body

    reply = w.post("workspace_providers", case.claims, body)

    assert reply.status == 201, reply.body


def test_a_valid_body_base64_encoded_by_api_gateway_is_accepted(admin):
    case = w.arrange_create(admin, "workspace_providers")
    body = json.dumps(case.document).encode()

    reply = w.post("workspace_providers", case.claims, body, b64=True)

    assert w.created(reply)["attributes"]["is_selected"] is False


def test_a_body_larger_than_64_kib_is_413(route, admin):
    doc = dict(route.document)
    doc["meta"] = {"padding": "x" * 70_000}
    with w.writes_nothing(admin):
        obj = w.error(route.send(doc), 413)
    assert obj["code"] == "PAYLOAD_TOO_LARGE"


# --- the document's shape ----------------------------------------------------------------------


def with_data(doc: w.Json, **members: Any) -> w.Json:
    data = {**doc["data"], **members}
    return {**doc, "data": {k: v for k, v in data.items() if v is not ...}}


@pytest.mark.parametrize(
    "type_name",
    [
        "workspace",
        "Workspace_Provider",
        # Other resources' canonical types, in any spelling, and near misses of this one's
        # (a spelling a client derives from a name, workspace_providers or workspaceProvider
        # say, is this type: tests/unit/test_request_documents.py).
        "workspaces",
        "account-workspace-connectors",
        "accountWorkspaceConnector",
        "Workspace-Providers",
        "workspaceproviders",
        "WORKSPACE_PROVIDER",
    ],
)
def test_data_type_other_than_the_endpoints_is_409(route, admin, type_name):
    with w.writes_nothing(admin):
        obj = w.error(route.send(with_data(route.document, type=type_name)), 409)
    assert obj["source"] == {"pointer": "/data/type"}


@pytest.mark.parametrize("type_value", [..., None, 7, ["workspace_provider"]])
def test_data_type_missing_or_not_a_string_is_400(route, admin, type_value):
    with w.writes_nothing(admin):
        obj = w.error(route.send(with_data(route.document, type=type_value)), 400)
    assert obj["source"] == {"pointer": "/data/type"}


@pytest.mark.parametrize(
    "body",
    [{}, {"meta": {}}, {"data": None}, {"data": []}, {"data": "workspace_provider"}],
    ids=["empty object", "meta only", "null data", "array data", "string data"],
)
def test_a_document_without_one_resource_object_in_data_is_400(route, admin, body):
    with w.writes_nothing(admin):
        obj = w.error(route.send(body), 400)
    assert obj["code"] == "SCHEMA_VALIDATION_ERROR"
    assert obj["source"]["pointer"] in ("", "/data")


@pytest.mark.parametrize("member", ["attributes", "relationships"])
@pytest.mark.parametrize("value", [None, [], "x"])
def test_attributes_or_relationships_that_are_not_an_object_are_400(route, admin, member, value):
    with w.writes_nothing(admin):
        obj = w.error(route.send(with_data(route.document, **{member: value})), 400)
    assert obj["source"] == {"pointer": f"/data/{member}"}


@pytest.mark.parametrize("name", ["create", "select", "enrol"])
@pytest.mark.parametrize("row_id", ["d8f336f5-b334-5725-8fd1", "", "my-own-id"])
def test_a_client_generated_id_that_is_not_a_uuid_is_403(admin, name, row_id):
    route = _route(admin, name)
    with w.writes_nothing(admin):
        obj = w.error(route.send(with_data(route.document, id=row_id)), 403)
    assert obj["code"] == "CLIENT_GENERATED_ID_NOT_ALLOWED"
    assert obj["source"] == {"pointer": "/data/id"}


@pytest.mark.parametrize("resource", w.PROVENANCE)
def test_a_client_generated_id_that_is_not_a_uuid_is_403_for_a_service_principal_too(
    admin, resource
):
    case = w.arrange_create(admin, resource)
    doc = with_data(case.document, id=str(uuid4()).replace("-", ""))
    with w.writes_nothing(admin):
        obj = w.error(w.post(resource, case.claims, doc), 403)
    assert obj["source"] == {"pointer": "/data/id"}


@pytest.mark.parametrize("other", [lambda: str(uuid4()), lambda: "not-a-uuid"])
def test_a_patch_whose_data_id_is_not_the_urls_is_409(admin, other):
    route = _route(admin, "update")
    with w.writes_nothing(admin):
        obj = w.error(route.send(with_data(route.document, id=other())), 409)
    assert obj["source"] == {"pointer": "/data/id"}


@pytest.mark.parametrize("row_id", [..., None, 7])
def test_a_patch_without_a_string_data_id_is_400(admin, row_id):
    route = _route(admin, "update")
    with w.writes_nothing(admin):
        obj = w.error(route.send(with_data(route.document, id=row_id)), 400)
    assert obj["source"] == {"pointer": "/data/id"}


def test_a_patch_may_spell_the_urls_uuid_in_upper_case(admin):
    case, row_id = w.arrange_row(admin, "workspace_providers")
    upper = str(row_id).upper()
    doc = with_data(case.document, id=upper)

    assert w.patch("workspace_providers", case.claims, upper, doc).status == 200
    assert w.patch("workspace_providers", case.claims, row_id, doc).status == 200


def test_every_unknown_attribute_and_relationship_is_reported_with_its_pointer(route, admin):
    data = route.document["data"]
    doc = with_data(
        route.document,
        attributes={**data.get("attributes", {}), "colour": "red", "size": 3},
        relationships={**data.get("relationships", {}), "owner": w.linkage("people", uuid4())},
    )
    with w.writes_nothing(admin):
        reply = route.send(doc)

    assert reply.status == 400, reply.body
    assert w.pointers(reply) == [
        "/data/attributes/colour",
        "/data/attributes/size",
        "/data/relationships/owner",
    ]
    assert set(reply.error_codes()) == {"SCHEMA_VALIDATION_ERROR"}


def test_thousands_of_unknown_attributes_are_answered_with_twenty_errors_and_a_count(route, admin):
    data = route.document["data"]
    unknown = {f"{n:x}": 0 for n in range(5_000)}  # short names: the body stays under 64 KiB
    doc = with_data(route.document, attributes={**data.get("attributes", {}), **unknown})
    sent = json.dumps(doc)
    with w.writes_nothing(admin):
        reply = route.send(doc)

    assert reply.status == 400, reply.body[:500]
    shown = w.pointers(reply)
    assert len(set(shown)) == 20
    assert set(shown) <= {f"/data/attributes/{name}" for name in unknown}
    assert reply.json["meta"] == {"errors_total": 5_000, "errors_omitted": 4_980}
    assert len(reply.body) < len(sent)


# --- attribute values ---------------------------------------------------------------------------

WRONG_BOOLEANS = ["true", 1, 0, None, [], {}, 1.5]
WRONG_DIRECTIONS = ["sideways", "INPUT", "", 1, True, None, [], {"value": "input"}]


@pytest.mark.parametrize("name", ["create", "update"])
@pytest.mark.parametrize("attribute", ["is_selected", "is_matched"])
@pytest.mark.parametrize("value", WRONG_BOOLEANS, ids=repr)
def test_a_provider_flag_of_the_wrong_type_is_400_with_its_pointer(admin, name, attribute, value):
    route = _route(admin, name)
    doc = with_data(route.document, attributes={attribute: value})
    with w.writes_nothing(admin):
        obj = w.error(route.send(doc), 400)
    assert obj["code"] == "SCHEMA_VALIDATION_ERROR"
    assert obj["source"] == {"pointer": f"/data/attributes/{attribute}"}


@pytest.mark.parametrize("resource", w.PROVENANCE)
@pytest.mark.parametrize("value", WRONG_DIRECTIONS, ids=repr)
def test_a_direction_of_the_wrong_type_or_value_is_400_with_its_pointer(admin, resource, value):
    case = w.arrange_create(admin, resource)
    doc = with_data(case.document, attributes={"direction": value})
    with w.writes_nothing(admin):
        obj = w.error(w.post(resource, case.claims, doc), 400)
    assert obj["code"] == "SCHEMA_VALIDATION_ERROR"
    assert obj["source"] == {"pointer": "/data/attributes/direction"}


@pytest.mark.parametrize("resource", w.PROVENANCE)
def test_a_direction_of_the_wrong_type_is_400_on_patch_too(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    doc = with_data(case.document, attributes={"direction": 1})
    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, case.claims, row_id, doc), 400)
    assert obj["source"] == {"pointer": "/data/attributes/direction"}


def test_every_attribute_of_the_wrong_type_is_reported(admin):
    route = _route(admin, "update")
    doc = with_data(route.document, attributes={"is_selected": "yes", "is_matched": 1})
    with w.writes_nothing(admin):
        reply = route.send(doc)

    assert reply.status == 400, reply.body
    assert w.pointers(reply) == ["/data/attributes/is_matched", "/data/attributes/is_selected"]


# --- relationship values ------------------------------------------------------------------------

PROVIDER_POINTER = "/data/relationships/provider"
BAD_LINKAGE: dict[str, tuple[Any, int, str]] = {
    "a string": ("provider", 400, PROVIDER_POINTER),
    "an array": ([], 400, PROVIDER_POINTER),
    "no data member": ({}, 400, PROVIDER_POINTER),
    "data an array": ({"data": []}, 400, PROVIDER_POINTER + "/data"),
    "data a string": ({"data": "x"}, 400, PROVIDER_POINTER + "/data"),
    "no id": ({"data": {"type": "provider"}}, 400, PROVIDER_POINTER + "/data/id"),
    "a numeric id": ({"data": {"type": "provider", "id": 5}}, 400, PROVIDER_POINTER + "/data/id"),
    "an id that is no UUID": (
        {"data": {"type": "provider", "id": "abc"}},
        400,
        PROVIDER_POINTER + "/data/id",
    ),
    "only a lid": (
        {"data": {"type": "provider", "lid": "new-1"}},
        400,
        PROVIDER_POINTER + "/data/id",
    ),
    "another type": (
        {"data": {"type": "workspace", "id": "a11f361a-f19a-5ed5-bf81-8d3f4d53e6f5"}},
        409,
        PROVIDER_POINTER + "/data/type",
    ),
    "another resource's canonical type": (
        {"data": {"type": "workspace-providers", "id": "a11f361a-f19a-5ed5-bf81-8d3f4d53e6f5"}},
        409,
        PROVIDER_POINTER + "/data/type",
    ),
    "null for a required relationship": ({"data": None}, 422, PROVIDER_POINTER + "/data"),
}


@pytest.mark.parametrize("name", ["create", "select"])
@pytest.mark.parametrize(("value", "status", "pointer"), BAD_LINKAGE.values(), ids=BAD_LINKAGE)
def test_a_malformed_relationship_is_rejected_with_its_pointer(admin, name, value, status, pointer):
    route = _route(admin, name)
    relationships = {**route.document["data"]["relationships"], "provider": value}
    with w.writes_nothing(admin):
        obj = w.error(route.send(with_data(route.document, relationships=relationships)), status)
    assert obj["source"] == {"pointer": pointer}


@pytest.mark.parametrize("resource", w.ALL)
def test_every_missing_required_member_of_a_create_is_422_with_its_pointer(admin, resource):
    case = w.arrange_create(admin, resource)
    with w.writes_nothing(admin):
        reply = w.post(resource, case.claims, w.document(w.type_of(resource)))

    assert reply.status == 422, reply.body
    required = {
        "workspace_group_workspaces": ["workspace", "workspace_group"],
        "workspace_providers": ["provider", "workspace"],
    }
    expected = required.get(resource) or [w.RECORD[resource], "workspace_connector"]
    direction = ["/data/attributes/direction"] if resource in w.PROVENANCE else []
    assert w.pointers(reply) == direction + [f"/data/relationships/{n}" for n in expected]


# --- system fields ------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", w.ALL)
@pytest.mark.parametrize("value", ["2020-01-01T00:00:00Z", None])
def test_system_fields_are_never_writable_on_create(admin, resource, value):
    case = w.arrange_create(admin, resource)
    attributes = {**case.document["data"].get("attributes", {})}
    attributes.update(dict.fromkeys(w.SYSTEM_FIELDS, value))
    doc = with_data(case.document, attributes=attributes)
    with w.writes_nothing(admin):
        reply = w.post(resource, case.claims, doc)

    assert reply.status == 403, reply.body
    assert w.pointers(reply) == sorted(f"/data/attributes/{n}" for n in w.SYSTEM_FIELDS)
    assert set(reply.error_codes()) == {"READ_ONLY_FIELD"}


@pytest.mark.parametrize("resource", w.PATCHABLE)
@pytest.mark.parametrize("field", w.SYSTEM_FIELDS)
def test_a_system_field_sent_with_another_value_on_patch_is_403(admin, resource, field):
    # At its current value it is accepted (tests/database/test_write_round_trips.py).
    case, row_id = w.arrange_row(admin, resource)
    doc = with_data(case.document, attributes={field: "2020-01-01T00:00:00Z"})
    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, case.claims, row_id, doc), 403)
    assert obj["code"] == "READ_ONLY_FIELD"
    assert obj["source"] == {"pointer": f"/data/attributes/{field}"}


# --- the documents a write answers with -----------------------------------------------------


@pytest.mark.parametrize("resource", w.ALL)
def test_create_answers_201_with_the_resource_at_its_location(admin, resource):
    case = w.arrange_create(admin, resource)

    reply = w.post(resource, case.claims, case.document)

    data = w.created(reply)
    assert data["type"] == w.type_of(resource)
    assert reply.headers["Location"] == f"https://api.test{w.path_of(resource)}/{data['id']}"
    for name, linked in case.document["data"]["relationships"].items():
        assert data["relationships"][name]["data"] == linked["data"]
    assert data["attributes"]["deleted_at"] is None
    assert data["attributes"]["created_at"] == data["attributes"]["updated_at"]
    again = get(resource, case.claims, row_id=data["id"])
    assert again.status == 200
    assert again.json["data"] == data
    row = w.db_row(admin, resource, data["id"])
    assert row["deleted_at"] is None


@pytest.mark.parametrize("resource", w.ALL)
def test_create_carries_the_workspace_the_request_names_into_every_link(admin, resource):
    case = w.arrange_create(admin, resource)
    named = f"workspace_id={case.tenant.workspace_id}"

    reply = w.post(resource, case.claims, case.document, query=named)

    data = w.created(reply)
    here = f"https://api.test{w.path_of(resource)}/{data['id']}"
    assert reply.headers["Location"] == f"{here}?{named}"
    for name, relationship in data["relationships"].items():
        assert relationship["links"] == {
            "self": f"{here}/relationships/{name}?{named}",
            "related": f"{here}/{name}?{named}",
        }


@pytest.mark.parametrize("resource", w.PROVENANCE)
def test_create_answers_with_the_included_parents_asked_for(admin, resource):
    case = w.arrange_create(admin, resource)
    record = w.RECORD[resource]

    reply = w.post(resource, case.claims, case.document, query=f"include={record}")

    data = w.created(reply)
    (included,) = reply.json["included"]
    assert (included["type"], included["id"]) == (record, w.related_id(data, record))
    # A platform record: served by another API, so without links.
    assert set(included) == {"type", "id", "attributes"}


# A ledger row has nothing a PATCH may change (its PATCH writes nothing: test_write_round_trips).
@pytest.mark.parametrize("resource", ["workspace_providers"])
def test_update_answers_200_with_the_resource_and_moves_updated_at(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    before = w.db_row(admin, resource, row_id)

    reply = w.patch(resource, case.claims, row_id, case.document)

    assert reply.status == 200, reply.body
    assert "Location" not in reply.headers
    data = reply.json["data"]
    assert data["id"] == str(row_id)
    assert reply.json["links"]["self"] == data["links"]["self"]
    assert w.timestamp(data["attributes"]["updated_at"]) > before["updated_at"]
    assert w.timestamp(data["attributes"]["created_at"]) == before["created_at"]
    after = w.db_row(admin, resource, row_id)
    assert after["updated_at"] > before["updated_at"]
    assert after["created_at"] == before["created_at"]
    assert get(resource, case.claims, row_id=row_id).json["data"] == data


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_a_patch_without_attributes_changes_nothing_and_keeps_updated_at(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    before = w.db_row(admin, resource, row_id)

    reply = w.patch(resource, case.claims, row_id, w.document(w.type_of(resource), row_id=row_id))

    assert reply.status == 200, reply.body
    assert w.timestamp(reply.json["data"]["attributes"]["updated_at"]) == before["updated_at"]
    assert w.db_row(admin, resource, row_id) == before


@pytest.mark.parametrize("resource", w.ALL)
def test_delete_answers_204_without_a_body_and_soft_deletes(admin, resource):
    case, row_id = w.arrange_row(admin, resource)

    reply = w.delete(resource, case.claims, row_id)

    assert reply.status == 204, reply.body
    assert reply.body == ""
    assert "Content-Type" not in reply.headers
    row = w.db_row(admin, resource, row_id)
    assert row["deleted_at"] is not None
    assert row["updated_at"] >= row["deleted_at"]
    assert get(resource, case.claims, row_id=row_id).status == 404


@pytest.mark.parametrize("resource", w.ALL)
def test_deleting_a_deleted_row_is_404(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    assert w.delete(resource, case.claims, row_id).status == 204

    with w.writes_nothing(admin):
        obj = w.error(w.delete(resource, case.claims, row_id), 404)
    assert obj["code"] == "NOT_FOUND"


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_patching_a_deleted_row_is_404(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    assert w.delete(resource, case.claims, row_id).status == 204

    with w.writes_nothing(admin):
        obj = w.error(w.patch(resource, case.claims, row_id, case.document), 404)
    assert obj["code"] == "NOT_FOUND"


@pytest.mark.parametrize("resource", w.ALL)
def test_writing_a_row_that_never_existed_is_404(admin, resource):
    case, _ = w.arrange_row(admin, resource)
    missing = uuid4()
    with w.writes_nothing(admin):
        assert w.error(w.delete(resource, case.claims, missing), 404)["code"] == "NOT_FOUND"
        if resource in w.PATCHABLE:
            doc = with_data(case.document, id=str(missing))
            assert w.patch(resource, case.claims, missing, doc).status == 404


@pytest.mark.parametrize("resource", w.ALL)
def test_a_row_id_in_the_url_that_is_no_uuid_is_400(admin, resource):
    case, _ = w.arrange_row(admin, resource)
    with w.writes_nothing(admin):
        obj = w.error(w.delete(resource, case.claims, "not-a-uuid"), 400)
    assert obj["code"] == "INVALID_ID"


@pytest.mark.parametrize("resource", w.ALL)
def test_writes_without_a_principal_are_401(admin, resource):
    case, row_id = w.arrange_row(admin, resource)
    with w.writes_nothing(admin):
        assert w.error(w.post(resource, None, case.document), 401)["code"] == "CREDENTIALS_MISSING"
        assert w.error(w.patch(resource, None, row_id, case.document), 401)
        assert w.error(w.delete(resource, None, row_id), 401)


def test_a_member_whose_key_names_a_workspace_without_their_active_membership_is_403(admin):
    case = w.arrange_create(admin, "workspace_providers")
    other = f.tenant(admin)
    with w.writes_nothing(admin):
        reply = w.post(
            "workspace_providers",
            case.claims,
            case.document,
            query=f"workspace_id={other.workspace_id}",
        )
    obj = w.error(reply, 403)
    assert obj["source"] == {"parameter": "workspace_id"}
