"""The API Gateway REQUEST authorizer (payload 2.0, simple responses).

It turns ``Authorization: Bearer <key>`` into the principal's claims. A missing, malformed,
unknown or revoked key is not refused here: API Gateway would answer with its own body. The
authorizer lets the request through with no claims, and the handler answers 401 as a JSON:API
error with ``WWW-Authenticate: Bearer`` — the same for every case.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from wellapi import db
from wellapi.errors import database_error
from wellapi.keys import ParsedKey, parse_authorization
from wellapi.principal import UNAVAILABLE_CLAIM
from wellapi.sql import to_literal

logger = Logger(service="wellapi-authorizer", use_rfc3339=True)
UNAUTHENTICATED: dict[str, Any] = {"isAuthorized": True, "context": {}}


def lookup_statement(key: ParsedKey) -> str:
    return (
        "SELECT api_key_id, secret_hash, person_id, workspace_id, kind "
        f"FROM core_api.authenticate_key({to_literal(key.prefix)}, "
        f"decode({to_literal(key.secret_hash.hex())}, 'hex'))"
    )


def authenticate(header: str | None) -> dict[str, str] | None:
    """The claims for a valid key, or None. Never logs the header or the key."""
    key = parse_authorization(header)
    if key is None:
        logger.info("authentication failed", extra={"reason": "missing or malformed"})
        return None
    rows = db.execute(lookup_statement(key))
    if not rows or not hmac.compare_digest(bytes(rows[0][1]), key.secret_hash):
        logger.info(
            "authentication failed", extra={"reason": "unknown or revoked", "prefix": key.prefix}
        )
        return None
    api_key_id, _, person_id, workspace_id, kind = rows[0]
    return {
        "api_key_id": str(api_key_id),
        "person_id": str(person_id),
        "workspace_id": str(workspace_id),
        "principal_kind": str(kind),
    }


def authorizer_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    # Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: it carries the key (the
    # Authorization header and the identity source).
    @logger.inject_lambda_context(log_event=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            claims = authenticate(headers.get("authorization"))
        except Exception as error:
            # An outage must not become "let everyone in", nor API Gateway's own 500 or 403
            # page: the handler answers 503 with Retry-After (API Gateway may cache this for
            # the authorizer TTL, which is why that TTL is short).
            if database_error(error) is None:
                raise
            logger.warning("authentication unavailable", extra={"error_type": type(error).__name__})
            return {"isAuthorized": True, "context": {UNAVAILABLE_CLAIM: "true"}}
        if claims is None:
            return UNAUTHENTICATED
        return {"isAuthorized": True, "context": claims}

    return handler
