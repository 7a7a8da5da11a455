"""The sync message contract (version 1), checked without any I/O.

Each SQS body is one JSON object with ``type`` and ``version``: 1; ids are UUIDs, timestamps
ISO-8601 strings with an offset, a message names 1..MAX_RECORD_IDS records and carries a
1..200 character idempotency key. Everything else is refused, and the error names the member
at fault.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from tests.support.sync import linked, revoked, unlinked
from wellapi.domain import Direction
from wellapi.resources.ledgers import RECORD_TYPES
from wellapi.sync.messages import (
    MAX_RECORD_IDS,
    MAX_TEXT_LENGTH,
    ConnectorRevoked,
    ProvenanceLinked,
    ProvenanceUnlinked,
    parse_message,
)

CONNECTOR = uuid4()
RECORDS = [uuid4(), uuid4()]
BUILDERS = {
    "provenance.linked": lambda: linked(CONNECTOR, RECORDS),
    "provenance.unlinked": lambda: unlinked(CONNECTOR, RECORDS),
    "workspace_connector.revoked": lambda: revoked(CONNECTOR),
}
TYPES = tuple(BUILDERS)
ADDRESSED = ("provenance.linked", "provenance.unlinked")
# A record type no ledger has, whatever ledgers the registry holds: longer than every one's.
UNKNOWN_RECORD_TYPE = max(RECORD_TYPES, key=len) + "_line"


def parse(body: dict[str, Any] | str) -> Any:
    return parse_message(body if isinstance(body, str) else json.dumps(body))


def with_member(message_type: str, member: str, value: Any) -> dict[str, Any]:
    body = BUILDERS[message_type]()
    body[member] = value
    return body


def refused_members(body: dict[str, Any] | str) -> set[str]:
    """The members a validation error names (the last part of each error's location)."""
    with pytest.raises(ValidationError) as caught:
        parse(body)
    return {str(e["loc"][-1]) if e["loc"] else "" for e in caught.value.errors()}


# --- what is accepted ---------------------------------------------------------------------


def test_a_linked_message_parses_into_typed_members() -> None:
    message = parse(
        linked(
            CONNECTOR,
            RECORDS,
            direction="output",
            record_type="company",
            occurred_at="2026-11-20T10:15:00+01:00",
        )
    )

    assert isinstance(message, ProvenanceLinked)
    assert message.workspace_connector_id == CONNECTOR
    assert message.record_ids == RECORDS
    assert message.direction is Direction.OUTPUT
    assert message.record_type == "company"
    assert message.sync_run_id == "run-1"
    assert message.occurred_at == datetime(2026, 11, 20, 9, 15, tzinfo=UTC)


def test_an_unlinked_message_parses_with_the_same_addressing() -> None:
    message = parse(unlinked(CONNECTOR, RECORDS, record_type="people"))

    assert isinstance(message, ProvenanceUnlinked)
    assert (message.record_type, message.record_ids) == ("people", RECORDS)


def test_a_revoked_message_names_only_the_connector() -> None:
    message = parse(revoked(CONNECTOR, idempotency_key="revoke-1"))

    assert isinstance(message, ConnectorRevoked)
    assert (message.workspace_connector_id, message.idempotency_key) == (CONNECTOR, "revoke-1")


@pytest.mark.parametrize("record_type", ["account", "company", "people"])
@pytest.mark.parametrize("direction", ["input", "output"])
def test_every_record_type_and_direction_is_accepted(record_type: str, direction: str) -> None:
    message = parse(linked(CONNECTOR, RECORDS, record_type=record_type, direction=direction))

    assert (message.record_type, message.direction.value) == (record_type, direction)


@pytest.mark.parametrize(
    ("written", "offset"),
    [
        ("2026-11-20T10:15:00Z", timedelta(0)),
        ("2026-11-20T10:15:00+00:00", timedelta(0)),
        ("2026-11-20T10:15:00.123456+05:30", timedelta(hours=5, minutes=30)),
        ("2026-11-20T10:15:00-08:00", timedelta(hours=-8)),
    ],
)
def test_timestamps_with_an_offset_keep_their_instant(written: str, offset: timedelta) -> None:
    message = parse(with_member("workspace_connector.revoked", "occurred_at", written))

    assert message.occurred_at.utcoffset() == offset
    assert message.occurred_at == datetime.fromisoformat(written)


def test_a_message_may_name_a_thousand_and_up_to_the_maximum_records() -> None:
    thousand = parse(linked(CONNECTOR, [uuid4() for _ in range(1000)]))
    largest = parse(linked(CONNECTOR, [uuid4() for _ in range(MAX_RECORD_IDS)]))

    assert len(thousand.record_ids) == 1000
    assert len(largest.record_ids) == MAX_RECORD_IDS


@pytest.mark.parametrize("length", [1, MAX_TEXT_LENGTH])
@pytest.mark.parametrize("member", ["idempotency_key", "sync_run_id"])
def test_keys_and_run_ids_of_one_to_two_hundred_characters_are_accepted(
    member: str, length: int
) -> None:
    message = parse(with_member("provenance.linked", member, "é" * length))

    assert getattr(message, member) == "é" * length


# --- what is refused ----------------------------------------------------------------------


@pytest.mark.parametrize("version", [2, 0, -1, "1", 1.0, 1.5, True, None, [1]])
@pytest.mark.parametrize("message_type", TYPES)
def test_any_version_but_the_integer_one_is_refused(message_type: str, version: object) -> None:
    assert refused_members(with_member(message_type, "version", version)) == {"version"}


@pytest.mark.parametrize(
    ("message_type", "member"),
    [(t, m) for t in TYPES for m in BUILDERS[t]() if m != "type"],
)
def test_every_member_is_required(message_type: str, member: str) -> None:
    body = BUILDERS[message_type]()
    del body[member]

    assert refused_members(body) == {member}


@pytest.mark.parametrize("message_type", TYPES)
def test_an_unknown_member_is_refused(message_type: str) -> None:
    assert refused_members(with_member(message_type, "priority", "high")) == {"priority"}


@pytest.mark.parametrize("member", ["direction", "record_type", "record_ids", "sync_run_id"])
def test_a_revocation_carrying_link_members_is_refused(member: str) -> None:
    body = revoked(CONNECTOR)
    body[member] = linked(CONNECTOR, RECORDS)[member]

    assert refused_members(body) == {member}


@pytest.mark.parametrize("message_type", ["provenance.relinked", "", 1, None])
def test_an_unknown_type_is_refused(message_type: object) -> None:
    body = linked(CONNECTOR, RECORDS)
    body["type"] = message_type

    with pytest.raises(ValidationError):
        parse(body)


def test_a_message_without_a_type_is_refused() -> None:
    body = linked(CONNECTOR, RECORDS)
    del body["type"]

    with pytest.raises(ValidationError):
        parse(body)


@pytest.mark.parametrize("body", ["", "not json", "[]", "null", "1", '"text"', "{", "{}"])
def test_a_body_that_is_not_a_message_object_is_refused(body: str) -> None:
    with pytest.raises(ValidationError):
        parse(body)


@pytest.mark.parametrize(
    "occurred_at",
    [
        "2026-11-20T10:15:00",  # naive
        "2026-11-20 10:15:00",  # naive
        "2026-11-20",  # a date is naive too
        1795254900,  # a Unix time is not ISO-8601
        "1795254900",
        1795254900.5,
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-11-20T10:15:00+24:00",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:30:00-01:00",  # after year 9999 in UTC
        None,
    ],
)
@pytest.mark.parametrize("message_type", TYPES)
def test_timestamps_without_an_offset_or_not_iso_8601_are_refused(
    message_type: str, occurred_at: object
) -> None:
    assert refused_members(with_member(message_type, "occurred_at", occurred_at)) == {"occurred_at"}


BAD_UUIDS = [
    "not-a-uuid",
    "",
    "0b7f3d2e-8e0a-4a55-9d6e-0c2f9b0d7a1",  # one digit short
    "0b7f3d2e-8e0a-4a55-9d6e-0c2f9b0d7a11x",
    "0b7f3d2e-8e0a-4a55-9d6e-0c2f9b0d7g11",  # not hexadecimal
    42,
    None,
]


@pytest.mark.parametrize("bad", BAD_UUIDS)
@pytest.mark.parametrize("message_type", TYPES)
def test_a_connector_id_that_is_not_a_uuid_is_refused(message_type: str, bad: object) -> None:
    assert refused_members(with_member(message_type, "workspace_connector_id", bad)) == {
        "workspace_connector_id"
    }


@pytest.mark.parametrize("bad", BAD_UUIDS)
@pytest.mark.parametrize("message_type", ADDRESSED)
def test_a_record_id_that_is_not_a_uuid_is_refused(message_type: str, bad: object) -> None:
    body = BUILDERS[message_type]()
    body["record_ids"] = [str(uuid4()), bad, str(uuid4())]

    with pytest.raises(ValidationError) as caught:
        parse(body)
    assert [e["loc"][-2:] for e in caught.value.errors()] == [("record_ids", 1)]


@pytest.mark.parametrize("message_type", ADDRESSED)
def test_an_empty_record_list_is_refused(message_type: str) -> None:
    assert refused_members(with_member(message_type, "record_ids", [])) == {"record_ids"}


@pytest.mark.parametrize("message_type", ADDRESSED)
def test_more_record_ids_than_the_maximum_are_refused(message_type: str) -> None:
    ids = [str(uuid4()) for _ in range(MAX_RECORD_IDS + 1)]

    assert refused_members(with_member(message_type, "record_ids", ids)) == {"record_ids"}


@pytest.mark.parametrize("message_type", ADDRESSED)
def test_record_ids_must_be_a_list(message_type: str) -> None:
    assert refused_members(with_member(message_type, "record_ids", str(uuid4()))) == {"record_ids"}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "k" * (MAX_TEXT_LENGTH + 1),
        "key\x00with-nul",  # PostgreSQL text cannot hold NUL: it would fail the whole batch
        "key\nwith-newline",
        "key\x7f",
        42,
        None,
    ],
)
@pytest.mark.parametrize("message_type", TYPES)
def test_idempotency_keys_outside_their_bounds_are_refused(
    message_type: str, value: object
) -> None:
    assert refused_members(with_member(message_type, "idempotency_key", value)) == {
        "idempotency_key"
    }


