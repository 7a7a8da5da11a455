"""The operations every function is built from. Each reads a resource description; none is
written per resource. A function file names a resource and one of these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # wellapi.http imports this registry; at run time only names are needed
    from aws_lambda_powertools.event_handler import Response

    from wellapi.http.request import Request
    from wellapi.resources import Resource


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    run: Callable[[Resource, Request], Response[str]]
    item: bool = False
    # A fixed route (the platform's nested routes); otherwise /v1/<resource path>[/{id}].
    route: str | None = None

    def path(self, resource: Resource) -> str:
        if self.route is not None:
            return self.route
        base = f"/v1/{resource.path}"
        return base + "/{id}" if self.item else base


def _registry() -> dict[str, Operation]:
    from wellapi.operations import nested, read, write

    workspace_providers = "/v1/workspaces/{workspace_id}/providers"
    group_workspaces = "/v1/workspace-groups/{workspace_group_id}/workspaces"
    operations = (
        Operation("list", "GET", read.list_rows),
        Operation("retrieve", "GET", read.retrieve_row, item=True),
        Operation("create", "POST", write.create_row),
        Operation("update", "PATCH", write.update_row, item=True),
        Operation("delete", "DELETE", write.delete_row, item=True),
        Operation("catalog", "GET", nested.provider_catalog, route=workspace_providers),
        Operation("select", "POST", nested.select_provider, route=workspace_providers),
        Operation(
            "remove", "DELETE", nested.remove_provider, route=workspace_providers + "/{provider_id}"
        ),
        Operation("enrol", "POST", nested.enrol_workspace, route=group_workspaces),
        Operation(
            "unenrol", "DELETE", nested.remove_enrolment, route=group_workspaces + "/{workspace_id}"
        ),
    )
    return {op.name: op for op in operations}


OPERATIONS = _registry()
