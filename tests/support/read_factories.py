"""Rows for the read tests, and the checks every read response must pass.

Builders insert through the admin connection, like ``factories``, but take an explicit
``created_at`` (the ``touch_row`` trigger makes it immutable after insert, so ordering tests
must set it on insert) and return the row's internal ``pk`` too, so tests can prove it never
reaches a client. ``read`` wraps ``api.get`` (which already checks the media type and
validates the document against the JSON:API 1.1 schema) with the checks that hold for every
read response of this API: the connector secret is never in a body, no internal key leaks.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pg8000.dbapi
import pg8000.native
import pytest

from tests.support import factories as f
from tests.support.api import Reply, get
from tests.support.links import WALKER
from wellapi.resources import PARENTS, RESOURCES
from wellapi.store import connections as db
from wellapi.store import driver
from wellapi.store.sql import BoundStatement

SECRET = "sk_live_never_returned"
PROVENANCE = tuple(f.LEDGER_PARENT)
ALL = tuple(RESOURCES)
RECORD = f.PROVENANCE_RECORD
# Every relationship of every resource, and what include shows of the record it points at.
RELATIONSHIPS = {key: tuple(rel.name for rel in r.relationships) for key, r in RESOURCES.items()}
PAIRS = [(resource, name) for resource, names in RELATIONSHIPS.items() for name in names]
TYPES = {r: r[:-1] for r in ALL}
PARENT_ATTRIBUTES = {type_: tuple(a.name for a in p.attributes) for type_, p in PARENTS.items()}
# Integer values a document may legitimately carry, by member name.
INTEGER_MEMBERS = frozenset({"popularity_score", "maxSize", "maxDepth", "count", "total"})
# In the past, so rows touched by a test (updated_at = now()) sort after every fixed instant.
T0 = datetime(2024, 5, 10, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A fixed instant, ``minutes`` after 2024-05-10T08:00Z."""
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Row:
    resource: str
    id: UUID
    pk: int
    # relationship name -> (JSON:API type, public id), or None for an empty to-one.
    parents: dict[str, tuple[str, UUID] | None] = field(default_factory=dict)


def _one(conn: pg8000.native.Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.run(sql, **params)[0])


def provenance(
    conn: pg8000.native.Connection,
    t: f.Tenant,
    table: str,
    *,
    record: tuple[int, UUID] | None = None,
    connector: tuple[int, UUID] | None = None,
    direction: str = "input",
    created_at: datetime | None = None,
    deleted: bool = False,
) -> Row:
    record = record or f.record_of(t, table)
    connector = connector or (t.workspace_connector_pk, t.workspace_connector_id)
    name = RECORD[table]
    pk, row_id = _one(
        conn,
        f"INSERT INTO core_api.{table} ({name}_pk, workspace_connector_pk, direction, "
        f"{table[:-1]}_id, deleted_at) VALUES (:r, :w, CAST(:d AS core_api.direction_enum), "
        f"{f.ID_AT}, CASE WHEN :del THEN now() END) RETURNING pk, {table[:-1]}_id",
        r=record[0],
        w=connector[0],
        d=direction,
        c=created_at,
        **{"del": deleted},
    )
    return Row(
        table,
        row_id,
        pk,
        {name: (name, record[1]), "workspace_connector": ("workspace_connector", connector[1])},
    )


def enrolment(
    conn: pg8000.native.Connection,
    t: f.Tenant,
    *,
    group: tuple[int, UUID] | None = None,
    workspace: tuple[int, UUID] | None = None,
    created_by: tuple[int, UUID] | bool | None = True,
    created_at: datetime | None = None,
    deleted: bool = False,
) -> Row:
    """A workspace_group_workspace; ``created_by=True`` means the tenant's own person."""
    group = group or f.group(conn, created_by_pk=t.person_pk)
    workspace = workspace or (t.workspace_pk, t.workspace_id)
    creator = (t.person_pk, t.person_id) if created_by is True else created_by or None
    pk, row_id = _one(
        conn,
        "INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, workspace_pk, "
        "created_by_pk, created_at, deleted_at) VALUES (:g, :w, :c, "
        "COALESCE(CAST(:at AS timestamptz), now()), CASE WHEN :del THEN now() END) "
        "RETURNING pk, workspace_group_workspace_id",
        g=group[0],
        w=workspace[0],
        c=creator[0] if creator else None,
        at=created_at,
        **{"del": deleted},
    )
    return Row(
        "workspace_group_workspaces",
        row_id,
        pk,
        {
            "workspace_group": ("workspace_group", group[1]),
            "workspace": ("workspace", workspace[1]),
            "created_by": ("people", creator[1]) if creator else None,
        },
    )


