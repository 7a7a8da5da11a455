"""Opaque pagination cursors: the sort value and public id of a row, never its ``pk``."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from wellapi.errors import InvalidQueryParameter
from wellapi.jsonapi.ids import canonical_uuid
from wellapi.resources.utc import to_utc

# The fourth member of a flat ``cursor`` that reads backwards (a ``links.prev``): the profile's
# ``page[after]`` / ``page[before]`` say the direction in the parameter's name, the platform's
# one ``cursor`` parameter in the token itself.
BACKWARD = "before"


@dataclass(frozen=True)
class Cursor:
    sort: str
    value: datetime
    id: UUID
    # Only a flat ``cursor`` token says it: read the rows before this one.
    backward: bool = False

    def encode(self) -> str:
        parts = [self.sort, self.value.isoformat(), str(self.id)]
        if self.backward:
            parts.append(BACKWARD)
        raw = json.dumps(parts, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, parameter: str, *, flat: bool = False) -> Cursor:
    """The cursor ``token`` holds, of whichever sort (the List it is given to judges that).
    Only a flat ``cursor`` (``flat``) may read backwards: a ``page[after]`` or ``page[before]``
    takes exactly what the profile's links carry."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = json.loads(raw)
        # Exactly what encode() writes: three strings. Anything else (a number where the id
        # goes, a nested structure) is a forged or damaged cursor, never a server error.
        lengths = (3, 4) if flat else (3,)
        if not (
            isinstance(decoded, list)
            and len(decoded) in lengths
            and all(isinstance(part, str) for part in decoded)
            and decoded[3:] in ([], [BACKWARD])
        ):
            raise ValueError("not a cursor")
        sort_name, value, row_id = decoded[:3]
        parsed_id = canonical_uuid(row_id)
        if parsed_id is None:
            raise ValueError("not a cursor")
        # A cursor this API issued holds a UTC instant of a row; one out of range was forged.
        cursor = Cursor(
            sort_name, to_utc(datetime.fromisoformat(value)), parsed_id, len(decoded) == 4
        )
    except (binascii.Error, ValueError, TypeError, RecursionError) as error:
        raise InvalidQueryParameter(
            "The cursor is not one this API issued.", parameter=parameter, code="INVALID_CURSOR"
        ) from error
    return cursor


# The largest values of the two parts of a change record's place: ``xid8`` and ``bigint``.
_XID_MAX = (1 << 64) - 1
_PK_MAX = (1 << 63) - 1


@dataclass(frozen=True, order=True)
class ChangePlace:
    """A change record's place in the feed's order: its transaction's ``xid`` and its ``pk``.

    It is the record's id in the feed (``<xid>-<pk>``, ``wellapi.resources.feed``), and a feed
    cursor holds the id of the last record a page showed; nothing else is in it.
    """

    xid: int
    pk: int

    @property
    def id(self) -> str:
        return f"{self.xid}-{self.pk}"

    @classmethod
    def of(cls, record_id: str) -> ChangePlace:
        """The place a record id (``<xid>-<pk>``) names; ValueError for anything else."""
        xid, sep, pk = record_id.partition("-")
        if not (sep and xid.isascii() and xid.isdigit() and pk.isascii() and pk.isdigit()):
            raise ValueError("not a change record id")
        # Digits only, so no sign, space or underscore; a bounded length before int().
        if len(xid) > 20 or len(pk) > 19:
            raise ValueError("not a change record id")
        position = cls(int(xid), int(pk))
        if position.xid > _XID_MAX or not 1 <= position.pk <= _PK_MAX:
            raise ValueError("not a change record id")
        return position

    def encode(self) -> str:
        raw = json.dumps([FEED_ORDER, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# What a feed cursor says it orders by, so that a List's cursor is never taken for one.
FEED_ORDER = "commit"


def decode_change_place(token: str, parameter: str) -> ChangePlace:
    """The place a feed cursor holds: exactly what ``ChangePlace.encode`` writes, else 400
    ``INVALID_CURSOR`` naming ``parameter``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = json.loads(raw)
        if not (
            isinstance(decoded, list)
            and len(decoded) == 2
            and decoded[0] == FEED_ORDER
            and isinstance(decoded[1], str)
        ):
            raise ValueError("not a feed cursor")
        return ChangePlace.of(decoded[1])
    except (binascii.Error, ValueError, TypeError, RecursionError) as error:
        raise InvalidQueryParameter(
            "The cursor is not one this feed issued.", parameter=parameter, code="INVALID_CURSOR"
        ) from error
