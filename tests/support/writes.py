"""Writes for the tests: documents, requests for every write route, database snapshots, and
requests raced against each other, each in an execution environment (a process) of its own.

Every reply goes through ``api.call`` (or, for a race, the same checks on what the function
answered in its environment), so each body is checked to be a JSON:API 1.1 document with our
media type.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import pg8000.native

from tests.support import environments
from tests.support import factories as f
from tests.support import tenancy as tn
from tests.support.api import JSONAPI, Reply, answer, call, event
from tests.support.shapes import include_options
from wellapi.resources import RESOURCES
from wellapi.roles import API_ROLE

PROVENANCE = (
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
)
ALL = (*PROVENANCE, "workspace_group_workspaces", "workspace_providers")
# The resources a PATCH may change (group enrolments are removed and added, never modified).
PATCHABLE = (*PROVENANCE, "workspace_providers")
RECORD = f.PROVENANCE_RECORD
SYSTEM_FIELDS = ("created_at", "updated_at", "deleted_at")
WORKSPACE_PROVIDERS = "/v1/workspaces/{workspace_id}/providers"
GROUP_WORKSPACES = "/v1/workspace-groups/{workspace_group_id}/workspaces"

Json = dict[str, Any]


# --- documents --------------------------------------------------------------------------------


def type_of(resource: str) -> str:
    return resource[:-1]


def path_of(resource: str) -> str:
    return "/v1/" + resource.replace("_", "-")


def linkage(type_name: str, row_id: UUID | str) -> Json:
    return {"data": {"type": type_name, "id": str(row_id)}}


def document(
    type_name: str,
    *,
    row_id: UUID | str | None = None,
    attributes: Json | None = None,
    relationships: dict[str, tuple[str, UUID | str]] | None = None,
) -> Json:
    data: Json = {"type": type_name}
    if row_id is not None:
        data["id"] = str(row_id)
    if attributes is not None:
        data["attributes"] = attributes
    if relationships is not None:
        data["relationships"] = {n: linkage(t, i) for n, (t, i) in relationships.items()}
    return {"data": data}


def provenance_document(
    resource: str, record_id: UUID, connector_id: UUID, direction: str | None = "input"
) -> Json:
    return document(
        type_of(resource),
        attributes={} if direction is None else {"direction": direction},
        relationships={
            RECORD[resource]: (RECORD[resource], record_id),
            "workspace_connector": ("workspace_connector", connector_id),
        },
    )


def enrolment_document(group_id: UUID | None, workspace_id: UUID) -> Json:
    relationships: dict[str, tuple[str, UUID | str]] = {"workspace": ("workspace", workspace_id)}
    if group_id is not None:
        relationships["workspace_group"] = ("workspace_group", group_id)
    return document("workspace_group_workspace", relationships=relationships)


def provider_document(workspace_id: UUID | None, provider_id: UUID, **attributes: Any) -> Json:
    relationships: dict[str, tuple[str, UUID | str]] = {"provider": ("provider", provider_id)}
    if workspace_id is not None:
        relationships["workspace"] = ("workspace", workspace_id)
    return document("workspace_provider", attributes=attributes, relationships=relationships)


# --- arranged cases ---------------------------------------------------------------------------


@dataclass
class Arranged:
    """A request its caller may make: who calls, in which tenant, with which document."""

    tenant: f.Tenant
    claims: dict[str, str]
    document: Json


def writer_claims(t: f.Tenant, resource: str) -> dict[str, str]:
    """A principal allowed to write ``resource`` in ``t``'s workspace over HTTP."""
    return t.claims("service" if resource in PROVENANCE else "member")


def arrange_create(admin: pg8000.native.Connection, resource: str) -> Arranged:
    """A valid create of ``resource`` by a principal that may make it."""
    t = f.tenant(admin)
    claims = writer_claims(t, resource)
    if resource in PROVENANCE:
        _, record_id = f.record_of(t, resource)
        doc = provenance_document(resource, record_id, t.workspace_connector_id)
    elif resource == "workspace_group_workspaces":
        group_pk, group_id = f.group(admin)
        f.group_member(admin, group_pk, t.person_pk, "owner")
        doc = enrolment_document(group_id, t.workspace_id)
    else:
        _, provider_id = f.provider(admin)
        doc = provider_document(t.workspace_id, provider_id)
    return Arranged(t, claims, doc)


