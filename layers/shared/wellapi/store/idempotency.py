"""The statements of a retry-safe create, and its answer read back.

A create sent with an ``Idempotency-Key`` runs, in its one round trip, the scope, the claim of
the key, the write, and the re-read wrapped in the statement that keeps it as the answer:

- ``claim_part``: ``core_api.claim_idempotency_key`` answers one ``Claim``: a replay carries
  the first request's status and rows (and has emptied the scope, so the write after it writes
  nothing); a new key carries nothing.
- ``stored_response_part``: the re-read, each value sent as its type's OID and the text PostgreSQL
  sends it as (``format('%s', v)`` calls the type's output function, as the wire protocol
  does), kept by ``core_api.remember_idempotent_answer`` when the write wrote (whether it
  inserted: the re-read found the row under the id the request minted).

``decoded`` reads those values back with pg8000's own converters (``driver.decoded_value``:
the text of an unknown type as a string, as pg8000 does): a replay's rows are the first
request's rows, value for value, so its document is the same, byte for byte.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

from wellapi.resources.conditions import constant, qualified, slot
from wellapi.store import driver
from wellapi.store.rows import ID_LABEL, ReadRow
from wellapi.store.sql import Layout, ScriptPart, Statement

# The names of the two parts in a request's script.
CLAIM_PART = "idempotency claim"
ANSWER_PART = "idempotency answer"
# The SQLSTATE the claim raises for a key sent again with another request.
REUSED_SQLSTATE = "WI422"


class Claim(NamedTuple):
    replayed: bool
    status: int | None
    rows: list[list[list[Any]]] | None


class StoredResponse(NamedTuple):
    # 201 inserted, 200 updated, None: the write wrote nothing.
    status: int | None
    rows: list[list[list[Any]]]


CLAIM = Statement(
    "SELECT replayed, answer_status, answer_rows FROM "
    "core_api.claim_idempotency_key(%(key)s, %(fingerprint)s)"
)
# Where the stored response ends, after the re-read it wraps.
_ANSWER_CLOSING = Statement(") r))")


def claim_part(key: str, fingerprint: str) -> ScriptPart:
    return ScriptPart(CLAIM_PART, CLAIM.bind({"key": key, "fingerprint": fingerprint}), "one")


def _encoded(label: str) -> str:
    column = f'r."{label}"'
    # ``%%`` in a template is one percent sign once it is rendered.
    return (
        f"jsonb_build_array(pg_typeof({column})::oid, "
        f"CASE WHEN {column} IS NULL THEN NULL ELSE format('%%s', {column}) END)"
    )


@lru_cache(maxsize=64)
def answer_opening(table: str, labels: tuple[str, ...]) -> Statement:
    """The stored response up to the re-read it wraps (a read of ``table`` with ``labels``): the
    key in the slot ``key``, the id a created row has in ``minted``."""
    row = ", ".join(_encoded(label) for label in labels)
    return Statement(
        "SELECT answer_status, answer_rows FROM core_api.remember_idempotent_answer("
        f"{slot('key')}, {constant(qualified(table))}::regclass, "
        "(SELECT jsonb_build_object("
        f"'created', coalesce(bool_or(r.\"{ID_LABEL}\" = {slot('minted')}), false), "
        f"'rows', coalesce(jsonb_agg(jsonb_build_array({row})), '[]'::jsonb)) FROM ("
    )


def stored_response_part(
    key: str, table: str, read: Statement, params: dict[str, Any], layout: Layout, *, minted: UUID
) -> ScriptPart:
    """The re-read, encoded and kept: ``read`` is a read with ``layout``'s labels and
    ``params`` its values, wrapped between the opening and the closing; ``minted`` the id the
    write gives a row it inserts."""
    stored = answer_opening(table, layout.labels) + read + _ANSWER_CLOSING
    return ScriptPart(ANSWER_PART, stored.bind(params | {"key": key, "minted": minted}), "one")


def decoded(rows: list[list[list[Any]]], layout: Layout) -> list[ReadRow]:
    """The rows as the driver would have read them from the re-read itself."""
    return layout.rows(
        [
            [None if text is None else driver.decoded_value(oid, text) for oid, text in row]
            for row in rows
        ]
    )
