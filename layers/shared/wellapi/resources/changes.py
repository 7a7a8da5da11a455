"""What a write asks to change: the members of its resource object, parsed and typed.

``jsonapi.body`` makes one from a request body; the rules, the write shapes and the SQL
builders read it. It lives below all of them so that none of those needs the body parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

# What a write does to its row; the rules, the write shapes and the outcome rows name it.
WriteKind = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class ResourceDocument:
    # The members a client may write (on update: "always" and create-only ones), and the
    # relationships it names; on update, never-writable relationships are named here too, and
    # the write compares them with the row's (``wellapi.sqltext.writes``).
    attributes: dict[str, Any] = field(default_factory=dict)
    relationships: dict[str, UUID | None] = field(default_factory=dict)
    # On update: read-only attributes (the timestamps, any never-writable one) sent back. They
    # are accepted at the row's current values and refused as READ_ONLY_FIELD otherwise.
    read_only: dict[str, Any] = field(default_factory=dict)
    # On create: the id the client generated for the new row (JSON:API 1.1), if it sent one.
    client_id: UUID | None = None
