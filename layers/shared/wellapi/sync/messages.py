"""The message contract of the connector sync orchestrator (version 1).

Each SQS message body is one JSON object. Ids are the public UUIDs; timestamps are ISO-8601
strings that carry an offset. Anything else — an unknown type or version, a missing or extra
member, a number where a timestamp or the version belongs — fails validation.

Every value a message carries is later bound to a statement or written to a log line, so the
contract also refuses what could make that fail for the whole batch instead of for the message
alone: control characters (PostgreSQL text cannot hold NUL) and timestamps outside the range
every offset can be converted from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
)

from wellapi.domain import Direction
from wellapi.resources.ledgers import RECORD_TYPES
from wellapi.resources.utc import to_utc

# A message may name this many records; a batch of ten stays well inside one statement.
MAX_RECORD_IDS = 5000
# Keys and sync run ids are stored as text and logged: bounded, printable.
MAX_TEXT_LENGTH = 200


def _ledger_record(value: str) -> str:
    if value not in RECORD_TYPES:
        raise ValueError(f"Input should be one of {', '.join(map(repr, RECORD_TYPES))}")
    return value


# The kind of record a ledger of the registry brings in.
RecordType = Annotated[str, AfterValidator(_ledger_record)]
Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$"),
]
IdempotencyKey = Text


def _integer(value: object) -> object:
    # JSON's 1.0 and true compare equal to 1 in Python; the contract's version is the integer.
    if type(value) is not int:
        raise ValueError("the version must be an integer")
    return value


def _iso_8601(value: object) -> object:
    """An ISO-8601 string with an offset (or, from Python, an aware datetime); never a number."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO-8601 timestamp") from None
    if not isinstance(value, datetime):
        raise ValueError("not an ISO-8601 timestamp")
    if value.tzinfo is not None:
        to_utc(value)  # no offset is AwareDatetime's to refuse, with its own message
    return value


Version = Annotated[Literal[1], BeforeValidator(_integer)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]
RecordIds = Annotated[list[UUID], Field(min_length=1, max_length=MAX_RECORD_IDS)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Version
    workspace_connector_id: UUID
    occurred_at: Timestamp
    idempotency_key: IdempotencyKey


class ProvenanceLinked(_Message):
    """A sync run touched these records through this connector: one new ledger row each."""

    type: Literal["provenance.linked"]
    direction: Direction
    record_type: RecordType
    record_ids: RecordIds
    sync_run_id: Text


class ProvenanceUnlinked(_Message):
    """These links are invalid: soft-delete the live rows that match."""

    type: Literal["provenance.unlinked"]
    direction: Direction
    record_type: RecordType
    record_ids: RecordIds
    sync_run_id: Text


class ConnectorRevoked(_Message):
    """The connector was revoked: soft-delete all its live rows in the three ledgers."""

    type: Literal["workspace_connector.revoked"]


Message = Annotated[
    ProvenanceLinked | ProvenanceUnlinked | ConnectorRevoked, Field(discriminator="type")
]
MESSAGE = TypeAdapter[ProvenanceLinked | ProvenanceUnlinked | ConnectorRevoked](Message)


def parse_message(body: str) -> ProvenanceLinked | ProvenanceUnlinked | ConnectorRevoked:
    return MESSAGE.validate_json(body)


def sync_run_of(message: ProvenanceLinked | ProvenanceUnlinked | ConnectorRevoked) -> str | None:
    return getattr(message, "sync_run_id", None)


__all__ = [
    "MAX_RECORD_IDS",
    "MAX_TEXT_LENGTH",
    "ConnectorRevoked",
    "ProvenanceLinked",
    "ProvenanceUnlinked",
    "parse_message",
    "sync_run_of",
]
