"""The two things every composed statement is made with: a SELECT from its clauses, and the
``Statement`` of a finished text (every slot it names, unset until a request fills it)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from wellapi.resources.conditions import all_of
from wellapi.store.sql import Statement

_SLOT = re.compile(r"%\((\w+)\)s")


def select(
    columns: Sequence[str],
    source: str | None = None,
    where: Sequence[str] = (),
    *,
    order: str | None = None,
    limit: str | None = None,
) -> str:
    """``SELECT columns [FROM source] [WHERE every condition] [ORDER BY] [LIMIT]``."""
    text = "SELECT " + ", ".join(columns)
    if source is not None:
        text += f"\nFROM {source}"
    if where:
        text += f"\nWHERE {all_of(*where)}"
    if order is not None:
        text += f"\nORDER BY {order}"
    if limit is not None:
        text += f"\nLIMIT {limit}"
    return text


def template(text: str) -> Statement:
    """A statement's ``Statement``: a slot a request leaves unset renders as NULL."""
    return Statement(text, dict.fromkeys(sorted(set(_SLOT.findall(text)))))
