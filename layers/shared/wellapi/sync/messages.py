"""The message contract of the connector sync orchestrator (version 1).

Each SQS message body is one JSON object. Ids are the public UUIDs; timestamps carry an offset.
Anything else — an unknown type or version, a missing or extra member — fails validation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from wellapi.models import Direction

# A message may name this many records; a batch of ten stays well inside one statement.
MAX_RECORD_IDS = 5000
RecordType = Literal["account", "company", "people"]
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=200)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    workspace_connector_id: UUID
    occurred_at: AwareDatetime
    idempotency_key: IdempotencyKey


class ProvenanceLinked(_Message):
    """A sync run touched these records through this connector: one new ledger row each."""

    type: Literal["provenance.linked"]
    direction: Direction
    record_type: RecordType
    record_ids: Annotated[list[UUID], Field(min_length=1, max_length=MAX_RECORD_IDS)]
    sync_run_id: Annotated[str, Field(min_length=1, max_length=200)]


class ProvenanceUnlinked(_Message):
    """These links are invalid: soft-delete the live rows that match."""

    type: Literal["provenance.unlinked"]
    direction: Direction
    record_type: RecordType
    record_ids: Annotated[list[UUID], Field(min_length=1, max_length=MAX_RECORD_IDS)]
    sync_run_id: Annotated[str, Field(min_length=1, max_length=200)]


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
    "ConnectorRevoked",
    "ProvenanceLinked",
    "ProvenanceUnlinked",
    "datetime",
    "parse_message",
]
