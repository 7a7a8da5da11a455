"""Proofs of a moment: what a request sends the database in place of its credential.

PostgreSQL keeps and shows the text of every query (``pg_stat_activity``, ``pg_stat_statements``,
the server log), to the role that sent it among others, so no credential may be in that text.
A request therefore opens its statements with a proof, bound to its statement as a value
(``$1``: no text the database shows holds it), made fresh for the moment it is sent (revision
0030): the credential's public part, that moment and a MAC keyed by the credential's secret
part over both. The database recomputes the MAC and believes the proof for ``PROOF_SECONDS``
after that moment only, so the whole request is one message. Nothing is written for it, so a
read stays a read, on the primary or a hot standby.

- A scope proof is made from the scope token the authorizer's key check signed
  (``t1.<person>.<kind>.<expiry>.<mac>``): the MAC field is its key.
- A key proof is made from an API key: the SHA-256 of its secret, which is what the database
  stores, is its key.
"""

from __future__ import annotations

import hashlib
import re
import time

from wellapi.store.sql import BoundStatement, Statement

# The scope token's format, as ``well_private.scope_token`` makes it: anything else is refused
# before any SQL is sent.
SCOPE_TOKEN = re.compile(r"t1\.[0-9]{1,18}\.(?:member|service)\.[0-9]{1,12}\.[0-9a-f]{64}")
# An API key's prefix (``wellapi.http.keys``).
KEY_PREFIX = re.compile(r"[a-z2-7]{12}")
# A moment: microseconds since the epoch, as the database reads it back.
MOMENT = re.compile(r"[0-9]{1,17}")
# How long after its moment the database believes a proof (``core_api.prove_scope`` and
# ``prove_key``), and how far ahead of its own clock it takes one: the API role's read timeout
# (6 s) and clock skew.
PROOF_SECONDS = 10
PROOF_AHEAD_SECONDS = 2
# The statements that open a request's statements, or a key check, with a proof.
PROVE_SCOPE = Statement("CALL core_api.prove_scope(%(proof)s)")
PROVE_KEY = Statement("CALL core_api.prove_key(%(proof)s)")


def is_scope_token(value: object) -> bool:
    return isinstance(value, str) and SCOPE_TOKEN.fullmatch(value) is not None


def proof_mac(key: bytes, message: str) -> str:
    """``sha256(key || sha256(key || message))`` in hex, as ``well_private.proof_mac``."""
    inner = hashlib.sha256(key + message.encode()).digest()
    return hashlib.sha256(key + inner).hexdigest()


def now() -> str:
    """This moment, as a proof names it."""
    return str(time.time_ns() // 1000)


def _checked(moment: str) -> str:
    if MOMENT.fullmatch(moment) is None:
        raise ValueError("not a moment")
    return moment


def scope_opening(token: str, moment: str | None = None) -> BoundStatement:
    """The statement that opens a request's statements: a proof of ``token`` made now (or at
    ``moment``)."""
    if not is_scope_token(token):
        raise ValueError("not a scope token")
    at = _checked(moment or now())
    body, _, mac = token.rpartition(".")
    signature = proof_mac(bytes.fromhex(mac), f"scope|{body}|at|{at}")
    _, person, kind, expiry = body.split(".")
    return PROVE_SCOPE.bind({"proof": f"p2.{person}.{kind}.{expiry}.{at}.{signature}"})


def key_opening(prefix: str, secret_hash: bytes, moment: str | None = None) -> BoundStatement:
    """The statement that opens a key check: a proof of the key made now (or at ``moment``)."""
    if KEY_PREFIX.fullmatch(prefix) is None:
        raise ValueError("not a key prefix")
    at = _checked(moment or now())
    signature = proof_mac(secret_hash, f"key|{prefix}|at|{at}")
    return PROVE_KEY.bind({"proof": f"k3.{prefix}.{at}.{signature}"})
