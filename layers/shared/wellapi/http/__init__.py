"""HTTP entry points: ``api_handler`` builds every API function's Lambda handler."""

from wellapi.http.handler import api_handler

__all__ = ["api_handler"]