def arrange_row(admin: pg8000.native.Connection, resource: str) -> tuple[Arranged, UUID]:
    """A live row of ``resource``, and a principal that may change or delete it."""
    t = f.tenant(admin)
    claims = writer_claims(t, resource)
    if resource in PROVENANCE:
        record_pk, _ = f.record_of(t, resource)
        row_id = f.provenance(admin, resource, record_pk, t.workspace_connector_pk)
        doc = document(type_of(resource), row_id=row_id, attributes={"direction": "input"})
    elif resource == "workspace_group_workspaces":
        group_pk, _ = f.group(admin)
        f.group_member(admin, group_pk, t.person_pk, "admin")
        row_id = f.enrol(admin, group_pk, t.workspace_pk, t.person_pk)
        doc = document(type_of(resource), row_id=row_id)
    else:
        provider_pk, _ = f.provider(admin)
        row_id = f.workspace_provider(
            admin, t.workspace_pk, provider_pk, selected=False, matched=False
        )
        doc = document(type_of(resource), row_id=row_id, attributes={"is_matched": True})
    return Arranged(t, claims, doc), row_id


# A create route, arranged: the request (given its headers and document, and optionally its
# query string as ``query=``) and the table it writes.
RouteSend = Callable[..., Reply]


def arrange_route(admin: Any, route: str) -> tuple[RouteSend, dict[str, Any], f.Tenant, str]:
    """(send, a valid document, the tenant, the table) for one create route."""
    if route in ALL:
        a = arrange_create(admin, route)
        return (
            lambda headers, doc, **kw: post(route, a.claims, doc, headers=headers, **kw),
            a.document,
            a.tenant,
            route,
        )
    t = f.tenant(admin)
    if route == "select":
        _, provider_id = f.provider(admin)
        doc = provider_document(t.workspace_id, provider_id)
        return (
            lambda headers, d, **kw: select(t.claims(), t.workspace_id, d, headers=headers, **kw),
            doc,
            t,
            table_of_route(route),
        )
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "owner")
    doc = enrolment_document(None, t.workspace_id)
    return (
        lambda headers, d, **kw: enrol(t.claims(), group_id, d, headers=headers, **kw),
        doc,
        t,
        table_of_route(route),
    )


CREATE_ROUTES = (*ALL, "select", "enrol")
# The table each nested create route writes (a generic route's is its resource's).
NESTED_TABLES = {"select": "workspace_providers", "enrol": "workspace_group_workspaces"}


def table_of_route(route: str) -> str:
    """The table a create route (``CREATE_ROUTES``) writes."""
    return NESTED_TABLES.get(route, route)


def answer_queries(resource: str) -> list[str]:
    """What a write may ask of its answer: every ``include`` a client can send
    (``tests.support.shapes.include_options``), and a sparse fieldset beside one."""
    described = RESOURCES[resource]
    first = described.relationships[0].name
    return [
        *(f"include={names}" for names in include_options(described)),
        f"include={first}&fields[{described.type}]={first}",
    ]


# --- requests ---------------------------------------------------------------------------------


def _with_body(
    ev: Json, body: Json | str | bytes | None, content_type: str | None, *, b64: bool = False
) -> Json:
    if content_type is not None:
        ev["headers"]["content-type"] = content_type
    if body is None:
        return ev
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    if isinstance(raw, bytes) and (b64 or not _is_utf8(raw)):
        ev["body"] = base64.b64encode(raw).decode()
        ev["isBase64Encoded"] = True
    else:
        ev["body"] = raw.decode() if isinstance(raw, bytes) else raw
    return ev


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _request(
    method: str,
    path: str,
    claims: dict[str, str] | None,
    body: Json | str | bytes | None = None,
    *,
    route: str | None = None,
    path_parameters: dict[str, str] | None = None,
    content_type: str | None = JSONAPI,
    query: str = "",
    headers: dict[str, str] | None = None,
    b64: bool = False,
) -> Json:
    ev = event(
        method,
        path,
        claims=claims,
        query=query,
        headers=headers,
        path_parameters=path_parameters,
        route=route,
    )
    return _with_body(ev, body, content_type if body is not None else None, b64=b64)


def create_event(
    resource: str, claims: dict[str, str] | None, body: Json | str | bytes | None, **kw: Any
) -> Json:
    return _request("POST", path_of(resource), claims, body, **kw)


