"""API keys: ``wk_<prefix>_<secret>``. The prefix finds the key; only SHA-256(secret) is stored.

The secret is 32 random bytes, so a fast hash is the right one (there is nothing to brute
force); the authorizer proves it holds the hash without sending it (``wellapi.http.proofs``), and
the database checks the proof against the stored hash. This is what the authorizer needs to
read a key, and what the operator function makes one with (``new_key``): the full key is shown
once, to the caller of ``issue_key`` or ``rotate_key`` (``wellapi.handlers.operator``).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

_KEY = re.compile(r"^wk_(?P<prefix>[a-z2-7]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
# The one parameter of the ``Token`` scheme (Rails' token authentication, spraypaint's default
# header): ``token="<key>"``, or unquoted; the name is case-insensitive and the "=" may have
# spaces around it, as RFC 9110's auth-param allows. A key holds no quote or backslash, so a
# quoted-string with an escape is no key.
_TOKEN_PARAMETER = re.compile(
    r'^token[ \t]*=[ \t]*(?:"(?P<quoted>[^"\\]*)"|(?P<bare>[^\s",]+))$', re.IGNORECASE
)

# Why a header gives no key to look up (``read_credentials``): none at all, a scheme this API
# does not read (RFC 6750 counts both as "no authentication information"), or a Bearer or Token
# credential that is not shaped like a key of this API.
NoKey = Literal["missing", "unsupported", "malformed"]


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    secret_hash: bytes


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_key() -> tuple[str, str, bytes]:
    """A fresh key: (the full key to show once, its prefix, the hash to store)."""
    prefix = base64.b32encode(secrets.token_bytes(8)).decode().lower()[:12]
    secret = secrets.token_urlsafe(32)
    return f"wk_{prefix}_{secret}", prefix, hash_secret(secret)


def parse_key(token: str) -> ParsedKey | None:
    match = _KEY.match(token)
    if match is None:
        return None
    return ParsedKey(match["prefix"], hash_secret(match["secret"]))


def read_credentials(header: str | None) -> ParsedKey | NoKey:
    """``Bearer <key>``, ``Token token="<key>"`` or ``Token <key>`` (schemes case-insensitive)
    to a parsed key, or why there is none. Says nothing of whether the key exists: only its
    shape is read."""
    if header is None or not header.strip():
        return "missing"
    scheme, _, rest = header.strip().partition(" ")
    scheme, rest = scheme.lower(), rest.strip()
    if scheme == "bearer":
        token = rest
    elif scheme == "token":
        match = _TOKEN_PARAMETER.match(rest)
        # ``Token <key>`` without the parameter's name is read too: a key holds no "=".
        token = rest if match is None else match["quoted"] or match["bare"] or ""
    else:
        return "unsupported"
    return parse_key(token) or "malformed"


def parse_authorization(header: str | None) -> ParsedKey | None:
    """The key an Authorization header holds (``read_credentials``), or None."""
    key = read_credentials(header)
    return key if isinstance(key, ParsedKey) else None
