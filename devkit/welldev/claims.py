"""What the authorizer answers for a key, made without a key (the tests and the bench).

The database signs the scope token; only the owner of the signing key may ask it to
(``well_private.scope_token``), so this needs the administrator's connection. The token never
reaches the database again: each request's statements are opened by a proof of it made for
the moment they are sent (``wellapi.http.proofs``, ``core_api.prove_scope``).
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID, uuid4

import pg8000.native

from wellapi.http.principal import SCOPE_TOKEN_CLAIM


def claims(
    admin: pg8000.native.Connection, person_id: UUID | str, workspace_id: UUID | str, kind: str
) -> dict[str, str]:
    rows: list[Any] = admin.run(
        "SELECT well_private.scope_token(p.pk, :kind) FROM core_api.peoples p "
        "WHERE p.person_id = CAST(:person AS uuid)",
        kind=kind,
        person=str(person_id),
    )
    if not rows:
        raise LookupError(f"no person {person_id}")
    return {
        "person_id": str(person_id),
        "principal_kind": kind,
        "workspace_id": str(workspace_id),
        "api_key_id": str(uuid4()),
        SCOPE_TOKEN_CLAIM: str(rows[0][0]),
    }


def sign_event(admin: pg8000.native.Connection, event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with its claims' scope token signed now, as the authorizer would sign it: the
    API events of ``events/`` carry the claims of a demo key without a token (a token expires
    ten minutes after it is signed). An event without claims is returned as it is."""
    context = event.get("requestContext") or {}
    found = (context.get("authorizer") or {}).get("lambda")
    if not isinstance(found, dict) or not {"person_id", "principal_kind"} <= found.keys():
        return event
    person, kind = found["person_id"], found["principal_kind"]
    fresh = claims(admin, person, found.get("workspace_id", ""), kind)[SCOPE_TOKEN_CLAIM]
    signed = copy.deepcopy(event)
    signed["requestContext"]["authorizer"]["lambda"][SCOPE_TOKEN_CLAIM] = fresh
    return signed
