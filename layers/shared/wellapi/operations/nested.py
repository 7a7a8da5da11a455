"""The platform's nested write routes, bound to the generic operations by their URL parameters
(the nested read, the provider catalog, is ``wellapi.operations.read.provider_catalog``).

- POST /v1/workspaces/{workspace_id}/providers: select (upsert), 201 new or 200 existing
- DELETE /v1/workspaces/{workspace_id}/providers/{provider_id}: remove (soft delete, unselect)
- POST /v1/workspace-groups/{workspace_group_id}/workspaces: enrol a workspace
- DELETE /v1/workspace-groups/{workspace_group_id}/workspaces/{workspace_id}: remove it
"""

from __future__ import annotations

from wellapi.operations import GROUP_WORKSPACES_ROUTE, WORKSPACE_PROVIDERS_ROUTE, Operation
from wellapi.operations.read import path_id
from wellapi.operations.write import create_row, delete_row, upsert_row
from wellapi.request import Request
from wellapi.resources import Resource
from wellapi.response import Response


def select_provider(resource: Resource, request: Request) -> Response:
    workspace = path_id(request, "workspace_id")
    return upsert_row(
        resource,
        request,
        preset={"workspace": workspace},
        path_workspace=str(workspace),
        force={"is_selected": True},
    )


def remove_provider(resource: Resource, request: Request) -> Response:
    workspace = path_id(request, "workspace_id")
    provider = path_id(request, "provider_id")
    return delete_row(
        resource,
        request,
        target={"workspace": workspace, "provider": provider},
        path_workspace=str(workspace),
    )


def enrol_workspace(resource: Resource, request: Request) -> Response:
    group = path_id(request, "workspace_group_id")
    return create_row(resource, request, preset={"workspace_group": group})


def remove_enrolment(resource: Resource, request: Request) -> Response:
    group = path_id(request, "workspace_group_id")
    workspace = path_id(request, "workspace_id")
    return delete_row(resource, request, target={"workspace_group": group, "workspace": workspace})


SELECT = Operation("select", "POST", select_provider, route=WORKSPACE_PROVIDERS_ROUTE)
REMOVE = Operation(
    "remove", "DELETE", remove_provider, route=WORKSPACE_PROVIDERS_ROUTE + "/{provider_id}"
)
ENROL = Operation("enrol", "POST", enrol_workspace, route=GROUP_WORKSPACES_ROUTE)
UNENROL = Operation(
    "unenrol", "DELETE", remove_enrolment, route=GROUP_WORKSPACES_ROUTE + "/{workspace_id}"
)
