"""The rows the API's statements answer with, and the names their columns go by.

Each row contract is written once, here. The SQL builders label their columns with these
names (``queries``, ``writes``, the scope, key and sync statements), and the code that reads
the answers reads them through the typed rows below, by the same names: the order in which a
statement emits its columns is its own business, and a label one side renames is a KeyError
on the other, never a value read from the wrong column.

No SQLAlchemy here: the read path loads this module at init.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:  # the authorizer, which reads rows, loads no write
    from wellapi.resources.changes import WriteKind

# ---------------------------------------------------------------------------------------------
# A read: one row per resource object, with its parents' linkage and the included records.
# ---------------------------------------------------------------------------------------------

ID_LABEL = "id"
# The row's resource object, as JSON text, where the statement writes it (a keyed create's re-read,
# ``wellapi.sqltext.document``); a read's rows carry its values instead, for the function's
# writer (``wellapi.jsonapi.document.ObjectWriter``).
DOCUMENT_LABEL = "document"


def attribute_label(attribute: str) -> str:
    """An attribute of the resource's own: its value, an instant as ISO text (the sort value
    a page's cursor holds is one)."""
    return f"a_{attribute}"


def linkage_label(relationship: str) -> str:
    """The public id of the parent a relationship points at (NULL when it points nowhere)."""
    return f"r_{relationship}"


def included_label(relationship: str) -> str:
    """The record a relationship points at, as JSON text, as ``include`` shows it (NULL when
    it shows nothing), where the statement writes it."""
    return f"i_{relationship}"


def visible_label(relationship: str) -> str:
    """Whether ``include`` shows the record a relationship points at (one that exists and
    the caller may see), where the function writes it."""
    return f"s_{relationship}"


def parent_value_label(key: str) -> str:
    """An attribute of an included record, ``<relationship>.<attribute>``, as
    ``attribute_label`` gives the resource's own."""
    return "v_" + key.replace(".", "__")


class _Positions(dict[str, int]):
    """The position of each value of one kind, found by its label the first time it is asked
    for (a label is a name built from parts, and a List reads the same few for every row)."""

    __slots__ = ("_label", "_positions")

    def __init__(self, positions: Mapping[str, int], label: Callable[[str], str]) -> None:
        super().__init__()
        self._positions = positions
        self._label = label

    def __missing__(self, key: str) -> int:
        position = self[key] = self._positions[self._label(key)]
        return position


class ReadColumns:
    """Where each value of a read's rows sits, by label: one per statement layout, shared by
    its rows and its requests."""

    __slots__ = ("attributes", "document", "id", "included", "linkages", "parents", "visible")

    def __init__(self, labels: Sequence[str]) -> None:
        positions = {label: i for i, label in enumerate(labels)}
        self.id = positions[ID_LABEL]
        self.document = positions.get(DOCUMENT_LABEL)
        self.attributes = _Positions(positions, attribute_label)
        self.linkages = _Positions(positions, linkage_label)
        self.included = _Positions(positions, included_label)
        self.visible = _Positions(positions, visible_label)
        self.parents = _Positions(positions, parent_value_label)


class DocumentWriter(Protocol):
    """What writes a row's resource object and its included records as JSON text when the
    statement did not (``wellapi.jsonapi.document.ObjectWriter``; the store imports no
    JSON:API)."""

    def resource_object(self, row: ReadRow) -> str: ...

    def included(self, row: ReadRow, relationship: str) -> str | None: ...


class ReadRow:
    """One row of a read, its values found by label through its layout's ``ReadColumns``:
    the id, the parents' ids, and either the resource object and included records as JSON
    text (a keyed create's re-read) or their values, which ``writer`` writes."""

    __slots__ = ("_columns", "_values", "_writer")

    def __init__(
        self, values: Sequence[Any], columns: ReadColumns, writer: DocumentWriter | None = None
    ) -> None:
        self._values = values
        self._columns = columns
        self._writer = writer

    @property
    def id(self) -> str:
        return str(self._values[self._columns.id])

    @property
    def document(self) -> str:
        position = self._columns.document
        if position is not None:
            return str(self._values[position])
        return self._written.resource_object(self)

    def attribute(self, name: str) -> str:
        return str(self._values[self._columns.attributes[name]])

    def value(self, attribute: str) -> Any:
        """An attribute's value as the driver read it (an instant as ISO text), or None."""
        return self._values[self._columns.attributes[attribute]]

    def linkage(self, relationship: str) -> str | None:
        value = self._values[self._columns.linkages[relationship]]
        return None if value is None else str(value)

    def included(self, relationship: str) -> str | None:
        if self._columns.document is None:
            return self._written.included(self, relationship)
        value = self._values[self._columns.included[relationship]]
        return None if value is None else str(value)

    def visible(self, relationship: str) -> bool:
        return bool(self._values[self._columns.visible[relationship]])

    def parent_value(self, relationship: str, attribute: str) -> Any:
        return self._values[self._columns.parents[f"{relationship}.{attribute}"]]

    @property
    def _written(self) -> DocumentWriter:
        if self._writer is None:
            raise LookupError("a read's row carries its values: its writer writes it")
        return self._writer