def workspace_provider(
    conn: pg8000.native.Connection,
    t: f.Tenant,
    *,
    provider: tuple[int, UUID] | None = None,
    selected: bool = True,
    matched: bool = True,
    created_at: datetime | None = None,
    deleted: bool = False,
) -> Row:
    provider = provider or f.provider(conn)
    pk, row_id = _one(
        conn,
        "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, is_selected, "
        "is_matched, created_at, deleted_at) VALUES (:w, :p, :s, :m, "
        "COALESCE(CAST(:at AS timestamptz), now()), CASE WHEN :del THEN now() END) "
        "RETURNING pk, workspace_provider_id",
        w=t.workspace_pk,
        p=provider[0],
        s=selected,
        m=matched,
        at=created_at,
        **{"del": deleted},
    )
    return Row(
        "workspace_providers",
        row_id,
        pk,
        {"workspace": ("workspace", t.workspace_id), "provider": ("provider", provider[1])},
    )


def make_row(
    conn: pg8000.native.Connection,
    t: f.Tenant,
    resource: str,
    *,
    created_at: datetime | None = None,
    deleted: bool = False,
) -> Row:
    """A row of ``resource`` in ``t``'s scope, with fresh parents where uniqueness needs them."""
    if resource in PROVENANCE:
        return provenance(conn, t, resource, created_at=created_at, deleted=deleted)
    if resource == "workspace_group_workspaces":
        return enrolment(conn, t, created_at=created_at, deleted=deleted)
    return workspace_provider(conn, t, created_at=created_at, deleted=deleted)


RECORD_INSERT = {table: f.record_rows(parent) for table, parent in f.LEDGER_PARENT.items()}


def bulk_records(conn: pg8000.native.Connection, t: f.Tenant, table: str, count: int) -> list[int]:
    """``count`` records of ``table``'s record type in ``t``'s workspace; their pks."""
    return [row[0] for row in conn.run(RECORD_INSERT[table], w=t.workspace_pk, n=count)]


def soft_delete(conn: pg8000.native.Connection, table: str, pk: int) -> None:
    conn.run(f"UPDATE core_api.{table} SET deleted_at = now() WHERE pk = :pk", pk=pk)


def touch(conn: pg8000.native.Connection, table: str, pk: int) -> None:
    """An update: the trigger moves ``updated_at`` to now() and leaves ``created_at``."""
    conn.run(f"UPDATE core_api.{table} SET deleted_at = NULL WHERE pk = :pk", pk=pk)


def group_membership(
    conn: pg8000.native.Connection, group_pk: int, person_pk: int, *, deleted: bool = False
) -> None:
    conn.run(
        "INSERT INTO core_api.workspace_group_memberships (workspace_group_pk, person_pk, role, "
        "deleted_at) VALUES (:g, :p, 'member', CASE WHEN :del THEN now() END)",
        g=group_pk,
        p=person_pk,
        **{"del": deleted},
    )


@dataclass(frozen=True)
class Sent:
    """One message an API connection sent: a simple query (the transaction's opening, a
    rollback), or the statements ``wellapi.store.connections.send`` pipelined, each bound to
    its values."""

    protocol: str  # "simple", "unnamed" (pg8000's own extended protocol) or "pipelined"
    text: str  # a pipelined message's statements' texts joined by ";"
    statements: tuple[BoundStatement, ...] = ()  # a pipelined message's, values and all


