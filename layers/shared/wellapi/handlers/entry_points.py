"""How an API function's ``Handler`` names its resource and operation.

Every API function's code is ``functions/api.py``; its handler is
``api.<resource>__<operation>`` (``api.account_workspace_connectors__list``), made from the
registry by the template writer, so a resource needs no file of its own under ``functions/``.
The entry module makes the handler the first time Lambda's runtime looks it up
(``wellapi.handlers.api.entry_point``), importing only the module that declares the operation.
"""

from __future__ import annotations

import re

# The entry module of every API function, under functions/.
ENTRY_MODULE = "api"
# Which module of ``wellapi.operations`` declares each operation (``LIST`` in ``read``...): an
# entry point loads that one alone; ``wellapi.operations.registry`` loads them all, for what
# needs every route, and a test holds this table to it.
OPERATION_MODULES = {
    "list": "read",
    "retrieve": "read",
    "catalog": "read",
    "create": "write",
    "update": "write",
    "delete": "write",
    "related": "related",
    "relationship": "related",
    "select": "nested",
    "remove": "nested",
    "enrol": "nested",
    "unenrol": "nested",
    "feed": "feed",
}
_HANDLER = re.compile(rf"^{ENTRY_MODULE}\.(?P<resource>[a-z][a-z_]*[a-z])__(?P<operation>[a-z]+)$")


def handler_name(resource: str, operation: str) -> str:
    """An API function's ``Handler``."""
    return f"{ENTRY_MODULE}.{resource}__{operation}"


def binding_of(handler: str) -> tuple[str, str] | None:
    """(resource, operation) of an API function's ``Handler``, or None for any other handler."""
    match = _HANDLER.match(handler)
    if match is None or match["operation"] not in OPERATION_MODULES:
        return None
    return match["resource"], match["operation"]
