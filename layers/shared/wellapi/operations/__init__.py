"""The generic operations. Each reads a resource description; none is written per resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response

from wellapi.http.request import Request
from wellapi.resources import Resource


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    item: bool
    run: Callable[[Resource, Request], Response[str]]

    def path(self, resource: Resource) -> str:
        base = f"/v1/{resource.path}"
        return base + "/{id}" if self.item else base


def _registry() -> dict[str, Operation]:
    from wellapi.operations import read, write

    return {
        "list": Operation("list", "GET", False, read.list_rows),
        "retrieve": Operation("retrieve", "GET", True, read.retrieve_row),
        "create": Operation("create", "POST", False, write.create_row),
        "update": Operation("update", "PATCH", True, write.update_row),
        "delete": Operation("delete", "DELETE", True, write.delete_row),
    }


OPERATIONS = _registry()
