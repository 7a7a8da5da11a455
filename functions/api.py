"""Every API function's entry point. Its ``Handler`` in the template names its resource and
operation, ``api.<resource>__<operation>`` (``api.account_workspace_connectors__list``); the
handler is made when Lambda's runtime first looks it up, at init, and kept."""

from typing import Any

from wellapi.handlers.api import entry_point


def __getattr__(name: str) -> Any:
    handler = globals()[name] = entry_point(name)
    return handler
