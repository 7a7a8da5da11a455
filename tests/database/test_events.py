"""events/ holds canonical events for every function of template.yaml, and each is real.

``events/index.json`` maps every function's logical id to its event files (see
events/README.md). An API event is an API Gateway HTTP API payload 2.0 for its function's own
route, with the authorizer's claims and, for POST and PATCH, a JSON:API request document; the
SQS events carry messages of the sync contract (and one poison record); the authorizer,
migration and schedule events are what API Gateway, CloudFormation and EventBridge send; the
operator's are its actions. The
events are also run: on a freshly seeded demo database each API event gets the answer
events/README.md promises, the sync batches apply (the poison record alone failing), and the
sweep leaves no revocation pending.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema_rs
import pytest
from pydantic import ValidationError

from tests.support.api import Lambda, assert_valid_document
from wellapi.handlers import operator
from wellapi.handlers.api import api_handler
from wellapi.handlers.authorizer import authorizer_handler
from wellapi.handlers.entry_points import binding_of
from wellapi.handlers.sweep import sweep_handler
from wellapi.handlers.sync import sync_handler
from wellapi.handlers.unmatched import unmatched_handler
from wellapi.http.principal import principal_from_claims
from wellapi.operations.registry import OPERATIONS
from wellapi.operations.unmatched import DEFAULT_ROUTE
from wellapi.resources import resource_named
from wellapi.roles import API_ROLE
from wellapi.sync.messages import parse_message
from welldev import database as local_db
from welldev import demo_reset, queue_messages, seed
from welldev import stack as local_stack
from welldev.claims import sign_event
from welldev.function_roles import functions_connected_as
from welldev.schedules import scheduled_event

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
SCHEMAS = ROOT / "tests" / "vendor" / "jsonapi"
# Files in events/ that are not events.
NOT_EVENTS = {"index.json"}
JSONAPI = "application/vnd.api+json"
# A scope token's shape (``wellapi.http.proofs.SCOPE_TOKEN``), signed by nobody.
UNSIGNED_TOKEN = "t1.0.member.0." + "0" * 64
# API events whose designed answer is a refusal (events/README.md says why); every other API
# event succeeds (2xx) when the events run in the order of RUN_ORDER.
REFUSED = {
    "account-workspace-connectors-update.json": 403,
    "company-workspace-connectors-update.json": 403,
    "people-workspace-connectors-update.json": 403,
    "workspace-group-workspaces-update.json": 403,
}
# Reads, then removals, then additions, then changes: so a removal does not hide a row a read
# names, and an addition can re-add what a removal took away (group enrolments).
RUN_ORDER = ("GET", "DELETE", "POST", "PATCH")
MIGRATION_REQUEST_TYPES = ("Create", "Update", "Delete")

TEMPLATE = local_stack.load()
INDEX: dict[str, list[str]] = json.loads((EVENTS / "index.json").read_text())
# The functions of the API's routes; the $default route's has an event of its own below.
DEFAULT_FUNCTIONS = [
    f
    for f, fn in TEMPLATE.functions.items()
    if any(route.path == DEFAULT_ROUTE for route in fn.http_routes)
]
API_FUNCTIONS = sorted(
    f for f, fn in TEMPLATE.functions.items() if fn.http_routes and f not in DEFAULT_FUNCTIONS
)
API_EVENTS = [(f, name) for f in API_FUNCTIONS for name in INDEX.get(f, [])]
SYNC_EVENTS = INDEX.get("SyncFunction", [])


def _event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def _binding(function_id: str) -> tuple[str, str]:
    binding = binding_of(TEMPLATE.functions[function_id].handler)
    assert binding is not None, function_id
    return binding


def _handler_of(function_id: str) -> Any:
    resource, operation = _binding(function_id)
    return api_handler(resource, OPERATIONS[operation])


def _route(function_id: str) -> local_stack.HttpRoute:
    (route,) = TEMPLATE.functions[function_id].http_routes
    return route


def _path_pattern(route_path: str) -> re.Pattern[str]:
    """``/v1/x/{id}`` as a regex with a named group per path parameter."""
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route_path))
    return re.compile(f"^{pattern}$")


@cache
def _request_validator(name: str) -> Any:
    """A validator for a JSON:API 1.1 request schema; its $refs resolve to the local base."""
    base = json.loads((SCHEMAS / "1.1-schema.json").read_text())
    schema = json.loads((SCHEMAS / name).read_text())
    registry = jsonschema_rs.Registry([(base["$id"], base)])
    return jsonschema_rs.validator_for(schema, registry=registry, offline=True)


def _parses(body: str) -> bool:
    try:
        parse_message(body)
    except ValidationError:
        return False
    return True


# --- The index -------------------------------------------------------------------------------


def test_every_function_of_the_template_has_events():
    assert sorted(INDEX) == sorted(TEMPLATE.functions)
    assert [f for f, files in INDEX.items() if not files] == []


def test_every_event_file_is_indexed_once_and_exists():
    listed = [name for files in INDEX.values() for name in files]
    on_disk = sorted(p.name for p in EVENTS.glob("*.json") if p.name not in NOT_EVENTS)
    assert sorted(listed) == sorted(set(listed)), "an event file is listed twice"
    assert sorted(listed) == on_disk


@pytest.mark.parametrize(("function_id", "name"), API_EVENTS)
def test_api_event_is_named_after_its_resource_and_operation(function_id, name):
    resource, operation = _binding(function_id)
    assert name == f"{resource.replace('_', '-')}-{operation}.json"


# --- API events ------------------------------------------------------------------------------


@pytest.mark.parametrize(("function_id", "name"), API_EVENTS)
def test_api_event_is_a_payload_2_0_request_for_its_functions_route(function_id, name):
    route = _route(function_id)
    event = _event(name)
    context = event["requestContext"]

    assert event["version"] == "2.0"
    assert event["routeKey"] == context["routeKey"] == f"{route.method} {route.path}"
    assert context["http"]["method"] == route.method
    assert context["http"]["path"] == event["rawPath"]
    assert context["stage"] == "$default"
    assert event["isBase64Encoded"] is False
    assert all(header == header.lower() for header in event["headers"]), "headers are lowercase"
    assert event["headers"]["host"] == context["domainName"]

    match = _path_pattern(route.path).match(event["rawPath"])
    assert match, f"{event['rawPath']} does not match {route.path}"
    assert event.get("pathParameters", {}) == match.groupdict()

    query = dict(parse_qsl(event["rawQueryString"]))
    assert event.get("queryStringParameters", {}) == query


@pytest.mark.parametrize(("function_id", "name"), API_EVENTS)
def test_api_event_carries_a_demo_principal_and_its_api_key(function_id, name):
    event = _event(name)
    found = event["requestContext"]["authorizer"]["lambda"]
    # No scope token: it expires, so `wellapi invoke` signs one for the claims when it runs
    # (here, one of a token's shape stands in for it).
    principal = principal_from_claims({**found, "scope_token": UNSIGNED_TOKEN})

    assert "scope_token" not in found
    demo = {(m.person_id, m.workspace_id) for m in seed.demo_members()}
    assert (principal.person_id, principal.workspace_id) in demo
    assert event["headers"]["authorization"].startswith("Bearer wk_")


@pytest.mark.parametrize(("function_id", "name"), API_EVENTS)
def test_api_event_body_is_a_json_api_request_document_for_its_resource(function_id, name):
    resource, _ = _binding(function_id)
    method = _route(function_id).method
    event = _event(name)

    if method not in ("POST", "PATCH"):
        assert "body" not in event
        assert "content-type" not in event["headers"]
        return
    body = event["body"]
    assert event["headers"]["content-type"] == JSONAPI
    assert event["headers"]["content-length"] == str(len(body.encode()))
    document = json.loads(body)
    schema = (
        "1.1-schema_create_resource.json"
        if method == "POST"
        else ("1.1-schema_update_resource.json")
    )
    errors = [
        f"{e.instance_path}: {e.message}" for e in _request_validator(schema).iter_errors(document)
    ]
    assert errors == []
    assert document["data"]["type"] == resource_named(resource).type
    if method == "PATCH":
        assert document["data"]["id"] == event["pathParameters"]["id"]


def test_the_default_route_event_is_a_request_no_route_serves_by_a_demo_principal():
    assert DEFAULT_FUNCTIONS == ["UnmatchedFunction"]
    (name,) = INDEX["UnmatchedFunction"]
    event = _event(name)
    context = event["requestContext"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == context["routeKey"] == DEFAULT_ROUTE
    assert context["http"]["path"] == event["rawPath"]
    assert "pathParameters" not in event
    served = {r.route_key for r in TEMPLATE.routes}
    assert f"{context['http']['method']} {event['rawPath']}" not in served
    found = context["authorizer"]["lambda"]
    principal = principal_from_claims({**found, "scope_token": UNSIGNED_TOKEN})
    demo = {(m.person_id, m.workspace_id) for m in seed.demo_members()}
    assert (principal.person_id, principal.workspace_id) in demo


# --- Sync, authorizer and migration events ---------------------------------------------------


@pytest.mark.parametrize("name", SYNC_EVENTS)
def test_sqs_event_is_a_batch_of_sync_messages(name):
    records = _event(name)["Records"]
    assert records
    for record in records:
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"].startswith("arn:aws:sqs:")
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
    assert len({r["messageId"] for r in records}) == len(records)

    parsed = [_parses(r["body"]) for r in records]
    if name == "sync-poison.json":
        assert parsed == [True, False], "one good record, then one malformed"
    else:
        assert all(parsed)


def test_sync_events_cover_every_message_type():
    types = {
        json.loads(r["body"])["type"]
        for name in SYNC_EVENTS
        for r in _event(name)["Records"]
        if _parses(r["body"])
    }
    assert types == {"provenance.linked", "provenance.unlinked", "workspace_connector.revoked"}


def test_authorizer_event_is_a_request_authorizer_payload_2_0_for_a_route():
    (name,) = INDEX["AuthorizerFunction"]
    event = _event(name)
    routes = {r.route_key for r in TEMPLATE.routes}

    assert (event["version"], event["type"]) == ("2.0", "REQUEST")
    assert event["routeKey"] in routes
    # No identity source is configured (template.yaml): the authorizer reads the header itself.
    assert event["identitySource"] == []
    assert event["headers"]["authorization"].startswith("Bearer ")
    method = event["routeKey"].split(" ")[0]
    assert event["routeArn"].endswith(f"/$default/{method}{event['rawPath']}")
    assert "authorizer" not in event["requestContext"]


def test_migration_events_are_a_direct_invoke_and_cloudformation_requests():
    names = INDEX["MigrationFunction"]
    requests = [_event(n) for n in names if _event(n)]
    assert [n for n in names if not _event(n)] == ["migration-direct.json"]
    assert sorted(e["RequestType"] for e in requests) == sorted(MIGRATION_REQUEST_TYPES)
    for event in requests:
        assert event["LogicalResourceId"] == "MigrationRun"
        assert urlsplit(event["ResponseURL"]).scheme == "https"
        assert "MigrationFunctionVersion" in event["ResourceProperties"]
        # CloudFormation names the physical id on every request but the first.
        assert ("PhysicalResourceId" in event) == (event["RequestType"] != "Create")
        assert ("OldResourceProperties" in event) == (event["RequestType"] == "Update")


@pytest.mark.parametrize("function_id", ["SweepFunction", "DrainFunction"])
def test_schedule_event_is_what_eventbridge_sends_for_the_functions_rule(function_id):
    (name,) = INDEX[function_id]
    event = _event(name)
    (schedule,) = TEMPLATE.functions[function_id].schedule_events
    # The event `wellapi run` sends at each firing of the rule, with its own id and time.
    assert scheduled_event(function_id).keys() == event.keys()
    assert (event["version"], event["detail-type"], event["source"]) == (
        "0",
        "Scheduled Event",
        "aws.events",
    )
    assert event["detail"] == {}
    (rule,) = event["resources"]
    assert rule.startswith(f"arn:aws:events:{event['region']}:{event['account']}:rule/")
    assert f"{function_id}{schedule.event_name}" in rule


# --- The events, run against the seeded demo -------------------------------------------------


@pytest.fixture(scope="module")
def demo_database(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    """A migrated database of its own, seeded, the functions connected as in AWS."""
    name = f"wellapi_events_{os.getpid()}"
    db = local_db.prepare(server, name, replace=True)
    conn = local_db.admin_connection(db.admin_url)
    try:
        seed.seed(conn)
    finally:
        conn.close()
    with functions_connected_as(db, API_ROLE):
        yield db
    local_db.drop_database(server, name)


@pytest.fixture
def demo(demo_database: local_db.LocalDatabase) -> local_db.LocalDatabase:
    """The demo as seeded (``make demo-reset``), whatever a test before this one ran on it."""
    conn = local_db.admin_connection(demo_database.admin_url)
    try:
        demo_reset.reset(conn)
    finally:
        conn.close()
    return demo_database


def test_api_events_get_their_designed_answer_on_the_seeded_demo(demo):
    ordered = sorted(API_EVENTS, key=lambda e: RUN_ORDER.index(_route(e[0]).method))
    answers = {}
    admin = local_db.admin_connection(demo.admin_url)
    try:
        events = {name: sign_event(admin, _event(name)) for _, name in ordered}
    finally:
        admin.close()
    for function_id, name in ordered:
        reply = _handler_of(function_id)(events[name], Lambda())
        if reply.get("body"):
            assert_valid_document(json.loads(reply["body"]))
        answers[name] = reply["statusCode"]

    unexpected = {
        name: status
        for name, status in answers.items()
        if (status != REFUSED[name] if name in REFUSED else not 200 <= status < 300)
    }
    assert unexpected == {}


def test_the_default_route_event_is_redirected_to_the_route_it_misspells(demo_database):
    (name,) = INDEX["UnmatchedFunction"]
    admin = local_db.admin_connection(demo_database.admin_url)
    try:
        event = sign_event(admin, _event(name))
    finally:
        admin.close()
    reply = unmatched_handler()(event, Lambda())
    assert reply["statusCode"] == 308
    location = f"https://{event['headers']['host']}/v1/workspace-providers"
    assert reply["headers"]["Location"] == f"{location}?{event['rawQueryString']}"
    assert_valid_document(json.loads(reply["body"]))


def test_sync_events_apply_and_only_the_poison_record_fails(demo):
    handler = sync_handler()
    for name in SYNC_EVENTS:
        records = _event(name)["Records"]
        # As `wellapi invoke` and `wellapi enqueue` send them: the files' times are fixed.
        event, _ = queue_messages.with_recent_times(_event(name), datetime.now(UTC))
        result = handler(event, Lambda())
        failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
        expected = [r["messageId"] for r in records if not _parses(r["body"])]
        assert failed == expected, name


def unswept_revocations(db: local_db.LocalDatabase) -> int:
    conn = local_db.admin_connection(db.admin_url)
    try:
        rows = conn.run(
            "SELECT count(*) FROM core_api.connector_revocations WHERE swept_at IS NULL"
        )
    finally:
        conn.close()
    return int(rows[0][0])


def test_sweep_event_leaves_no_revocation_pending(demo):
    # The revocation of the sync events, applied, waits for the sweep.
    event, _ = queue_messages.with_recent_times(
        _event("sync-connector-revoked.json"), datetime.now(UTC)
    )
    assert sync_handler()(event, Lambda())["batchItemFailures"] == []
    assert unswept_revocations(demo) == 1
    (name,) = INDEX["SweepFunction"]
    # Time to sweep everything: no step is started with less than 15 s left.
    result = sweep_handler()(_event(name), Lambda(remaining_ms=60_000))
    assert (result["parts_left"], result["oldest_pending_revocation_seconds"]) == (0, 0)
    assert unswept_revocations(demo) == 0


def test_operator_events_are_actions_that_apply_on_the_seeded_demo_and_again(demo):
    for name in INDEX["OperatorFunction"]:
        for _ in range(2):  # made again by their ids, or a second key
            answer = operator.handle(_event(name), Lambda())
            assert "error" not in answer, (name, answer["error"])


def test_authorizer_event_with_the_placeholder_key_gets_no_claims(demo):
    (name,) = INDEX["AuthorizerFunction"]
    result = authorizer_handler()(_event(name), Lambda())
    # The placeholder key is well formed and exists nowhere: the request goes on with the
    # reason alone (the handler answers 401 CREDENTIALS_INVALID), as for any unknown key.
    assert result == {"isAuthorized": True, "context": {"credentials": "invalid"}}