def record_queries(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """From now on, every message the API's pg8000 connections send (``Sent``).

    Only ``pg8000.dbapi`` connections (the API's engine) are counted; the admin connection of
    the tests is a ``pg8000.native`` one and is not, whatever it sends.
    """
    calls: list[Sent] = []
    simple = getattr(pg8000.dbapi.Connection, driver.SIMPLE_QUERY)
    unnamed = getattr(pg8000.dbapi.Connection, driver.UNNAMED_QUERY)
    pipelined = db.send

    # The link walker's requests (``tests.support.links``) are not the request under test.
    def count_simple(self: Any, statement: str) -> Any:
        if not WALKER.walking:
            calls.append(Sent("simple", statement))
        return simple(self, statement)

    def count_unnamed(self: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
        if not WALKER.walking:
            calls.append(Sent("unnamed", statement))
        return unnamed(self, statement, *args, **kwargs)

    def count_pipelined(connection: Any, statements: Sequence[BoundStatement]) -> Any:
        if isinstance(connection, pg8000.dbapi.Connection) and not WALKER.walking:
            sent = tuple(statements)
            calls.append(Sent("pipelined", ";".join(s.text for s in sent), sent))
        return pipelined(connection, statements)

    monkeypatch.setattr(pg8000.dbapi.Connection, driver.SIMPLE_QUERY, count_simple)
    monkeypatch.setattr(pg8000.dbapi.Connection, driver.UNNAMED_QUERY, count_unnamed)
    # ``wellapi.store.connections`` looks ``send`` up when it sends.
    monkeypatch.setattr(db, "send", count_pipelined)
    return calls


# The statement that opens a request's statements: the proof of its scope, a bound value.
PROVE_SCOPE = "CALL core_api.prove_scope($1)"
SCOPE_PROOF = re.compile(r"p2\.[0-9]+\.(?:member|service)\.[0-9]+\.[0-9]+\.[0-9a-f]{64}")


@dataclass(frozen=True)
class SentRequest:
    """One request as the API sent it: a transaction of one message, pipelined: its opening,
    its proof, its statements and ``COMMIT``."""

    read_only: bool  # opened with BEGIN READ ONLY
    statements: str  # the request's statements' texts joined by ";", proof and COMMIT left out
    message: str  # the message's texts as sent, joined by ";"
    proof: str  # the value bound to the proof's statement
    bound: tuple[BoundStatement, ...]  # the request's statements with their values


def requests_of(calls: list[Sent]) -> list[SentRequest]:
    """The requests among recorded messages (``record_queries``). Each must be exactly one
    message, pipelined: ``BEGIN[ READ ONLY]``, the transaction's settings, the proof, the
    request's statements and ``COMMIT``; the proof is a bound value, never in any statement's
    text."""
    requests = []
    for message in calls:
        assert message.protocol == "pipelined", (message.protocol, message.text[:80])
        begin, settings, proof, *statements, commit = message.statements
        assert begin in (db.BEGIN, db.BEGIN_READ_ONLY), begin
        assert settings == db.SETTINGS, settings
        assert proof.text == PROVE_SCOPE, message.text[:120]
        (value,) = proof.values
        assert SCOPE_PROOF.fullmatch(value), value
        assert commit == db.COMMIT, message.text[-120:]
        assert value not in message.text
        requests.append(
            SentRequest(
                begin == db.BEGIN_READ_ONLY,
                ";".join(s.text for s in statements),
                message.text,
                value,
                tuple(statements),
            )
        )
    return requests


# --- what every read response must satisfy ------------------------------------------------


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    yield key, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)


def decode_cursor(token: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def cursor_of(link: str, name: str) -> str:
    return parse_qs(urlsplit(link).query)[name][0]


def assert_no_internal_keys(document: Any) -> None:
    """No ``pk`` member, no integer where an id goes, no integer anywhere it is not expected,
    and every cursor in a pagination link decodes to strings only (sort, timestamp, UUID)."""
    for key, value in _walk(document):
        assert key != "pk", "internal key member pk"
        assert not key.endswith("_pk"), f"internal key member {key!r}"
        if key == "id" or key.endswith("_id"):
            assert isinstance(value, str), f"{key} is {value!r}"
        if isinstance(value, int) and not isinstance(value, bool):
            assert key in INTEGER_MEMBERS, f"integer {value} under {key!r}"
    links = document.get("links") or {} if isinstance(document, dict) else {}
    for name in ("next", "prev"):
        link = links.get(name)
        if not link:
            continue
        for parameter in ("page[after]", "page[before]"):
            query = parse_qs(urlsplit(link).query)
            if parameter in query:
                sort, value, row_id = decode_cursor(query[parameter][0])
                assert isinstance(sort, str)
                assert isinstance(value, str)
                assert str(UUID(row_id)) == row_id


def read(
    resource: str,
    claims: dict[str, str] | None,
    *,
    row_id: str | UUID | None = None,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> Reply:
    reply = get(
        resource,
        claims,
        row_id=None if row_id is None else str(row_id),
        query=query,
        headers=headers,
    )
    assert SECRET not in reply.body
    assert "api_secret" not in reply.body
    if reply.body:
        assert_no_internal_keys(reply.json)
    return reply


def ids(reply: Reply) -> list[str]:
    assert reply.status == 200, reply.body
    return [item["id"] for item in reply.json["data"]]


def error(reply: Reply, status: int, parameter: str | None = None) -> dict[str, Any]:
    """The reply's one error object, checked for status and (when given) source.parameter."""
    assert reply.status == status, reply.body
    errors = reply.errors
    assert len(errors) == 1, errors
    obj = errors[0]
    assert obj["status"] == str(status)
    assert obj["code"]
    assert obj["title"]
    assert obj["detail"]
    if parameter is not None:
        assert obj.get("source") == {"parameter": parameter}, obj
    return obj


def follow(link: str) -> str:
    """The query string of a pagination link, to request it again."""
    return urlsplit(link).query


def list_meta(resource: str, **counts: Any) -> dict[str, Any]:
    """A List's ``meta`` of ``counts``: a ledger's says where its kept rows begin too (none
    archived here)."""
    return counts | ({"archived_before": None} if resource in PROVENANCE else {})
