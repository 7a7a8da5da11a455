"""Single-use proofs: what a request sends the database in place of its credential.

PostgreSQL keeps and shows the text of every query (``pg_stat_activity``, the server log,
``auto_explain``), to the role that sent it among others, so no credential may be in that
text. A message instead opens with a proof (revision 0016): the credential's public part, a
random nonce and a MAC keyed by the credential's secret part, over the nonce and the SHA-256
of the rest of the message. The database spends the nonce in a transaction of its own before
the rest runs; a copy of the text is then worth nothing, and a proof fits no other text.

- A scope proof is made from the scope token the authorizer's key check signed
  (``t1.<person>.<kind>.<expiry>.<mac>``): the MAC field is its key.
- A key proof is made from an API key: the SHA-256 of its secret, which is what the database
  stores, is its key; it names the time it was made, and lives five minutes either side.

Sealing happens once per attempt (``db.execute``): a retried message gets a new nonce.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid

# The scope token's shape (revision 0014): anything else is refused before any SQL is sent.
SCOPE_TOKEN = re.compile(r"t1\.[0-9]{1,18}\.(?:member|service)\.[0-9]{1,12}\.[0-9a-f]{64}")


def is_scope_token(value: object) -> bool:
    return isinstance(value, str) and SCOPE_TOKEN.fullmatch(value) is not None


def proof_mac(key: bytes, message: str) -> str:
    """``sha256(key || sha256(key || message))`` in hex, as ``well_private.proof_mac``."""
    inner = hashlib.sha256(key + message.encode()).digest()
    return hashlib.sha256(key + inner).hexdigest()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _opening(procedure: str, proof: str) -> str:
    # Reconstructed character for character by the procedure (``message_rest``).
    return f"BEGIN;CALL core_api.{procedure}('{proof}');COMMIT;"


def seal_with_token(text: str, token: str, nonce: str | None = None) -> str:
    """``text`` opened by a proof of the scope token, to be sent as one simple query."""
    if not is_scope_token(token):
        raise ValueError("not a scope token")
    body, _, mac = token.rpartition(".")
    nonce = nonce or str(uuid.uuid4())
    signature = proof_mac(bytes.fromhex(mac), f"proof|{body}|{nonce}|{_digest(text)}")
    return _opening("spend_scope_proof", f"{body}.{nonce}.{signature}") + text


def seal_with_key(
    text: str,
    prefix: str,
    secret_hash: bytes,
    *,
    issued: int | None = None,
    nonce: str | None = None,
) -> str:
    """``text`` opened by a proof of an API key (its prefix and secret hash)."""
    issued = int(time.time()) if issued is None else issued
    nonce = nonce or str(uuid.uuid4())
    signature = proof_mac(secret_hash, f"key|{prefix}|{issued}|{nonce}|{_digest(text)}")
    return _opening("spend_key_proof", f"k1.{prefix}.{issued}.{nonce}.{signature}") + text
