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


def decode_cursor(token: str, parameter: str, sort: str, *, flat: bool = False) -> Cursor:
    """The cursor ``token`` holds. Only a flat ``cursor`` (``flat``) may read backwards: a
    ``page[after]`` or ``page[before]`` takes exactly what the profile's links carry."""

    def invalid(detail: str) -> InvalidQueryParameter:
        return InvalidQueryParameter(detail, parameter=parameter, code="INVALID_CURSOR")

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
        raise invalid("The cursor is not one this API issued.") from error
    if cursor.sort != sort:
        raise invalid(
            f"The cursor was issued for sort={cursor.sort}; this request sorts by {sort}."
        )
    return cursor
