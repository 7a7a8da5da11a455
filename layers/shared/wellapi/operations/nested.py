"""The platform's nested write routes: the generic writes, with parents named by the path
(the nested read, the provider catalog, is ``wellapi.operations.read.CATALOG``).

- POST /v1/workspaces/{workspace_id}/providers: select (upsert), 201 new or 200 existing
- DELETE /v1/workspaces/{workspace_id}/providers/{provider_id}: remove (soft delete, unselect)
- POST /v1/workspace-groups/{workspace_group_id}/workspaces: enrol a workspace
- DELETE /v1/workspace-groups/{workspace_group_id}/workspaces/{workspace_id}: remove it
"""

from __future__ import annotations

from dataclasses import replace

from wellapi.errors import Unprocessable
from wellapi.http.request import ParsedRequest, PathId, RequestSpec
from wellapi.http.response import Response
from wellapi.jsonapi.body import CREATE_BODY
from wellapi.jsonapi.ids import new_id
from wellapi.jsonapi.query import ReadQuery
from wellapi.operations import (
    GROUP_WORKSPACES_ROUTE,
    WORKSPACE_PROVIDERS_ROUTE,
    Operation,
)
from wellapi.operations.conditional_write import (
    Reread,
    create_one,
    delete_one,
    may_write,
    respond,
    run_write,
)
from wellapi.store.shapes import ReadShape, WriteShape, read_params, write_params

# What selecting means: the route sets it, and a document may only repeat it.
SELECTED = {"is_selected": True}
WORKSPACE_IN_PATH = PathId("workspace_id", "workspace")
GROUP_IN_PATH = PathId("workspace_group_id", "workspace_group")


def select_provider(request: ParsedRequest) -> Response:
    """Create the one live row for the path's workspace and the provider, or update it."""
    document = request.sent()
    for name, value in SELECTED.items():
        if document.attributes.get(name, value) != value:
            raise Unprocessable(
                f"This route sets {name} to {value}.", pointer=f"/data/attributes/{name}"
            )
    document = replace(document, attributes={**document.attributes, **SELECTED})
    document = request.resource.rules.normalise(document, "create")
    service = request.principal.is_service
    # A client-generated id names a new row: with one, the select inserts or is refused (409,
    # the live row with these parents has its own id), and never answers with another row.
    upsert = document.client_id is None
    shape = WriteShape.of(request.resource, "create", document, service, upsert=upsert)
    # The row may be an existing one with its own id: it is answered as a List filtered by
    # its relationships shows it (the answer's columns; a keyed select's re-read).
    query = request.query
    by_relationships = ReadQuery(
        include=query.include,
        fields=query.fields,
        relationship_filters=tuple(
            (k, (v,)) for k, v in sorted(document.relationships.items()) if v
        ),
        page_size=1,
        include_requested=query.include_requested,
    )
    read_shape = ReadShape.of(request.resource, by_relationships, single=False, service=service)
    result = run_write(
        request,
        shape,
        write_params(document, row_id=document.client_id or new_id()),
        Reread(read_shape, by_relationships, read_params(by_relationships)),
        client_id=document.client_id,
    )
    status = 201 if result.created else 200
    return respond(request, by_relationships, result.rows, status, replayed=result.replayed)


def remove_provider(request: ParsedRequest) -> Response:
    return delete_one(request)


def enrol_workspace(request: ParsedRequest) -> Response:
    return create_one(request)


def remove_enrolment(request: ParsedRequest) -> Response:
    return delete_one(request)


SELECT = Operation(
    "select",
    "POST",
    select_provider,
    RequestSpec(
        "retrieve",
        body=CREATE_BODY,
        ids=(WORKSPACE_IN_PATH,),
        scope="workspace_id",
        permit=may_write,
        idempotent=True,
    ),
    route=WORKSPACE_PROVIDERS_ROUTE,
)
REMOVE = Operation(
    "remove",
    "DELETE",
    remove_provider,
    RequestSpec(
        "retrieve",
        ids=(WORKSPACE_IN_PATH, PathId("provider_id", "provider")),
        scope="workspace_id",
        permit=may_write,
    ),
    route=WORKSPACE_PROVIDERS_ROUTE + "/{provider_id}",
)
ENROL = Operation(
    "enrol",
    "POST",
    enrol_workspace,
    RequestSpec(
        "retrieve", body=CREATE_BODY, ids=(GROUP_IN_PATH,), permit=may_write, idempotent=True
    ),
    route=GROUP_WORKSPACES_ROUTE,
)
UNENROL = Operation(
    "unenrol",
    "DELETE",
    remove_enrolment,
    RequestSpec("retrieve", ids=(GROUP_IN_PATH, WORKSPACE_IN_PATH), permit=may_write),
    route=GROUP_WORKSPACES_ROUTE + "/{workspace_id}",
)
