"""Requests the read routes refuse: bad parameters, content negotiation, ids, credentials."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support.api import JSONAPI, call, event
from tests.support.read_factories import ALL, ids, read

pytestmark = pytest.mark.usefixtures("api_database")

PROFILE = "https://jsonapi.org/profiles/ethanresnick/cursor-pagination"


# --- query parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameter",
    [
        "foo",
        "Include",
        "INCLUDE",
        "includes",
        "include[account]",
        "sort[created_at]",
        "page",
        "page[number][x]",
        "Page[number]",
        "page[offset]",
        "page[limit]",
        "page[cursor]",
        "page[size][x]",
        "fields",
        "fields[account][x]",
        "filter",
        "workspace",
        "workspace_id[x]",
        "workspaceid",
        "WORKSPACE_ID",
        "filter[direction",
        "id",
        "pk",
        "callback",
    ],
)
@pytest.mark.parametrize("resource", ALL)
def test_a_parameter_the_endpoint_does_not_define_is_rejected(admin, resource, parameter):
    t = f.tenant(admin)

    reply = read(resource, t.claims(), query=f"{parameter}=1")

    obj = rf.error(reply, 400, parameter)
    assert obj["code"] == "UNKNOWN_QUERY_PARAMETER"


@pytest.mark.parametrize(
    "query",
    [
        "include=account&include=account",
        "include=account&include=workspace_connector",
        "sort=created_at&sort=created_at",
        "page[size]=2&page[size]=2",
        "filter[direction]=input&filter[direction]=output",
        "filter[created_at][gte]=2024-05-10T08:00:00Z&filter[created_at][gte]=2024-05-10T08:00:00Z",
        "fields[account]=account_name&fields[account]=account_type",
        "foo=1&foo=1",
    ],
)
def test_a_repeated_parameter_is_rejected(admin, query):
    t = f.tenant(admin)
    repeated = query.split("&")[1].split("=")[0]

    reply = read("account_workspace_connectors", t.claims(), query=query)

    obj = rf.error(reply, 400, repeated)
    assert obj["code"] in ("DUPLICATE_QUERY_PARAMETER", "UNKNOWN_QUERY_PARAMETER")


def test_workspace_id_given_twice_in_either_spelling_is_rejected(admin):
    t = f.tenant(admin)
    w = t.workspace_id

    for query, parameter in (
        (f"workspace_id={w}&workspace_id={w}", "workspace_id"),
        (f"workspace_id={w}&workspaceId={w}", "workspaceId"),
        (f"workspaceId={w}&workspace_id={w}", "workspace_id"),
    ):
        obj = rf.error(read("workspace_providers", t.claims(), query=query), 400, parameter)
        assert obj["code"] == "DUPLICATE_QUERY_PARAMETER"


@pytest.mark.parametrize("spelling", ["workspace_id", "workspaceId"])
@pytest.mark.parametrize("resource", ALL)
def test_workspace_id_in_either_spelling_is_accepted(admin, resource, spelling):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)

    listed = read(resource, t.claims(), query=f"{spelling}={t.workspace_id}")
    retrieved = read(resource, t.claims(), row_id=row.id, query=f"{spelling}={t.workspace_id}")

    assert ids(listed) == [str(row.id)]
    assert retrieved.status == 200


@pytest.mark.parametrize("spelling", ["workspace_id", "workspaceId"])
@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        "",
        "1",
        "8b67a82d-3fca-5c83-9b17-40bf42c01914,54ed0340-330c-55c5-8327-f08cb67c32f6",
    ],
)
def test_a_malformed_workspace_id_is_rejected(admin, spelling, value):
    t = f.tenant(admin)

    reply = read("workspace_group_workspaces", t.claims(), query=f"{spelling}={value}")

    rf.error(reply, 400, spelling)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("filter[direction]", "input"),
        ("filter[created_at][gte]", "2024-05-10T08:00:00Z"),
        ("filter[account]", "0907e5f0-4eed-507b-bea5-8641238998ee"),
        ("sort", "created_at"),
        ("sort", "-created_at"),
        ("page[size]", "1"),
        ("page[after]", "x"),
        ("page[before]", "x"),
    ],
)
def test_retrieve_refuses_collection_parameters(admin, parameter, value):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, "account_workspace_connectors")

    reply = read(
        "account_workspace_connectors", t.claims(), row_id=row.id, query=f"{parameter}={value}"
    )

    rf.error(reply, 400, parameter)


def test_a_query_string_that_is_not_utf8_is_rejected_not_failed(admin):
    t = f.tenant(admin)

    reply = read("workspace_providers", t.claims(), query="include=%ff")

    assert reply.status == 400


# --- content negotiation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [
        f"{JSONAPI}; charset=utf-8",
        f"{JSONAPI};charset=utf-8",
        f"{JSONAPI}; version=1.1",
        f"{JSONAPI}; charset=utf-8, {JSONAPI}; version=1",
        f"{JSONAPI}; charset=utf-8, application/json",
        f"{JSONAPI}; charset=utf-8, */*",
        "Application/Vnd.Api+Json; Charset=utf-8",
        f'{JSONAPI}; ext="https://jsonapi.org/ext/atomic"',
        f'{JSONAPI}; ext="https://example.com/ext/one https://example.com/ext/two"',
        f'{JSONAPI}; charset=utf-8, {JSONAPI}; ext="https://jsonapi.org/ext/atomic"',
    ],
)
@pytest.mark.parametrize("retrieve", [False, True])
def test_not_acceptable_when_no_jsonapi_media_type_instance_is_usable(admin, accept, retrieve):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, "people_workspace_connectors")

    reply = read(
        "people_workspace_connectors",
        t.claims(),
        row_id=row.id if retrieve else None,
        headers={"Accept": accept},
    )

    assert reply.status == 406, reply.body
    (obj,) = reply.errors
    assert obj["status"] == "406"
    assert obj["source"] == {"header": "Accept"}
    assert reply.headers["Content-Type"] == JSONAPI


@pytest.mark.parametrize(
    "accept",
    [
        JSONAPI,
        "*/*",
        "application/json",
        "application/*",
        f"{JSONAPI}; charset=utf-8, {JSONAPI}",
        f'{JSONAPI}; ext="https://jsonapi.org/ext/atomic", {JSONAPI}',
        f'{JSONAPI}; profile="{PROFILE}"',
        f"{JSONAPI}; q=0.9",
        f"text/html, {JSONAPI}; charset=utf-8, {JSONAPI}",
        f'{JSONAPI}; charset=utf-8, {JSONAPI}; profile="https://example.com/a,b"',
    ],
)
@pytest.mark.parametrize("retrieve", [False, True])
def test_acceptable_when_one_jsonapi_instance_is_clean_or_none_is_listed(admin, accept, retrieve):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, "people_workspace_connectors")

    reply = read(
        "people_workspace_connectors",
        t.claims(),
        row_id=row.id if retrieve else None,
        headers={"Accept": accept},
    )

    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith(JSONAPI)


@pytest.mark.parametrize("resource", ALL)
def test_a_request_without_accept_gets_jsonapi(admin, resource):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    base = "/v1/" + resource.replace("_", "-")
    for operation, ev in (
        ("list", event("GET", base, claims=t.claims())),
        (
            "retrieve",
            event(
                "GET",
                f"{base}/{row.id}",
                claims=t.claims(),
                path_parameters={"id": str(row.id)},
                route=base + "/{id}",
            ),
        ),
    ):
        del ev["headers"]["accept"]

        reply = call(resource, operation, ev)

        assert reply.status == 200, reply.body
        assert reply.headers["Content-Type"].startswith(JSONAPI)


@pytest.mark.parametrize("resource", ALL)
def test_every_response_is_sent_as_the_jsonapi_media_type(admin, resource):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)

    assert read(resource, t.claims(), row_id=row.id).headers["Content-Type"] == JSONAPI
    assert read(resource, t.claims()).headers["Content-Type"] == f'{JSONAPI}; profile="{PROFILE}"'
    assert read(resource, t.claims(), row_id=uuid4()).headers["Content-Type"] == JSONAPI
    assert read(resource, t.claims(), query="bad=1").headers["Content-Type"] == JSONAPI
    assert read(resource, None).headers["Content-Type"] == JSONAPI


# --- ids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL)
def test_an_unknown_id_is_not_found(admin, resource):
    t = f.tenant(admin)
    rf.make_row(admin, t, resource)

    reply = read(resource, t.claims(), row_id=uuid4())

    obj = rf.error(reply, 404)
    assert obj["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "raw",
    [
        "not-a-uuid",
        "123",
        "1" * 40,
        "00000000-0000-0000-0000-00000000000g",
        "00000000-0000-0000-0000-0000000000000",
        "%00",
        "' OR 1=1 --",
        "-1",
    ],
)
@pytest.mark.parametrize("resource", ALL)
def test_a_malformed_id_is_a_bad_request_never_a_server_error(admin, resource, raw):
    t = f.tenant(admin)

    reply = read(resource, t.claims(), row_id=raw)

    obj = rf.error(reply, 400)
    assert obj["code"] == "INVALID_ID"
    # The id is a path segment, not a query parameter: no source.parameter names it.
    assert "source" not in obj


# --- credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL)
@pytest.mark.parametrize("retrieve", [False, True])
def test_missing_claims_are_unauthorized(admin, resource, retrieve):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)

    reply = read(resource, None, row_id=row.id if retrieve else None)

    obj = rf.error(reply, 401)
    assert obj["code"] == "CREDENTIALS_MISSING"
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="wellapi"'


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"person_id": "not-a-uuid"},
        {"principal_kind": "admin"},
        {"principal_kind": None},
        {"workspace_id": "nope"},
        {"api_key_id": "nope"},
        # The database believes only the signed token: missing, made up or altered is nobody.
        {"scope_token": ""},
        {"scope_token": None},
        {"scope_token": "t1.1.service.9999999999." + "0" * 64},
        {"scope_token": "not a token"},
    ],
)
def test_claims_that_do_not_name_a_person_are_unauthorized(admin, claims):
    t = f.tenant(admin)
    rf.make_row(admin, t, "account_workspace_connectors")
    base = t.claims()
    if claims:
        base.update(claims)
    else:
        base = {}

    reply = read("account_workspace_connectors", base)

    # No claims at all is no credential; claims naming a person badly, one not accepted.
    wanted = "CREDENTIALS_INVALID" if base else "CREDENTIALS_MISSING"
    assert rf.error(reply, 401)["code"] == wanted


def test_percent_encoded_brackets_name_the_same_parameters(admin):
    t = f.tenant(admin)
    inbound = rf.provenance(admin, t, "account_workspace_connectors", direction="input")
    rf.provenance(admin, t, "account_workspace_connectors", direction="output")

    accepted = read("account_workspace_connectors", t.claims(), query="filter%5Bdirection%5D=input")
    refused = read("account_workspace_connectors", t.claims(), query="page%5Bsize%5D=501")
    repeated = read(
        "account_workspace_connectors",
        t.claims(),
        query="page[size]=1&page%5Bsize%5D=1",
    )

    assert ids(accepted) == [str(inbound.id)]
    rf.error(refused, 400, "page[size]")
    rf.error(repeated, 400, "page[size]")
