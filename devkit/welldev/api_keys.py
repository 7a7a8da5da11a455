"""API keys made and listed on an administrative connection: by the seed, the load test and
``wellapi keys``, never in Lambda (the operator function issues them in a deployed stack, and
locally through ``wellapi operator``). A key is shown once, when created; only its prefix and the
hash of its secret are stored (``wellapi.http.keys``, which the authorizer reads keys with)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pg8000.native

from wellapi.http import keys


@dataclass(frozen=True)
class KeyRecord:
    api_key_id: UUID
    name: str
    prefix: str
    kind: str
    person_id: UUID
    workspace_id: UUID
    created_at: Any
    last_used_at: Any
    revoked_at: Any
    expires_at: Any


def create_key(
    conn: pg8000.native.Connection, *, person_id: UUID, workspace_id: UUID, kind: str, name: str
) -> tuple[UUID, str]:
    """Store a new key for a person and default workspace; return its id and the full key."""
    if kind not in ("member", "service"):
        raise ValueError("kind must be member or service")
    key, prefix, digest = keys.new_key()
    rows = conn.run(
        "INSERT INTO core_api.api_keys (name, prefix, secret_hash, person_pk, workspace_pk, kind) "
        "SELECT :name, :prefix, :hash, p.pk, w.pk, CAST(:kind AS core_api.api_key_kind_enum) "
        "FROM core_api.peoples p, core_api.workspaces w "
        "WHERE p.person_id = :person AND w.workspace_id = :workspace "
        "AND p.deleted_at IS NULL AND w.deleted_at IS NULL RETURNING api_key_id",
        name=name,
        prefix=prefix,
        hash=digest,
        kind=kind,
        person=str(person_id),
        workspace=str(workspace_id),
    )
    if not rows:
        raise LookupError("no live person or workspace with those ids")
    return UUID(str(rows[0][0])), key


def list_keys(conn: pg8000.native.Connection) -> list[KeyRecord]:
    rows = conn.run(
        "SELECT k.api_key_id, k.name, k.prefix, k.kind::text, p.person_id, w.workspace_id, "
        "k.created_at, k.last_used_at, k.revoked_at, k.expires_at FROM core_api.api_keys k "
        "JOIN core_api.peoples p ON p.pk = k.person_pk "
        "JOIN core_api.workspaces w ON w.pk = k.workspace_pk "
        "WHERE k.deleted_at IS NULL ORDER BY k.created_at, k.api_key_id"
    )
    return [KeyRecord(*row) for row in rows]
