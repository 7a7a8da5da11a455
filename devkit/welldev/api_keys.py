"""Issuing, listing and revoking API keys: administration, run by ``wellapi keys``, the seed and
the load test against a database URL, never in Lambda. A key is shown once, when created; only
its prefix and the hash of its secret are stored (``wellapi.http.keys``, which the authorizer reads
keys with)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pg8000.native

from wellapi.http.keys import hash_secret


def new_key() -> tuple[str, str, bytes]:
    """A fresh key: (the full key to show once, its prefix, the hash to store)."""
    prefix = base64.b32encode(secrets.token_bytes(8)).decode().lower()[:12]
    secret = secrets.token_urlsafe(32)
    return f"wk_{prefix}_{secret}", prefix, hash_secret(secret)


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


def create_key(
    conn: pg8000.native.Connection, *, person_id: UUID, workspace_id: UUID, kind: str, name: str
) -> tuple[UUID, str]:
    """Store a new key for a person and default workspace; return its id and the full key."""
    if kind not in ("member", "service"):
        raise ValueError("kind must be member or service")
    key, prefix, digest = new_key()
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
        "k.created_at, k.last_used_at, k.revoked_at FROM core_api.api_keys k "
        "JOIN core_api.peoples p ON p.pk = k.person_pk "
        "JOIN core_api.workspaces w ON w.pk = k.workspace_pk "
        "WHERE k.deleted_at IS NULL ORDER BY k.created_at, k.api_key_id"
    )
    return [KeyRecord(*row) for row in rows]


def revoke_key(conn: pg8000.native.Connection, key: str) -> bool:
    """Revoke by id or prefix; True when a live key was revoked."""
    try:
        condition, value = "api_key_id = CAST(:v AS uuid)", str(UUID(key))
    except ValueError:
        condition, value = "prefix = :v", key
    rows = conn.run(
        f"UPDATE core_api.api_keys SET revoked_at = now() WHERE {condition} "
        "AND revoked_at IS NULL RETURNING 1",
        v=value,
    )
    return bool(rows)
