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

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from wellapi.operations.registry import OPERATIONS, ROUTES
from wellapi.resources import RESOURCES, resource_named
from welldev import openapi_examples as examples
from welldev.payload import HttpRequest, build_event
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
# When every example request is sent: 21/Nov/2026:09:30:00 +0000.
EXAMPLE_TIME = 1_795_253_400


def query(resource: str, operation: str) -> str:
    if (resource, operation) in QUERIES:
        return QUERIES[resource, operation]
    if (described := RESOURCES.get(resource)) is None or not described.walks:
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
    """The event of one route (``route``: its path with ``{parameters}``), as the local gateway
    builds it (``payload.build_event``) for a curl over HTTPS on an example request, its body
    left as text and its claims the authorizer's."""
    described = resource_named(resource)
    params = examples.path_parameters(described, operation) if "{" in route else {}
    if operation == "delete":
        params["id"] = examples.row_id(described, 1)
    raw_query = query(resource, operation)
    target = route.format(**params) + (f"?{raw_query}" if raw_query else "")
    headers = [("accept", JSONAPI), ("authorization", f"Bearer {PLACEHOLDER_KEY}")]
    body = b""
    if method in ("POST", "PATCH"):
        _, document = examples.request_example(described, operation)
        body = json.dumps(document, separators=(",", ":")).encode()
        headers += [("content-length", str(len(body))), ("content-type", JSONAPI)]
    trace = hashlib.sha256(f"{resource}/{operation}".encode()).hexdigest()[:24]
    headers += [("host", HOST), ("user-agent", "curl/8.5.0")]
    headers.append(("x-amzn-trace-id", f"Root=1-6b016498-{trace}"))
    found = build_event(
        HttpRequest(method, target, headers, body, source_ip="203.0.113.10", server_port=443),
        route_key=f"{method} {route}",
        path_parameters={k: v for k, v in params.items() if f"{{{k}}}" in route},
        api_id=API_ID,
        request_id=f"{resource[:4]}{OPERATION_CODES.get(operation, operation[:4])}EXAMPLE=",
        now=EXAMPLE_TIME,
    )
    found["headers"]["x-forwarded-proto"] = "https"
    context = {**found["requestContext"], "authorizer": {"lambda": claims(resource, operation)}}
    found["requestContext"] = dict(sorted(context.items()))
    if body:  # as text: handlers take both, and a reader of events/ reads it
        found["body"], found["isBase64Encoded"] = body.decode(), False
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


def main(argv: list[str] | None = None) -> None:
    description = "Write the events of the routes that have none, and their entries of index.json."
    argparse.ArgumentParser(
        prog="python -m welldev.api_events", description=description
    ).parse_args(argv)
    for name, text in rendered().items():
        path = EVENTS / name
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(EVENTS.parent)}")


if __name__ == "__main__":
    main()