# ---------------------------------------------------------------------------------------------
# The rows of statements written by hand: their SELECT lists are made from these tuples.
# ---------------------------------------------------------------------------------------------


def column_list(fields: Sequence[str]) -> str:
    """A SELECT list of columns that already bear the row's names, in the row's order."""
    return ", ".join(fields)


def select_list(fields: Sequence[str], **expressions: str) -> str:
    """``<expression> AS <field>, ...`` in the row's order, one expression per field."""
    if set(expressions) != set(fields):
        raise ValueError(f"expected expressions for {sorted(fields)}, got {sorted(expressions)}")
    return ", ".join(f"{expressions[name]} AS {name}" for name in fields)


class ScopeRow(NamedTuple):
    """``core_api.set_scope``'s answer, the first row of every request.

    No person: the scope token did not hold. No workspace: the person may not act there.
    """

    workspace_pk: int | None
    person_pk: int | None


class KeyRow(NamedTuple):
    """``core_api.authenticate_key``'s answer for the key whose proof the message carried."""

    api_key_id: Any
    person_id: Any
    workspace_id: Any
    kind: str
    scope_token: str


# ---------------------------------------------------------------------------------------------
# A write's outcome: one row saying what was found, which rules held and what was written.
# ---------------------------------------------------------------------------------------------

FOUND_TARGET_LABEL = "found_target"
CHANGES_LABEL = "changes"
WRITTEN_LABEL = "written"
CREATED_LABEL = "created"


def found_label(relationship: str) -> str:
    """Whether the parent the document points at exists and the caller may see it."""
    return f"found_{relationship}"


def check_label(check: str) -> str:
    """Whether a rule (``wellapi.resources.rules``) holds."""
    return f"check_{check}"


@dataclass(frozen=True)
class WriteOutcome:
    """The outcome row of a write, read by label."""

    # The row an update or delete addresses was found (a create has none to find).
    found_target: bool
    # Each relationship's parent, by relationship name.
    found: Mapping[str, bool]
    # Each rule, by its check name, in the order the rules are reported.
    checks: Mapping[str, bool]
    # An update writes only when it changes something; a create or delete always would.
    changes: bool
    # Rows written: 0 when a rule failed, a conflict stopped an insert, or nothing changed.
    written: int
    # An upsert inserted (rather than updated); false for every other write.
    created: bool

    @classmethod
    def read(
        cls,
        kind: WriteKind,
        labels: Sequence[str],
        values: Sequence[Any],
        *,
        relationships: Sequence[str],
        checks: Sequence[str],
    ) -> WriteOutcome:
        row = dict(zip(labels, values, strict=True))
        return cls(
            found_target=kind == "create" or bool(row[FOUND_TARGET_LABEL]),
            found={name: bool(row[found_label(name)]) for name in relationships},
            checks={name: bool(row[check_label(name)]) for name in checks},
            changes=kind != "update" or bool(row[CHANGES_LABEL]),
            written=int(row[WRITTEN_LABEL]),
            # NULL when nothing was written.
            created=kind == "create" and bool(row[CREATED_LABEL]),
        )


def outcome_labels(
    kind: WriteKind, relationships: Sequence[str], checks: Sequence[str]
) -> frozenset[str]:
    """Every label ``WriteOutcome.read`` needs from a write of this kind."""
    labels = {WRITTEN_LABEL, *map(found_label, relationships), *map(check_label, checks)}
    labels |= {
        "create": {CREATED_LABEL},
        "update": {FOUND_TARGET_LABEL, CHANGES_LABEL},
        "delete": {FOUND_TARGET_LABEL},
    }[kind]
    return frozenset(labels)
