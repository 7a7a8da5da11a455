"""The API events of a resource added to the registry: one per route, written from it.

Each is the API Gateway HTTP API request (payload 2.0) that reaches the route's function after
the authorizer, on the demo ``make run`` seeds: its path's ids and its body are the OpenAPI
document's examples (``welldev.openapi_examples``; a Delete names another row than the reads
and the Update, which ``tests/database/test_events.py`` runs after it), its claims Ada's in
Acme Finance (as a service principal where members may not write). ``python -m
welldev.api_events`` (in ``make generate``) writes the events of every route that has none, and
their entries of ``events/index.json``; events/README.md says what each answers.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from wellapi.operations.registry import OPERATIONS, ROUTES
from wellapi.resources import RESOURCES, resource_named
from welldev import openapi_examples as examples
from welldev.seed import seed_id
from welldev.stack import api_functions

EVENTS = Path(__file__).resolve().parents[2] / "events"
API_ID = "a1b2c3d4e5"
HOST = f"{API_ID}.execute-api.eu-west-1.amazonaws.com"
# Well formed, found nowhere: the functions never read it (events/README.md).
PLACEHOLDER_KEY = "wk_exampleacmea_EXAMPLEnotArealKEYreplaceWithDemoJson000000"
JSONAPI = "application/vnd.api+json"
# The query each route's example sends, where it sends one; a ledger's List and Retrieve
# include their parents, newest first.
QUERIES = {
    ("workspace_group_workspaces", "list"): "include=workspace,workspace_group",
    ("workspace_group_workspaces", "retrieve"): "include=workspace_group",
    ("workspace_providers", "list"): "filter[is_selected]=true&include=provider",
    ("workspace_providers", "retrieve"): "include=provider",
    ("workspace_providers", "catalog"): "filter[category]=Finance&include=workspace_provider",
    ("changes", "feed"): "filter[change]=selected,removed&limit=50",
}
# The four letters a request id gives an operation whose name's first four do not say it.
OPERATION_CODES = {"related": "rltd", "relationship": "rshp"}


def query(resource: str, operation: str) -> str:
    if (resource, operation) in QUERIES:
        return QUERIES[resource, operation]
    described = RESOURCES.get(resource)
    if described is None or not described.walks:
        return ""
    if operation == "list":
        parents = ",".join(r.name for r in described.relationships)
        return f"include={parents}&sort=-created_at&page[size]=10"
    return f"include={described.scope_relationships[0]}" if operation == "retrieve" else ""


def claims(resource: str, operation: str) -> dict[str, str]:
    """Ada's in Acme: a service principal's for a write members may not make."""
    method = OPERATIONS[operation].method
    described = RESOURCES.get(resource)
    service = method != "GET" and described is not None and not described.rules.members_may_write
    return {
        "person_id": str(seed_id("peoples", "acme/ada")),
        "principal_kind": "service" if service else "member",
        "workspace_id": examples.ACME,
        "api_key_id": str(seed_id("api_keys", "acme/service" if service else "acme/ada")),
    }


def event(resource: str, operation: str, method: str, route: str) -> dict[str, Any]:
    """The event of one route (``route``: its path with ``{parameters}``)."""
    described = resource_named(resource)
    params = examples.path_parameters(described, operation) if "{" in route else {}
    if operation == "delete":
        params["id"] = examples.row_id(described, 1)
    path, raw_query = route.format(**params), query(resource, operation)
    headers = {"accept": JSONAPI, "authorization": f"Bearer {PLACEHOLDER_KEY}"}
    body = None
    if method in ("POST", "PATCH"):
        _, document = examples.request_example(described, operation)
        body = json.dumps(document, separators=(",", ":"))
        headers |= {"content-length": str(len(body.encode())), "content-type": JSONAPI}
    trace = hashlib.sha256(f"{resource}/{operation}".encode()).hexdigest()[:24]
    headers |= {
        "host": HOST,
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": f"Root=1-6b016498-{trace}",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    found: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
    }
    if raw_query:
        found["queryStringParameters"] = dict(parse_qsl(raw_query))
    route_params = {k: v for k, v in params.items() if f"{{{k}}}" in route}
    if route_params:
        found["pathParameters"] = route_params
    found["requestContext"] = {
        "accountId": "123456789012",
        "apiId": API_ID,
        "authorizer": {"lambda": claims(resource, operation)},
        "domainName": HOST,
        "domainPrefix": API_ID,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.10",
            "userAgent": "curl/8.5.0",
        },
        "requestId": f"{resource[:4]}{OPERATION_CODES.get(operation, operation[:4])}EXAMPLE=",
        "routeKey": f"{method} {route}",
        "stage": "$default",
        "time": "21/Nov/2026:09:30:00 +0000",
        "timeEpoch": 1795253400000,
    }
    if body is not None:
        found["body"] = body
    found["isBase64Encoded"] = False
    return found


def file_name(resource: str, operation: str) -> str:
    """``<path>-<operation>.json``, as events/README.md names an API event."""
    return f"{resource_named(resource).path}-{operation}.json"


def rendered(events: Path = EVENTS) -> dict[str, str]:
    """The file name and text of the event of every route that has none in ``events``, and the
    index with their entries."""
    files: dict[str, str] = {}
    index = json.loads((events / "index.json").read_text(encoding="utf-8"))
    routed = {(f["resource"], f["operation"]): f for f in api_functions()}
    for resource, operation in ROUTES:
        function = routed[resource, operation]
        name = file_name(resource, operation)
        if (events / name).exists():
            continue
        found = event(resource, operation, function["method"], function["path"])
        files[name] = json.dumps(found, indent=2) + "\n"
        index[function["Function"]] = [name]
    files["index.json"] = json.dumps(index, indent=2) + "\n"
    return files


def main() -> int:
    for name, text in rendered().items():
        path = EVENTS / name
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(EVENTS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
