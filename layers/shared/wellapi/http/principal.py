"""Who is calling, and in which workspace: built in one place, taken by every query.

The authorizer turns an API key into the claims below and API Gateway hands them to the
handler at ``requestContext.authorizer.lambda``. The handler adds the workspace the request
asks for (``workspace_id``, legacy ``workspaceId``), or keeps the key's default workspace.
Whether the person may act there is decided by the database, in the request's own round trip
(``core_api.set_scope``), so it costs nothing extra. The database takes the person and the
kind from the scope token the authorizer's key check signed, never from the other claims: the
API role cannot choose its own scope (``core_api.set_scope`` recomputes the token's MAC). The
token itself never reaches the database: the request's statements are opened by a proof of it
made for the moment they are sent (``wellapi.http.proofs``, ``core_api.prove_scope``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal
from uuid import UUID

from aws_lambda_powertools import Logger

from wellapi.errors import (
    UNSUPPORTED_SCHEME,
    ApiError,
    CredentialsMalformed,
    CredentialsMissing,
    DatabaseUnavailable,
    Forbidden,
    NotFound,
    Unauthorized,
)
from wellapi.http.proofs import is_scope_token, scope_opening
from wellapi.store.rows import ScopeRow, column_list
from wellapi.store.sql import BoundStatement, ScriptPart, Statement

PrincipalKind = Literal["member", "service"]
# Set by the authorizer when it could not check the key: the database was out of reach or
# refused for now (an outage: 503, retry), or the check failed otherwise (a fault: 500).
UNAVAILABLE_CLAIM = "auth_unavailable"
UNAVAILABLE_OUTAGE = "true"
UNAVAILABLE_FAULT = "fault"
# Set by the authorizer when the request has no principal, to say why: "missing" (no
# Authorization header), "unsupported" (another scheme than Bearer or Token), "malformed" (no
# key of this API's shape), "invalid" (a key of that shape that opens nothing).
CREDENTIALS_CLAIM = "credentials"
# The database's signed answer for the key: the only claim the database believes.
SCOPE_TOKEN_CLAIM = "scope_token"  # noqa: S105 (a claim name, not a secret)
# The claims a log line may carry: ids, never the key or the scope token.
LOGGED_CLAIMS = ("person_id", "principal_kind", "workspace_id", "api_key_id")


# The handler's logger ("wellapi"), whose request context these lines carry.
logger = Logger(service="wellapi", child=True)

# The name of the scope statement's part in every request's script.
SCOPE_PART = "scope"


def logged_claims(claims: Any) -> dict[str, str]:
    """The caller's ids from the authorizer's claims, for a log line (none if there are none)."""
    if not isinstance(claims, dict):
        return {}
    return {name: str(claims[name]) for name in LOGGED_CLAIMS if name in claims}


@dataclass(frozen=True)
class Principal:
    person_id: UUID
    kind: PrincipalKind
    workspace_id: UUID
    # Signed by the database for the person and kind; a credential, never logged.
    scope_token: str = field(repr=False)
    api_key_id: UUID | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    def in_workspace(self, workspace_id: UUID | None) -> Principal:
        if workspace_id is None:
            return self
        return replace(self, workspace_id=workspace_id)

    def scope_statement(self) -> BoundStatement:
        """The first statement of every request's script: it returns one ``ScopeRow``."""
        return scope_statement(self.workspace_id)

    def scope_part(self) -> ScriptPart:
        """The scope statement as the first part of a request's script (``SCOPE_PART``)."""
        return ScriptPart(SCOPE_PART, self.scope_statement(), "one")

    def prove(self) -> BoundStatement:
        """The statement that opens the request's statements: a proof of the token made
        now."""
        return scope_opening(self.scope_token)


# ``set_scope`` for a workspace, as the person and kind the proof names: one ``ScopeRow``.
SET_SCOPE = Statement(
    f"SELECT {column_list(ScopeRow._fields)} FROM core_api.set_scope(%(workspace_id)s)"
)


def scope_statement(workspace_id: UUID) -> BoundStatement:
    """``set_scope`` for a workspace, as the person and kind the message's proof names."""
    return SET_SCOPE.bind({"workspace_id": workspace_id})


def _uuid(value: Any) -> UUID:
    if not isinstance(value, str):
        raise Unauthorized()
    try:
        return UUID(value)
    except ValueError as error:
        raise Unauthorized() from error


def no_principal(claims: Any) -> Unauthorized:
    """The 401 for claims that name no principal, as the authorizer's reason says.

    Claims that are not the authorizer's at all (none: a route without it) are a missing
    credential; claims that name a principal badly are an invalid one.
    """
    if not isinstance(claims, dict) or not claims:
        return CredentialsMissing()
    reason = claims.get(CREDENTIALS_CLAIM)
    if reason == "missing":
        return CredentialsMissing()
    if reason == "unsupported":
        return CredentialsMissing(UNSUPPORTED_SCHEME)
    if reason == "malformed":
        return CredentialsMalformed()
    return Unauthorized()


def principal_from_claims(claims: Any) -> Principal:
    """The principal from the authorizer's context; anything malformed is unauthenticated."""
    if isinstance(claims, dict) and claims.get(UNAVAILABLE_CLAIM):
        if claims[UNAVAILABLE_CLAIM] == UNAVAILABLE_FAULT:
            raise ApiError("The API key could not be checked.")
        raise DatabaseUnavailable()
    if not isinstance(claims, dict) or CREDENTIALS_CLAIM in claims or not claims:
        raise no_principal(claims)
    kind = claims.get("principal_kind")
    if kind not in ("member", "service"):
        raise Unauthorized()
    key_id = claims.get("api_key_id")
    token = claims.get(SCOPE_TOKEN_CLAIM)
    if not isinstance(token, str) or not is_scope_token(token):
        raise Unauthorized()
    return Principal(
        person_id=_uuid(claims.get("person_id")),
        kind=kind,
        workspace_id=_uuid(claims.get("workspace_id")),
        scope_token=token,
        api_key_id=_uuid(key_id) if key_id is not None else None,
    )


def check_scope(
    answer: dict[str, list[list[Any]]], parameter: str | None = None, *, path: bool = False
) -> None:
    """The scope part of a request's answer: no workspace means the person may not act there.

    A workspace named in the URL path is a resource like any other: out of scope, it is 404.
    """
    (row,) = answer[SCOPE_PART]
    scope = ScopeRow._make(row)
    if scope.person_pk is None:
        # The authorizer's token was well formed and the proof made now (one out of time is
        # refused aloud, WP002), so the database refused an expired token, a token signed
        # with a rotated key or a removed person.
        logger.warning("scope proof refused")
        raise Unauthorized()
    if scope.workspace_pk is None:
        if path:
            raise NotFound("No such workspace.")
        raise Forbidden(
            "The principal has no active membership in the requested workspace.",
            parameter=parameter,
        )
