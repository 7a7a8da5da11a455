"""API keys: ``wk_<prefix>_<secret>``. The prefix finds the key; only SHA-256(secret) is stored.

The secret is 32 random bytes, so a fast hash is the right one (there is nothing to brute
force); the authorizer proves it holds the hash without sending it (``wellapi.http.proofs``), and
the database checks the proof against the stored hash. This is what the authorizer needs to
read a key; issuing, listing and revoking keys is administration, done by the toolkit's
``wellapi keys`` (``welldev.api_keys``), never in Lambda.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_KEY = re.compile(r"^wk_(?P<prefix>[a-z2-7]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    secret_hash: bytes


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_key(token: str) -> ParsedKey | None:
    match = _KEY.match(token)
    if match is None:
        return None
    return ParsedKey(match["prefix"], hash_secret(match["secret"]))


def parse_authorization(header: str | None) -> ParsedKey | None:
    """``Bearer <key>`` (scheme case-insensitive) to a parsed key, or None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return parse_key(token.strip())
