"""Every operation, by name: for what needs every route (the template, the OpenAPI document,
the tests). No function imports it: each imports its own operation's module alone."""

from __future__ import annotations

from wellapi.operations import Operation
from wellapi.operations.feed import FEED
from wellapi.operations.nested import ENROL, REMOVE, SELECT, UNENROL
from wellapi.operations.read import CATALOG, LIST, RETRIEVE
from wellapi.operations.related import RELATED, RELATIONSHIP
from wellapi.operations.write import CREATE, DELETE, UPDATE

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        LIST,
        RETRIEVE,
        CREATE,
        UPDATE,
        DELETE,
        RELATED,
        RELATIONSHIP,
        CATALOG,
        SELECT,
        REMOVE,
        ENROL,
        UNENROL,
        FEED,
    )
}
