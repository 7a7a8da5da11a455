"""Public ids as clients write them, and JSON Pointers to the members they sent.

An id is accepted only in the canonical 8-4-4-4-12 hexadecimal spelling (either case), which is
what ``format: uuid`` means in the OpenAPI document. Python's ``UUID()`` also takes braces, a
``urn:uuid:`` prefix, no hyphens and non-ASCII digits: none of those is an id of this API.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

HEX = "[0-9A-Fa-f]"
UUID_PATTERN = f"{HEX}{{8}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{12}}"
_CANONICAL = re.compile(UUID_PATTERN)


def canonical_uuid(value: Any) -> UUID | None:
    """The UUID ``value`` spells canonically, or None."""
    if not isinstance(value, str) or _CANONICAL.fullmatch(value) is None:
        return None
    return UUID(value)


def new_id() -> UUID:
    """A new public id: a version 7 UUID (RFC 9562), Unix milliseconds then random bits.

    Ids made one after another sort one after another, so a new row lands on the last pages
    of its table's unique index on the id (``core_api.uuid_v7()`` makes the database's the same
    way).
    """
    return id_at(time.time_ns() // 1_000_000)


def id_at(milliseconds: int, bits: int | None = None) -> UUID:
    """The version 7 UUID of Unix ``milliseconds``, its other bits ``bits``'s (random if
    none): a ledger row's id of that time."""
    rest = int.from_bytes(os.urandom(10)) if bits is None else bits & ((1 << 80) - 1)
    value = milliseconds << 80 | rest
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC 9562 variant
    return UUID(int=value)


# How far a client's id of a time-ordered resource may be from now: the row's created_at is the
# id's time, so a client may not choose it (the ledgers' insert policy holds the same bounds).
CLIENT_ID_PAST = timedelta(minutes=10)
CLIENT_ID_AHEAD = timedelta(minutes=1)


def of_now(value: UUID) -> bool:
    """Whether ``value`` is a version 7 UUID whose time is now, within the bounds above."""
    at = time_of(value)
    now = datetime.now(UTC)
    return at is not None and now - CLIENT_ID_PAST < at < now + CLIENT_ID_AHEAD


def time_of(value: UUID) -> datetime | None:
    """The time a version 7 UUID carries (its first 48 bits, Unix milliseconds), or None for
    another version."""
    if value.version != 7:
        return None
    return datetime.fromtimestamp((value.int >> 80) / 1000, tz=UTC)


def pointer(*tokens: str) -> str:
    """An RFC 6901 JSON Pointer: ``~`` and ``/`` inside a member name are escaped."""
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)