def _templated(
    method: str,
    route: str,
    params: dict[str, UUID | str],
    claims: dict[str, str] | None,
    body: Json | str | bytes | None = None,
    **kw: Any,
) -> Json:
    """A request to ``route`` with its path parameters filled in, as API Gateway passes them."""
    return _request(
        method,
        route.format(**params),
        claims,
        body,
        route=route,
        path_parameters={name: str(value) for name, value in params.items()},
        **kw,
    )


def update_event(
    resource: str,
    claims: dict[str, str] | None,
    row_id: UUID | str,
    body: Json | str | bytes | None,
    **kw: Any,
) -> Json:
    return _templated("PATCH", path_of(resource) + "/{id}", {"id": row_id}, claims, body, **kw)


def delete_event(
    resource: str, claims: dict[str, str] | None, row_id: UUID | str, **kw: Any
) -> Json:
    return _templated("DELETE", path_of(resource) + "/{id}", {"id": row_id}, claims, **kw)


def select_event(
    claims: dict[str, str] | None,
    workspace_id: UUID | str,
    body: Json | str | bytes | None,
    **kw: Any,
) -> Json:
    params = {"workspace_id": workspace_id}
    return _templated("POST", WORKSPACE_PROVIDERS, params, claims, body, **kw)


def remove_event(
    claims: dict[str, str] | None, workspace_id: UUID | str, provider_id: UUID | str, **kw: Any
) -> Json:
    params = {"workspace_id": workspace_id, "provider_id": provider_id}
    return _templated("DELETE", WORKSPACE_PROVIDERS + "/{provider_id}", params, claims, **kw)


def catalog_event(
    claims: dict[str, str] | None, workspace_id: UUID | str, query: str = "", **kw: Any
) -> Json:
    params = {"workspace_id": workspace_id}
    return _templated("GET", WORKSPACE_PROVIDERS, params, claims, query=query, **kw)


def enrol_event(
    claims: dict[str, str] | None,
    group_id: UUID | str,
    body: Json | str | bytes | None,
    **kw: Any,
) -> Json:
    params = {"workspace_group_id": group_id}
    return _templated("POST", GROUP_WORKSPACES, params, claims, body, **kw)


def unenrol_event(
    claims: dict[str, str] | None, group_id: UUID | str, workspace_id: UUID | str, **kw: Any
) -> Json:
    params = {"workspace_group_id": group_id, "workspace_id": workspace_id}
    return _templated("DELETE", GROUP_WORKSPACES + "/{workspace_id}", params, claims, **kw)


def post(
    resource: str, claims: dict[str, str] | None, body: Json | str | bytes | None, **kw: Any
) -> Reply:
    return call(resource, "create", create_event(resource, claims, body, **kw))


def patch(
    resource: str,
    claims: dict[str, str] | None,
    row_id: UUID | str,
    body: Json | str | bytes | None,
    **kw: Any,
) -> Reply:
    return call(resource, "update", update_event(resource, claims, row_id, body, **kw))


def delete(resource: str, claims: dict[str, str] | None, row_id: UUID | str, **kw: Any) -> Reply:
    return call(resource, "delete", delete_event(resource, claims, row_id, **kw))


def select(
    claims: dict[str, str] | None, workspace_id: UUID | str, body: Json | str | None, **kw: Any
) -> Reply:
    return call("workspace_providers", "select", select_event(claims, workspace_id, body, **kw))


def remove(
    claims: dict[str, str] | None, workspace_id: UUID | str, provider_id: UUID | str, **kw: Any
) -> Reply:
    return call(
        "workspace_providers", "remove", remove_event(claims, workspace_id, provider_id, **kw)
    )


def catalog(claims: dict[str, str] | None, workspace_id: UUID | str, query: str = "") -> Reply:
    return call("workspace_providers", "catalog", catalog_event(claims, workspace_id, query))


def enrol(
    claims: dict[str, str] | None, group_id: UUID | str, body: Json | str | None, **kw: Any
) -> Reply:
    return call("workspace_group_workspaces", "enrol", enrol_event(claims, group_id, body, **kw))


def unenrol(claims: dict[str, str] | None, group_id: UUID | str, workspace_id: UUID | str) -> Reply:
    return call(
        "workspace_group_workspaces", "unenrol", unenrol_event(claims, group_id, workspace_id)
    )


# --- what a client sees -----------------------------------------------------------------------


def error(reply: Reply, status: int) -> Json:
    """The one error object of a reply that must have exactly this status."""
    assert reply.status == status, reply.body
    assert len(reply.errors) == 1, reply.errors
    obj = reply.errors[0]
    assert obj["status"] == str(status)
    return obj


