"""A request's scope as the API opens it since revision 0016: in a message sealed by a proof.

``core_api.set_scope(workspace)`` takes the person and the kind from the single-use proof the
same simple-query message opened with (``wellapi.http.proofs.seal_with_token``): the proof's MAC
covers the rest of the text exactly, and a message is worth one scope, once. A test that
needs a scope for several messages (``BEGIN``, the scope, statements, ``ROLLBACK``) sends one
sealed message whose text opens the transaction (``SignedScope.begin``): the explicit
``BEGIN`` stays open after it, and the connection's next messages run in the scope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pg8000.native

from wellapi.http.principal import SCOPE_TOKEN_CLAIM, scope_statement
from wellapi.http.proofs import seal_with_token

# The statement of every request's script that opens its scope (``Principal.scope_statement``).
SCOPE_STATEMENT = "SELECT workspace_pk, person_pk FROM core_api.set_scope("
# The opening of a message sealed with a scope proof: the proof's own transaction.
SCOPE_PROOF = re.compile(r"BEGIN;CALL core_api\.spend_scope_proof\('t1\.[^']*'\);COMMIT;")


def unsealed(message: str) -> str | None:
    """The text a message carries after the scope proof it opens with; None without one."""
    opening = SCOPE_PROOF.match(message)
    return message[opening.end() :] if opening else None


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
    def statement(self) -> str:
        """``set_scope`` for the workspace, unsealed: it opens nothing on its own."""
        return scope_statement(self.workspace_id)

    def seal(self, text: str) -> str:
        """``text`` opened by a fresh proof of the token (``db.execute(..., seal=...)``)."""
        return seal_with_token(text, self.token)

    def message(self, *statements: str) -> str:
        """One sealed message: the scope, then ``statements``; the scope's row comes first."""
        return self.seal(";".join((self.statement, *statements)))

    def begin(self, *statements: str) -> str:
        """As ``message``, opening a transaction that stays open after the message."""
        return self.seal(";".join(("BEGIN", self.statement, *statements)))

    def open(self, conn: pg8000.native.Connection) -> list[Any]:
        """``BEGIN`` and the scope on ``conn`` in one sealed message; the scope's row."""
        return list(conn.run(self.begin())[0])
