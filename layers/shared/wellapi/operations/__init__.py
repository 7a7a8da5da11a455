"""The operations every function is built from. Each reads a resource description; none is
written per resource.

An operation is declared beside its code (``read``, ``write``, ``related``, ``nested``), and a
function file imports the one it serves: ``api_handler("<resource>", LIST)``, so every static
tool follows a request from its function to its SQL. A function loads only its own
operation's module (a read never loads the write path and its SQL builders).
``wellapi.operations.registry`` lists them all, for what needs every route (the template, the
OpenAPI document, the tests); no function imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wellapi.request import Request
from wellapi.resources import Resource
from wellapi.response import Response

Run = Callable[[Resource, Request], Response]

# The platform's nested routes.
WORKSPACE_PROVIDERS_ROUTE = "/v1/workspaces/{workspace_id}/providers"
GROUP_WORKSPACES_ROUTE = "/v1/workspace-groups/{workspace_group_id}/workspaces"


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    # What answers a request: the operation's own function in its module.
    run: Run
    item: bool = False
    # A fixed route (the platform's nested routes); otherwise /v1/<resource path>[/{id}].
    route: str | None = None
    # What follows /{id} on an item's route: the related-resource and relationship routes.
    suffix: str = ""

    def path(self, resource: Resource) -> str:
        if self.route is not None:
            return self.route
        base = f"/v1/{resource.path}"
        return base + "/{id}" + self.suffix if self.item else base