def pointers(reply: Reply) -> list[str]:
    return sorted(e.get("source", {}).get("pointer", "<none>") for e in reply.errors)


def created(reply: Reply) -> Json:
    """The resource object of a 201: Location must be its self link."""
    assert reply.status == 201, reply.body
    data = reply.json["data"]
    assert reply.headers["Location"] == data["links"]["self"]
    assert reply.json["links"]["self"] == data["links"]["self"]
    return dict(data)


def related_id(data: Json, name: str) -> str | None:
    linked = data["relationships"][name]["data"]
    return None if linked is None else str(linked["id"])


def timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- the database, as the admin sees it ---------------------------------------------------------


def db_row(admin: pg8000.native.Connection, resource: str, row_id: UUID | str) -> Json:
    """Every column of one row of a junction, by its public id."""
    columns = [
        r[0]
        for r in admin.run(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'core_api' AND table_name = :t ORDER BY ordinal_position",
            t=resource,
        )
    ]
    rows = admin.run(
        f"SELECT {', '.join(columns)} FROM core_api.{resource} "
        f"WHERE {type_of(resource)}_id = CAST(:i AS uuid)",
        i=str(row_id),
    )
    assert len(rows) == 1, rows
    return dict(zip(columns, rows[0], strict=True))


def live_rows(
    admin: pg8000.native.Connection, resource: str, where: str, **params: Any
) -> list[Json]:
    rows = admin.run(
        f"SELECT {type_of(resource)}_id, deleted_at FROM core_api.{resource} WHERE {where}",
        **params,
    )
    return [{"id": str(r[0]), "deleted_at": r[1]} for r in rows if r[1] is None]


def tables(admin: pg8000.native.Connection) -> list[str]:
    # A ledger's periods (its partitions) are read through it.
    return tn.core_api_tables(admin)


def snapshot(admin: pg8000.native.Connection) -> dict[str, bytes]:
    """Every row of every table of the schema, as PostgreSQL prints it, in key order.

    Two snapshots compare byte for byte: a write of any column (a timestamp included) shows.
    """
    result: dict[str, bytes] = {}
    for table in tables(admin):
        rows = admin.run(
            f"SELECT coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '') "
            f"FROM core_api.{table} x"
        )
        result[table] = str(rows[0][0]).encode()
    return result


@contextmanager
def writes_nothing(admin: pg8000.native.Connection) -> Iterator[None]:
    before = snapshot(admin)
    yield
    after = snapshot(admin)
    changed = [t for t in before if before[t] != after.get(t)]
    assert not changed, f"a rejected request changed {changed}"
    assert before == after


# --- races --------------------------------------------------------------------------------------


def race(requests: list[tuple[str, str, Json]]) -> list[Reply]:
    """Send (resource, operation, event) requests at once, each to an environment of its own."""
    functions = [environments.function_of(resource, op) for resource, op, _ in requests]
    with environments.invoking(functions) as send:
        futures = [send(i, ev) for i, (_, _, ev) in enumerate(requests)]
        return [answer(future.result(timeout=60)) for future in futures]


def wait_until_blocked(
    admin: pg8000.native.Connection, count: int = 1, role: str = API_ROLE
) -> None:
    """Until ``count`` sessions of ``role`` (API requests) in this database wait for a lock (a
    row another holds)."""
    deadline = time.monotonic() + 60  # only bounds a hang
    while time.monotonic() < deadline:
        rows = admin.run(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND usename = :role AND wait_event_type = 'Lock'",
            role=role,
        )
        if rows[0][0] >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} session(s) of {role} never blocked on the row")


def waiting_on_a_lock(
    admin: pg8000.native.Connection,
    locker: pg8000.native.Connection,
    statement: str,
    request: tuple[str, str, Json],
    **params: Any,
) -> Reply:
    """The answer to a (resource, operation, event) request that waited on a row.

    ``locker`` writes the row with ``statement`` in an open transaction, and commits only
    once the request is blocked on it.
    """
    resource, operation, ev = request
    locker.run("BEGIN")
    locker.run(statement, **params)
    with environments.invoking([environments.function_of(resource, operation)]) as send:
        pending = send(0, ev)
        wait_until_blocked(admin)
        locker.run("COMMIT")
        return answer(pending.result(timeout=30))


def statuses(replies: list[Reply]) -> list[int]:
    return sorted(r.status for r in replies)
