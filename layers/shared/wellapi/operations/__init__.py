"""The operations every function is built from. Each reads a resource description; none is
written per resource. A function file names a resource and one of these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from wellapi.request import Request
from wellapi.resources import Resource
from wellapi.response import Response


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    # ``<module>.<function>`` in this package: a function imports only its own operation's
    # module (a read never loads the write path and its SQL builders).
    target: str
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

    def runner(self) -> Callable[[Resource, Request], Response]:
        module, _, function = self.target.rpartition(".")
        run: Callable[[Resource, Request], Response] = getattr(_module(module), function)
        return run


def _module(name: str) -> ModuleType:
    """One operation module, imported when a function is built for one of its operations.

    Imported here rather than at the top so that a function loads only its own operation's
    module: a read never loads the write path and its SQL builders.
    """
    if name == "read":
        from wellapi.operations import read

        return read
    if name == "related":
        from wellapi.operations import related

        return related
    if name == "write":
        from wellapi.operations import write

        return write
    if name == "nested":
        from wellapi.operations import nested

        return nested
    raise KeyError(f"no operation module {name!r}")


_WORKSPACE_PROVIDERS = "/v1/workspaces/{workspace_id}/providers"
_GROUP_WORKSPACES = "/v1/workspace-groups/{workspace_group_id}/workspaces"

OPERATIONS = {
    op.name: op
    for op in (
        Operation("list", "GET", "read.list_rows"),
        Operation("retrieve", "GET", "read.retrieve_row", item=True),
        Operation("create", "POST", "write.create_row"),
        Operation("update", "PATCH", "write.update_row", item=True),
        Operation("delete", "DELETE", "write.delete_row", item=True),
        Operation(
            "related", "GET", "related.related_resource", item=True, suffix="/{relationship}"
        ),
        Operation(
            "relationship",
            "GET",
            "related.relationship_linkage",
            item=True,
            suffix="/relationships/{relationship}",
        ),
        Operation("catalog", "GET", "read.provider_catalog", route=_WORKSPACE_PROVIDERS),
        Operation("select", "POST", "nested.select_provider", route=_WORKSPACE_PROVIDERS),
        Operation(
            "remove",
            "DELETE",
            "nested.remove_provider",
            route=_WORKSPACE_PROVIDERS + "/{provider_id}",
        ),
        Operation("enrol", "POST", "nested.enrol_workspace", route=_GROUP_WORKSPACES),
        Operation(
            "unenrol",
            "DELETE",
            "nested.remove_enrolment",
            route=_GROUP_WORKSPACES + "/{workspace_id}",
        ),
    )
}
