"""A statement kept under a name serves a request only while it is ours.

A pool's connection keeps each statement with values prepared under a name derived from its
text (``wellapi.store.sql.named_pipeline``). SQL on that session can ``DEALLOCATE`` one and
``PREPARE`` its own under the same name; every message that binds a name an earlier message
parsed checks the names first (``core_api.check_prepared``), and a failed check is sent again
with every name parsed afresh. ``test_session_leftovers`` holds every worker's answers to the
baseline with such statements planted on every role's connection; these tests hold the check
itself, and show what it stops.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import pg8000.dbapi
import pytest

from tests.support import leftovers as lo
from tests.support.api import get
from tests.support.cross_tenant import authorize
from wellapi.resources import RESOURCES
from wellapi.roles import API_ROLE
from wellapi.store import connections as db
from wellapi.store import sql
from wellapi.store.sql import BoundStatement

pytestmark = pytest.mark.usefixtures("api_database")

RESOURCE = "account_workspace_connectors"


@pytest.fixture(autouse=True)
def fresh_pools() -> Iterator[None]:
    db.reset_pools()
    yield
    db.reset_pools()


def retrieve(world: lo.World, claims: dict[str, str]) -> dict[str, Any]:
    return lo.answered(get(RESOURCE, claims, row_id=str(world.link_id), query="include=account"))


def test_a_statement_planted_under_our_name_never_serves_a_request(admin, caplog):
    world = lo.arrange(admin)
    claims = authorize(world.key)
    first = retrieve(world, claims)
    assert lo.subvert_names(API_ROLE) >= 3  # the proof, the scope and the read

    with caplog.at_level(logging.WARNING, logger="wellapi.store.connections"):
        again = retrieve(world, claims)

    assert first["status"] == 200
    assert again == first
    assert "not ours" in caplog.text
    # Parsed afresh: the names the connection keeps now hold ours, none SQL's own.
    held = {name for name, _ in lo.names_held(API_ROLE)}
    assert held
    assert not held & set(from_sql(API_ROLE))


def test_without_the_check_a_statement_planted_under_our_name_would_answer(
    admin, monkeypatch: pytest.MonkeyPatch
):
    """What the check stops: the planted statement answers in the victim's transaction."""
    world = lo.arrange(admin)
    claims = authorize(world.key)
    first = retrieve(world, claims)
    lo.subvert_names(API_ROLE)
    monkeypatch.setattr(sql, "check_statement", lambda statements, held: None)

    again = retrieve(world, claims)

    assert first["status"] == 200
    assert again != first


def test_a_session_that_keeps_losing_our_names_is_sent_every_statement_unnamed(admin):
    """A proxy that does not keep a client's names on the backend it lends would fail every
    request's check: past the limit the connection names nothing, and answers alike."""
    world = lo.arrange(admin)
    claims = authorize(world.key)
    first = retrieve(world, claims)
    for _ in range(db.NAMES_LOST_LIMIT):
        lo.subvert_names(API_ROLE)
        assert retrieve(world, claims) == first

    lo.subvert_names(API_ROLE)  # now nothing of ours is there to subvert, nor checked
    again = retrieve(world, claims)

    assert again == first
    with db.get_pool().connection() as connection:
        assert getattr(connection, db.PREPARED) is None


def from_sql(role: str) -> list[str]:
    """The names on ``role``'s connection that SQL's own ``PREPARE`` made."""
    with db.get_pool(lo.POOLS[role]).connection() as connection:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT name FROM pg_prepared_statements WHERE from_sql")
            return [str(r[0]) for r in cursor.fetchall()]
        finally:
            cursor.close()


# ---- the check itself ------------------------------------------------------------------------

OURS = BoundStatement("SELECT $1::int + 1", (1,))
NAME = sql.name_of(OURS.text, OURS.oids)
DIGEST = hashlib.md5(OURS.text.encode(), usedforsecurity=False).hexdigest()


def checked(*setup: str, digest: str = DIGEST, types: str = "{23}") -> str | None:
    """The SQLSTATE of the check of ``OURS``'s name on the API role's connection, once ``OURS``
    was sent (prepared under its name) and ``setup`` ran; None when it passes."""
    with db.get_pool().connection() as connection:
        db.send(connection, [OURS])
        cursor = connection.cursor()
        try:
            for statement in setup:
                cursor.execute(statement)
            check = sql.CHECK_PREPARED.replace("$1, $2, $3", "%s, %s, %s")
            cursor.execute(check, ([NAME], [digest], [types]))
        except pg8000.dbapi.DatabaseError as error:
            return str(error.args[0]["C"])
        finally:
            cursor.close()
    return None


CHECKS = {
    "ours": ((), {}, None),
    "deallocated": ((f"DEALLOCATE {NAME}",), {}, sql.SUBVERTED_SQLSTATE),
    "the same text by PREPARE": (
        (f"DEALLOCATE {NAME}", f"PREPARE {NAME}(int) AS {OURS.text}"),
        {},
        sql.SUBVERTED_SQLSTATE,
    ),
    "another text": ((), {"digest": "0" * 32}, sql.SUBVERTED_SQLSTATE),
    "another declared type": ((), {"types": "{20}"}, sql.SUBVERTED_SQLSTATE),
    "another number of parameters": ((), {"types": "{23,0}"}, sql.SUBVERTED_SQLSTATE),
    "a type left to the server": ((), {"types": "{0}"}, None),
}


@pytest.mark.parametrize(("setup", "given", "expected"), CHECKS.values(), ids=list(CHECKS))
def test_the_check_passes_only_our_own_statement_under_its_name(setup, given, expected):
    assert checked(*setup, **given) == expected


# ---- how many names a connection keeps -------------------------------------------------------

# More shapes than a connection keeps names for: each sort, include and filter a statement.
SHAPES = [
    f"sort={sort}&include={include}{direction}"
    for sort in RESOURCES[RESOURCE].sort_values
    for include in ("", "account", "workspace_connector", "account,workspace_connector")
    for direction in ("", "&filter[direction]=input", "&filter[direction]=output")
]


def test_a_connection_serving_more_shapes_than_it_keeps_names_for_holds_at_most_the_bound(admin):
    """The check reads every statement the session holds: past ``MAX_NAMES`` the names bound
    least recently are closed, and each shape answers as it did when first named."""
    world = lo.arrange(admin)
    claims = authorize(world.key)
    assert len(SHAPES) > sql.MAX_NAMES

    first = [lo.answered(get(RESOURCE, claims, query=q)) for q in SHAPES]
    again = [lo.answered(get(RESOURCE, claims, query=q)) for q in reversed(SHAPES)]

    assert {a["status"] for a in first} == {200}
    assert again == first[::-1]
    held = lo.names_held(API_ROLE)
    assert 0 < len(held) <= sql.MAX_NAMES
    with db.get_pool().connection() as connection:
        assert set(getattr(connection, db.PREPARED).held) == {name for name, _ in held}
