"""HTTP entry points: ``api_handler`` builds every API function's Lambda handler.

It is loaded on first use: the operations import this package's request and response
modules, and the handler factory imports the operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wellapi.http.handler import api_handler


def __getattr__(name: str) -> Any:
    if name == "api_handler":
        from wellapi.http.handler import api_handler

        return api_handler
    raise AttributeError(name)


__all__ = ["api_handler"]
