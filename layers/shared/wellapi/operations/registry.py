"""Every operation, by name: for what needs every route (the template, the OpenAPI document,
the tests, and the function of the ``$default`` route). No other function imports it: each
imports its own operation's module alone."""

from __future__ import annotations

from wellapi.operations import Operation
from wellapi.operations.feed import FEED
from wellapi.operations.nested import ENROL, REMOVE, SELECT, UNENROL
from wellapi.operations.read import CATALOG, LIST, RETRIEVE
from wellapi.operations.related import RELATED, RELATIONSHIP
from wellapi.operations.write import CREATE, DELETE, UPDATE
from wellapi.resources import RESOURCES

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

# (resource key, operation): every route the API serves; the template has one function each.
ROUTES: tuple[tuple[str, str], ...] = (
    *(
        (key, op)
        for key in RESOURCES
        for op in ("list", "retrieve", "create", "update", "delete", "related", "relationship")
    ),
    ("workspace_providers", "catalog"),
    ("workspace_providers", "select"),
    ("workspace_providers", "remove"),
    ("workspace_group_workspaces", "enrol"),
    ("workspace_group_workspaces", "unenrol"),
    ("changes", "feed"),
)

# The function of API Gateway's ``$default`` route, which answers every request no route above
# serves (``wellapi.operations.unmatched``): ``functions/<name>.py``, ``<Name>Function``.
DEFAULT_ROUTE_FUNCTION = "unmatched"


def served_routes() -> tuple[tuple[str, str], ...]:
    """(method, path) of every route a function serves: each generic operation for every
    resource, and each operation with a route of its own once."""
    generic = [op for op in OPERATIONS.values() if op.route is None]
    fixed = [(op.method, op.route) for op in OPERATIONS.values() if op.route is not None]
    return tuple((op.method, op.path(r)) for r in RESOURCES.values() for op in generic) + tuple(
        fixed
    )
