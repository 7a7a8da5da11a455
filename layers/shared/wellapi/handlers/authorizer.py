"""The API Gateway REQUEST authorizer (payload 2.0, simple responses).

It turns ``Authorization: Bearer <key>`` (or ``Token token="<key>"``) into the principal's
claims. A missing, malformed, unknown or revoked key is not refused here: API Gateway would
answer a deny with its own body (``{"message":"Forbidden"}``), which no HTTP API setting
changes. The authorizer lets the request through with one claim saying why there is no
principal (``CREDENTIALS_CLAIM``: missing, unsupported, malformed or invalid), and the handler
answers 401 as a JSON:API error with its RFC 6750 ``WWW-Authenticate``. "invalid" is every key
of the right shape that opens nothing (unknown, revoked, deleted, a wrong secret): the database
answers them all with no row, so neither the claim nor the answer can tell them apart.

The answer for a key is cached here, per key, for ``AUTH_CACHE_SECONDS`` (30 s), not by API
Gateway: API Gateway's cache needs the Authorization header as the identity source, and then
answers a request without that header itself, with a body that is not ours (template.yaml).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from wellapi.errors import database_error, failure_fields, logged_failure
from wellapi.http.keys import ParsedKey, read_credentials
from wellapi.http.principal import (
    CREDENTIALS_CLAIM,
    SCOPE_TOKEN_CLAIM,
    UNAVAILABLE_CLAIM,
    UNAVAILABLE_FAULT,
    UNAVAILABLE_OUTAGE,
    logged_claims,
)
from wellapi.http.proofs import key_opening
from wellapi.settings import get_settings
from wellapi.store import connections
from wellapi.store.rows import KeyRow, column_list
from wellapi.store.sql import BoundStatement

logger = Logger(service="wellapi-authorizer", use_rfc3339=True)
Claims = dict[str, str]


@dataclass
class ClaimsCache:
    """The answer for each key (claims, or None for unknown or revoked) for ``ttl`` seconds.

    What it trades: a revoked key keeps working for up to ``ttl`` in an environment that saw it
    recently, as it would with API Gateway's cache. An outage is never cached (the lookup
    raises), so service comes back with the database, not a TTL later. Least recently used
    keys go first beyond ``max_entries``, so a flood of made-up keys costs memory it gives back.
    """

    ttl: float
    max_entries: int = 1024
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[ParsedKey, tuple[float, Claims | None]] = field(
        default_factory=OrderedDict
    )

    def answer(self, key: ParsedKey, lookup: Callable[[ParsedKey], Claims | None]) -> Claims | None:
        if self.ttl <= 0:
            return lookup(key)
        now = self.clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            self._entries.move_to_end(key)
            return hit[1]
        claims = lookup(key)
        self._entries[key] = (now + self.ttl, claims)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return claims


# The key's row (``KeyRow``), if the transaction's proof was made with a live key's secret;
# the statement names no key: the proof that opens it does (``wellapi.http.proofs``).
LOOKUP_STATEMENT = BoundStatement(
    f"SELECT {column_list(KeyRow._fields)} FROM core_api.authenticate_key()"
)


def prover_for(key: ParsedKey) -> Callable[[], BoundStatement]:
    """How the key's lookup is opened: a proof of the key made when it is sent."""
    return lambda: key_opening(key.prefix, key.secret_hash)


def authenticate(header: str | None, cache: ClaimsCache | None = None) -> Claims:
    """The claims for a valid key, else the one claim saying why there is no principal
    (``CREDENTIALS_CLAIM``). Never logs the header or the key."""
    key = read_credentials(header)
    if not isinstance(key, ParsedKey):
        logger.info("authentication failed", extra={"reason": key})
        return {CREDENTIALS_CLAIM: key}
    claims = lookup(key) if cache is None else cache.answer(key, lookup)
    return {CREDENTIALS_CLAIM: "invalid"} if claims is None else claims


def lookup(key: ParsedKey) -> Claims | None:
    # As the authorizer's own role, which may call core_api.authenticate_key() and nothing else.
    answer = connections.execute(
        [LOOKUP_STATEMENT], pool=connections.get_pool("auth"), prove=prover_for(key)
    )
    rows = [KeyRow._make(row) for row in answer]
    if not rows:
        logger.info(
            "authentication failed", extra={"reason": "unknown or revoked", "prefix": key.prefix}
        )
        return None
    found = rows[0]
    return {
        "api_key_id": str(found.api_key_id),
        "person_id": str(found.person_id),
        "workspace_id": str(found.workspace_id),
        "principal_kind": str(found.kind),
        SCOPE_TOKEN_CLAIM: str(found.scope_token),
    }


def authorizer_handler(
    cache: ClaimsCache | None = None,
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    # Built on the first request, not at import: settings are read when the function runs.
    caches = [cache] if cache is not None else []
    connections.prepare_at_init("auth")

    def answer(event: dict[str, Any]) -> dict[str, Any]:
        headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            if not caches:
                caches.append(ClaimsCache(ttl=get_settings().auth_cache_seconds))
            claims = authenticate(headers.get("authorization"), caches[0])
        except Exception as error:
            # No failure may become "let everyone in", nor API Gateway's own page (a bare 500
            # when the authorizer raises, a 403 for a deny): the request goes on with no
            # principal and one claim saying why, and the handler answers as the API does. An
            # outage is 503 with Retry-After; anything else (the database answering what it
            # never should, a fault of ours) is the API's 500, its trace id in this line, and
            # the 5xx alarm rings. Nothing is cached for either. Either line names the error's
            # class and SQLSTATE, never the driver's text (``logged_failure``).
            if database_error(error) is not None:
                logger.warning("authentication unavailable", extra=failure_fields(error))
                return {"isAuthorized": True, "context": {UNAVAILABLE_CLAIM: UNAVAILABLE_OUTAGE}}
            logger.error("authentication failed unexpectedly", **logged_failure(error))
            return {"isAuthorized": True, "context": {UNAVAILABLE_CLAIM: UNAVAILABLE_FAULT}}
        return {"isAuthorized": True, "context": claims}

    # Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: its Authorization header
    # carries the key.
    @logger.inject_lambda_context(log_event=False)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        # The API's request id: the authorizer's line and the function's share it.
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        result = answer(event)
        claims = result.get("context") or {}
        outcome = (
            "unavailable"
            if UNAVAILABLE_CLAIM in claims
            else "authenticated"
            if "person_id" in claims
            else "anonymous"
        )
        logger.info(
            "authorization",
            extra={
                "outcome": outcome,
                "route": event.get("routeKey"),
                "credentials": claims.get(CREDENTIALS_CLAIM),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                **logged_claims(claims),
            },
        )
        return result

    return handler
