"""Responses carrying JSON:API documents, as Powertools ``Response`` objects."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from wellapi.errors import ApiError, ErrorList
from wellapi.jsonapi import MEDIA_TYPE
from wellapi.jsonapi.document import JSONAPI


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def document_response(
    status: int,
    document: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
    *,
    media_type: str = MEDIA_TYPE,
) -> Response[str]:
    all_headers = {"Vary": "Accept", **(headers or {})}
    if document is None:
        return Response(status_code=status, headers=all_headers, body=None)
    return Response(
        status_code=status, content_type=media_type, body=dump(document), headers=all_headers
    )


# A body with thousands of unknown members would otherwise be answered with an error each,
# many times the request's size; the first ones tell the client what is wrong.
MAX_ERRORS = 20


def error_response(error: ApiError | ErrorList, trace_id: str | None) -> Response[str]:
    errors = error.errors if isinstance(error, ErrorList) else [error]
    headers: dict[str, str] = {}
    for e in errors:
        headers.update(e.headers())
    body: dict[str, Any] = {
        "jsonapi": JSONAPI,
        "errors": [e.to_object(trace_id) for e in errors[:MAX_ERRORS]],
    }
    if len(errors) > MAX_ERRORS:
        body["meta"] = {"errors_total": len(errors), "errors_omitted": len(errors) - MAX_ERRORS}
    status = error.status if isinstance(error, ErrorList) else error.error_status
    return document_response(status, body, headers)
