"""A request's scope as the API opens it: by a proof made for the moment.

A request is one transaction of one message (``wellapi.store.connections.Pool.run_proven``):
``BEGIN``, the transaction's settings, a proof of the scope token made now (``CALL
core_api.prove_scope($1)``), the request's statements and ``COMMIT``.
``core_api.set_scope(workspace)`` takes the person and the kind from that proof, and only in
that transaction, for a few seconds after its moment. A test that needs a scope on a
connection of its own opens it the same way (``SignedScope.open``): the transaction stays open
after it, and the connection's next messages run in the scope until the test ends it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pg8000.native

from wellapi.http.principal import SCOPE_TOKEN_CLAIM, scope_statement
from wellapi.http.proofs import (
    PROOF_SECONDS,
    key_opening,
    scope_opening,
)
from wellapi.store.connections import SETTINGS, send
from wellapi.store.sql import BoundStatement

# The statement of every request's script that opens its scope (``Principal.scope_statement``).
SCOPE_STATEMENT = "SELECT workspace_pk, person_pk FROM core_api.set_scope("


@dataclass(frozen=True)
class SignedScope:
    """A scope token the database signed, and the workspace a request names with it."""

    token: str
    workspace_id: UUID

    @classmethod
    def of(cls, claims: Mapping[str, str]) -> SignedScope:
        """The scope of the authorizer's claims (``welldev.claims.claims``)."""
        return cls(claims[SCOPE_TOKEN_CLAIM], UUID(str(claims["workspace_id"])))

    def at(self, workspace_id: UUID | str) -> SignedScope:
        """The same token naming another workspace."""
        return SignedScope(self.token, UUID(str(workspace_id)))

    @property
    def statement(self) -> BoundStatement:
        """``set_scope`` for the workspace, unproven: it opens nothing on its own."""
        return scope_statement(self.workspace_id)

    def prove(self, moment: str | None = None) -> BoundStatement:
        """The proof's statement, made now or at ``moment`` (``db.execute(..., prove=...)``)."""
        return scope_opening(self.token, moment)

    def open(self, conn: pg8000.native.Connection, *statements: Sendable) -> list[Any]:
        """``BEGIN``, the transaction's settings, the proof and the scope on ``conn``, then
        ``statements``; the scope's row. The transaction stays open."""
        conn.run("BEGIN")
        rows = send(conn, [SETTINGS, self.prove(), self.statement, *bound(statements)])
        return list(rows[0])

    def run(
        self, conn: pg8000.native.Connection, script: Sendable | Sequence[Sendable]
    ) -> list[Any]:
        """A request's ``script`` (its scope statement first) in a transaction of its own, as
        the API runs it: every statement's rows, in order."""
        return proven(conn, self.prove, script)


# A statement as a test writes it: SQL text without values, or bound to its values.
Sendable = str | BoundStatement


def bound(statements: Sendable | Sequence[Sendable]) -> list[BoundStatement]:
    """``statements`` as the application sends them; a text is one statement, no values."""
    if isinstance(statements, str | BoundStatement):
        statements = [statements]
    return [BoundStatement(s) if isinstance(s, str) else s for s in statements]


def proven(
    conn: pg8000.native.Connection,
    prove: Callable[[], BoundStatement],
    sql: Sendable | Sequence[Sendable],
) -> list[Any]:
    """``sql`` in a transaction of its own on ``conn``, opened by its settings and ``prove()``,
    as ``wellapi.store.connections.Pool.run_proven`` sends a request; every statement's rows."""
    conn.run("BEGIN")
    try:
        rows = list(send(conn, [SETTINGS, prove(), *bound(sql)]))
    except Exception:
        conn.run("ROLLBACK")
        raise
    conn.run("COMMIT")
    return rows


def run_with_key_proof(
    conn: pg8000.native.Connection, prefix: str, secret_hash: bytes, sql: Sendable
) -> list[Any]:
    """``sql`` as the authorizer runs its key check: in a transaction of its own, opened by a
    proof of the key (its prefix and secret hash) for that transaction; its rows."""
    return proven(conn, lambda: key_opening(prefix, secret_hash), sql)


def moment_from_now(seconds: float) -> str:
    """The moment ``seconds`` from now (before, when negative), as a proof names it."""
    return str(time.time_ns() // 1000 + int(seconds * 1_000_000))


def until_believed_no_more(*proofs: str) -> None:
    """Wait until the database believes none of ``proofs`` (a second past their time)."""
    last = max(int(p.split(".")[-2]) for p in proofs) / 1_000_000
    time.sleep(max(0.0, last + PROOF_SECONDS + 1 - time.time()))