@pytest.mark.parametrize("value", ["", "r" * (MAX_TEXT_LENGTH + 1), "run\x00", 7, None])
@pytest.mark.parametrize("message_type", ADDRESSED)
def test_sync_run_ids_outside_their_bounds_are_refused(message_type: str, value: object) -> None:
    assert refused_members(with_member(message_type, "sync_run_id", value)) == {"sync_run_id"}


@pytest.mark.parametrize(
    ("member", "value"), [("direction", "both"), ("record_type", UNKNOWN_RECORD_TYPE)]
)
@pytest.mark.parametrize("message_type", ADDRESSED)
def test_unknown_directions_and_record_types_are_refused(
    message_type: str, member: str, value: object
) -> None:
    assert refused_members(with_member(message_type, member, value)) == {member}


def test_messages_are_immutable_once_parsed() -> None:
    message = parse(linked(CONNECTOR, RECORDS))

    with pytest.raises(ValidationError):
        message.idempotency_key = "another"


def test_python_callers_may_pass_aware_datetimes_but_not_naive_ones() -> None:
    body: dict[str, Any] = revoked(CONNECTOR)
    aware = dict(body, occurred_at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))))
    naive = dict(body, occurred_at=datetime(2026, 1, 1))

    assert ConnectorRevoked.model_validate(aware).occurred_at.utcoffset() == timedelta(hours=2)
    with pytest.raises(ValidationError):
        ConnectorRevoked.model_validate(naive)


def test_the_message_statements_answer_every_verdict_and_drop_the_receipts_the_writer_expects():
    # The statements are plain SQL: their verdicts are written in it, as ``Verdict`` names them.
    from wellapi.sync import batches

    linking = batches.VERDICT.format(refusals=batches.LINK_REFUSALS)
    assert {f"'{v.value}'" for v in batches.Verdict} <= set(re.findall(r"'[a-z_]+'", linking))
    dropped = ", ".join(f"'{v.value}'" for v in sorted(batches.RECEIPT_DROPPED))
    assert f"(SELECT verdict FROM verdict) IN ({dropped})" in batches.LINK
