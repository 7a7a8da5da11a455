"""Proofs bound to a transaction: what a request sends the database in place of its credential.

PostgreSQL keeps and shows the text of every query (``pg_stat_activity``, the server log,
``auto_explain``), to the role that sent it among others, so no credential may be in that
text, and nothing in it may open a scope again. A request therefore opens its transaction and
asks the database for the transaction's context (``wellapi.store.connections.OPENING``: this
backend's pid and this transaction's start), then opens its statements with a proof bound to
that context (revision 0023): the credential's public part and a MAC keyed by its secret part
over the context. The database verifies the MAC against its own context; a copy of the text
belongs to a transaction that is over or runs elsewhere, and opens nothing. Nothing is written
for it, so a read stays a read, on the primary or a hot standby.

- A scope proof is made from the scope token the authorizer's key check signed
  (``t1.<person>.<kind>.<expiry>.<mac>``): the MAC field is its key.
- A key proof is made from an API key: the SHA-256 of its secret, which is what the database
  stores, is its key.
"""

from __future__ import annotations

import hashlib
import re

from wellapi.store.sql import BoundStatement, Statement

# The scope token's format (revision 0014): anything else is refused before any SQL is sent.
SCOPE_TOKEN = re.compile(r"t1\.[0-9]{1,18}\.(?:member|service)\.[0-9]{1,12}\.[0-9a-f]{64}")
# An API key's prefix (``wellapi.http.keys``).
KEY_PREFIX = re.compile(r"[a-z2-7]{12}")
# The context's format: the backend's pid and the transaction's start in microseconds.
CONTEXT = re.compile(r"[0-9]{1,10}\.[0-9]{1,20}")
# The statements that open a request's statements, or a key check, with a proof.
PROVE_SCOPE = Statement("CALL core_api.prove_scope(%(proof)s)")
PROVE_KEY = Statement("CALL core_api.prove_key(%(proof)s)")


def is_scope_token(value: object) -> bool:
    return isinstance(value, str) and SCOPE_TOKEN.fullmatch(value) is not None


def proof_mac(key: bytes, message: str) -> str:
    """``sha256(key || sha256(key || message))`` in hex, as ``well_private.proof_mac``."""
    inner = hashlib.sha256(key + message.encode()).digest()
    return hashlib.sha256(key + inner).hexdigest()


def _checked(context: str) -> str:
    # The context comes from the database; a proof is made for nothing else.
    if CONTEXT.fullmatch(context) is None:
        raise ValueError("not a proof context")
    return context


def scope_opening(token: str, context: str) -> BoundStatement:
    """The statement that opens a request's statements in the transaction of ``context``."""
    if not is_scope_token(token):
        raise ValueError("not a scope token")
    body, _, mac = token.rpartition(".")
    signature = proof_mac(bytes.fromhex(mac), f"scope|{body}|{_checked(context)}")
    _, person, kind, expiry = body.split(".")
    return PROVE_SCOPE.bind({"proof": f"p1.{person}.{kind}.{expiry}.{signature}"})


def key_opening(prefix: str, secret_hash: bytes, context: str) -> BoundStatement:
    """The statement that opens a key check in the transaction of ``context``."""
    if KEY_PREFIX.fullmatch(prefix) is None:
        raise ValueError("not a key prefix")
    signature = proof_mac(secret_hash, f"key|{prefix}|{_checked(context)}")
    return PROVE_KEY.bind({"proof": f"k2.{prefix}.{signature}"})
