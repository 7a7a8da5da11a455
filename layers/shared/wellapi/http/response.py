"""Responses carrying JSON:API documents, in the format API Gateway's HTTP API takes back.

Below the operations, which answer with them, and ``wellapi.handlers.api``, which sends them
back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from wellapi.errors import ApiError, DatabaseUnavailable, ErrorList
from wellapi.jsonapi import MEDIA_TYPE
from wellapi.jsonapi.document import JSONAPI, dump
from wellapi.settings import get_settings


@dataclass(frozen=True)
class Response:
    """What a function answers: a status, headers and an optional body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    # The metrics this answer counts, one each (an error a person must look at).
    counted: tuple[str, ...] = ()

    def to_gateway(self) -> dict[str, Any]:
        """The Lambda proxy integration's answer (payload format 2.0)."""
        return {
            "statusCode": self.status,
            "headers": self.headers,
            "body": self.body or "",
            "isBase64Encoded": False,
        }


def document_response(
    status: int,
    document: dict[str, Any] | str | None,
    headers: dict[str, str] | None = None,
    *,
    media_type: str = MEDIA_TYPE,
) -> Response:
    all_headers = {"Vary": "Accept", **(headers or {})}
    if document is None:
        return Response(status, all_headers)
    # A read's document comes as text already (``wellapi.jsonapi.document``).
    body = document if isinstance(document, str) else dump(document)
    return Response(status, {"Content-Type": media_type, **all_headers}, body)


# A body with thousands of unknown members would otherwise be answered with an error each,
# many times the request's size; the first ones tell the client what is wrong.
MAX_ERRORS = 20


def _headers(error: ApiError) -> dict[str, str]:
    # An outage mapped where no settings are read (``errors.database_error``, the authorizer's
    # outage claim) carries no wait of its own; the client is still told the configured one.
    if isinstance(error, DatabaseUnavailable) and error.retry_after_seconds is None:
        return {"Retry-After": str(get_settings().db_retry_after_seconds)}
    return error.headers()


def error_response(error: ApiError | ErrorList, trace_id: str | None) -> Response:
    errors = error.errors if isinstance(error, ErrorList) else [error]
    headers: dict[str, str] = {}
    for e in errors:
        headers.update(_headers(e))
    body: dict[str, Any] = {
        "jsonapi": JSONAPI,
        "errors": [e.to_object(trace_id) for e in errors[:MAX_ERRORS]],
    }
    if len(errors) > MAX_ERRORS:
        body["meta"] = {"errors_total": len(errors), "errors_omitted": len(errors) - MAX_ERRORS}
    status = error.status if isinstance(error, ErrorList) else error.error_status
    counted = tuple(m for m in (getattr(e, "metric", None) for e in errors) if m)
    return replace(document_response(status, body, headers), counted=counted)
