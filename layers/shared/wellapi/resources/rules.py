"""What a rule is: who may write a resource, how a document is normalised, and what each
failed check answers, as the client meets them.

A check is a condition evaluated inside the write's one statement; the write happens only when
every one holds, so a rejected request writes nothing. Its SQL is in the conditions module of
the resource's module (``wellapi.resources.<module>_sql``), under the same name: a
``CheckName`` member of the resource module, which both its rules and its conditions import.
This module and the resource modules' rules hold no SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from wellapi.domain import ChangeKind
from wellapi.errors import ApiError, Conflict, ErrorList, Forbidden

if TYPE_CHECKING:
    from wellapi.resources.changes import ResourceDocument, WriteKind
    from wellapi.resources.description import Resource

# A member that may be set on create only, and that an update would change
# (``wellapi.sqltext.writes``): the check ``keeps_<member>``.
KEEPS_PREFIX = "keeps_"
# A member no client may write (a timestamp, ``created_by``), sent back on update with another
# value than the row's (``wellapi.sqltext.writes``): the check ``read_only_<member>``.
READ_ONLY_PREFIX = "read_only_"


class CheckName(StrEnum):
    """The names of a resource module's own checks: each resource module subclasses it.

    A member is its name as a string (``check_<name>`` labels the outcome row's column, and a
    composed plan lists it), so the rules compare a plan's check with it directly.
    """


class Rules:
    """The default: any principal may write, no extra conditions."""

    members_may_write = True
    patch_allowed = True
    # The columns of the live-row unique index an upsert resolves conflicts on.
    upsert_key: tuple[str, ...] = ()
    # What the change record of each write says happened: a resource module names its create
    # and delete in its own words.
    change_kinds: Mapping[str, ChangeKind] = MappingProxyType(
        {"create": ChangeKind.CHANGED, "update": ChangeKind.CHANGED, "delete": ChangeKind.REMOVED}
    )
    # What else its change records can say, written by no API operation (a revocation's sweep).
    other_changes: tuple[ChangeKind, ...] = ()

    def changes(self) -> tuple[ChangeKind, ...]:
        """Every change its records can say, once each: the feed scans one range per change."""
        return tuple(dict.fromkeys((*self.change_kinds.values(), *self.other_changes)))

    def normalise(self, document: ResourceDocument, mode: str) -> ResourceDocument:
        return document

    def check_error(self, resource: Resource, kind: WriteKind, name: str) -> ApiError | ErrorList:
        """What the client is told when the write's check ``name`` does not hold."""
        attributes = {a.name: a for a in resource.attributes}
        if name.startswith(READ_ONLY_PREFIX):
            member = name.removeprefix(READ_ONLY_PREFIX)
            attribute = attributes.get(member)
            section = "relationships" if attribute is None else "attributes"
            said = (
                "cannot be written"
                if attribute is not None and not attribute.system
                else "is set by the server"
            )
            return Forbidden(
                f"{member} {said}: send its current value or leave it out.",
                pointer=f"/data/{section}/{member}",
                code="READ_ONLY_FIELD",
            )
        member = name.removeprefix(KEEPS_PREFIX)
        if member == name:
            raise KeyError(f"{resource.key} has no rule {name!r}")
        section = "attributes" if member in attributes else "relationships"
        return Forbidden(
            f"{member} cannot change after creation.",
            pointer=f"/data/{section}/{member}",
            code="IMMUTABLE_FIELD",
        )

    def conflict(self, resource: Resource) -> ApiError:
        return Conflict(
            f"A live {resource.type} with these relationships already exists.",
            code=f"{resource.type.upper()}_ALREADY_EXISTS",
            pointer="/data/relationships",
        )

    def constraint_error(self, constraint: str | None) -> ApiError | None:
        """The rule's own error for a CHECK constraint the database enforced (None: generic).

        A write checks its rules on the row it read; a concurrent write to that row can still
        break one by the time the UPDATE runs, and then the table's constraint stops it. The
        client gets the answer the rule gives, as it would have without the race.
        """
        return None
