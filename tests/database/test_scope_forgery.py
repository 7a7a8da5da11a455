"""SQL running as the API role cannot widen its own scope (revisions 0014 and 0016).

Each test is an attacker's request: a transaction on a plain connection as ``well_api`` that
opens the request's own scope with a proof of its real token (tenant A's member), in one
sealed message (``tests.support.sealed``), then runs SQL the API never sends, as injected SQL
would: in later messages of the transaction, or inside the sealed message itself (the proof
then covers it). Afterwards every table of the tenancy rule shows at most what A's own scope
shows, never a row of tenant B, and writes reach no row of B. Without a valid scope (no proof,
a proof altered, replayed, moved to other text or made with the wrong key) nothing is visible
or writable at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pg8000.exceptions
import pg8000.native
import pytest

from tests.support import tenancy as tn
from tests.support.sealed import SCOPE_PROOF, SignedScope
from wellapi.http.principal import scope_statement
from wellapi.http.proofs import seal_with_token
from wellapi.roles import API_ROLE, AUTH_ROLE, SYNC_ROLE
from wellapi.store.templates import to_literal
from welldev import database as local_db
from welldev.claims import claims

pytestmark = pytest.mark.usefixtures("api_database")

INSUFFICIENT_PRIVILEGE = "42501"
PARENTS_WITH_PK = (
    "workspaces",
    "peoples",
    "accounts",
    "companies",
    "workspace_connectors",
    "workspace_groups",
)
# What each scoped table shows, by a key the API role may read.
SEEN = {
    **dict.fromkeys(tn.JUNCTIONS, "pk"),
    **dict.fromkeys(PARENTS_WITH_PK, "pk"),
    "memberships": "workspace_pk, person_pk",
    "workspace_group_memberships": "workspace_group_pk, person_pk",
}


@pytest.fixture(scope="module")
def world(database: local_db.LocalDatabase) -> Iterator[tuple[tn.World, Any]]:
    admin = local_db.admin_connection(database.admin_url)
    try:
        yield tn.world(admin), admin
    finally:
        admin.close()


def token(admin: Any, side: tn.Side, kind: str = "member") -> str:
    return claims(admin, side.person[1], side.workspace[1], kind)["scope_token"]


def own(admin: Any, side: tn.Side, workspace: Any = None) -> SignedScope:
    """The side's own token, naming its workspace or ``workspace``."""
    return SignedScope(token(admin, side), workspace or side.workspace[1])


def seen(conn: Any) -> dict[str, set[tuple[Any, ...]]]:
    return {
        table: {tuple(r) for r in conn.run(f"SELECT {key} FROM core_api.{table}")}
        for table, key in SEEN.items()
    }


def in_request(
    conn: Any, *statements: str, scope: SignedScope | None, injected: bool = False
) -> Any:
    """One request's transaction: the scope (if any), then ``statements``; what it saw.

    The scope is opened by a sealed message that begins the transaction; ``statements`` are
    the next messages, or with ``injected`` part of that sealed message, after the scope.
    """
    assert scope is not None or not injected
    try:
        if scope is None:
            conn.run("BEGIN")
        elif injected:
            conn.run(scope.begin(*statements))
        else:
            conn.run(scope.begin())
        for statement in () if injected else statements:
            conn.run(statement)
        return seen(conn)
    finally:
        conn.run("ROLLBACK")


def own_scope(conn: Any, world: tuple[tn.World, Any]) -> dict[str, set[tuple[Any, ...]]]:
    w, admin = world
    return in_request(conn, scope=own(admin, w.a))


def assert_within(found: dict[str, set[Any]], allowed: dict[str, set[Any]], w: tn.World) -> None:
    for table, rows in found.items():
        assert rows <= allowed[table], table
    assert (w.b.workspace[0],) not in found["workspaces"]
    assert (w.b.workspace_connector[0],) not in found["workspace_connectors"]


def test_the_own_scope_sees_its_rows_and_none_of_the_other_tenant(api_conn, world):
    w, _ = world

    mine = own_scope(api_conn, world)

    assert (w.a.workspace[0],) in mine["workspaces"]
    assert (w.b.workspace[0],) not in mine["workspaces"]
    for ledger in tn.PROVENANCE:
        assert mine[ledger] == {(w.a.provenance[ledger][0],)}


def _b_settings(w: tn.World) -> list[str]:
    b = w.b
    return [
        f"SELECT set_config('well.workspace_pk', '{b.workspace[0]}', true)",
        f"SELECT set_config('well.person_pk', '{b.person[0]}', true)",
        f"SELECT set_config('well.workspace_connector_pks', '{b.workspace_connector[0]}', true)",
    ]


FORGERIES = {
    "the plain settings pointed at the other tenant": lambda w, _: _b_settings(w),
    "the principal kind set to service": lambda w, _: [
        "SELECT set_config('well.principal_kind', 'service', true)"
    ],
    "both, session-wide": lambda w, _: (
        [s.replace(", true)", ", false)") for s in _b_settings(w)]
        + ["SELECT set_config('well.principal_kind', 'service', false)"]
    ),
    "a signed scope whose fields were changed to the other tenant's, as a service": lambda w, _: [
        "SELECT set_config('well.scope', concat_ws('.', pg_backend_pid(), "
        "(extract(epoch FROM transaction_timestamp()) * 1000000)::bigint, "
        f"{w.b.workspace[0]}, {w.b.person[0]}, 'service', '{w.b.workspace_connector[0]}', "
        "split_part(current_setting('well.scope'), '.', 7)), true)"
    ],
    "RESET ALL": lambda w, _: ["RESET ALL"],
    "the scope reset": lambda w, _: ["RESET well.scope"],
    # set_scope takes the person and the kind from the proof this very message spent: in the
    # sealed message, A's member proof; in a later message, none at all.
    "set_scope again for the other tenant's workspace": lambda w, _: [
        scope_statement(w.b.workspace[1])
    ],
}


def _altered_proof(message: str, old: str, new: str) -> str:
    """``message`` with ``old`` replaced by ``new`` in the body of its proof, and only there."""
    opening = SCOPE_PROOF.match(message)
    assert opening is not None
    assert old in opening.group(0)
    return opening.group(0).replace(old, new, 1) + message[opening.end() :]


# Whole sealed messages, sent after the request's own: each opens with the proof's own
# transaction (which ends the request's) and begins a transaction of its own for its scope,
# in which the tables are then read.
SEALED_FORGERIES = {
    "a message sealed with the own token for the other tenant's workspace": lambda w, admin: [
        own(admin, w.a, w.b.workspace[1]).begin()
    ],
    "a proof of the own token with the kind changed to service": lambda w, admin: [
        _altered_proof(own(admin, w.a, w.b.workspace[1]).begin(), ".member.", ".service.")
    ],
    "a proof of the own token with the person changed to the other tenant's": lambda w, admin: [
        _altered_proof(
            own(admin, w.a, w.b.workspace[1]).begin(),
            f"t1.{w.a.person[0]}.",
            f"t1.{w.b.person[0]}.",
        )
    ],
}


def _assert_no_more_than_own(found: Any, allowed: Any, w: tn.World) -> None:
    assert_within(found, allowed, w)
    # Nothing of the other tenant's own rows, whatever the rule.
    assert (w.b.provenance["account_workspace_connectors"][0],) not in found[
        "account_workspace_connectors"
    ]
    assert (w.b.selection[0],) not in found["workspace_providers"]


@pytest.mark.parametrize("forgery", {**FORGERIES, **SEALED_FORGERIES})
def test_a_forged_scope_shows_no_more_than_the_request_own_scope(api_conn, world, forgery):
    w, admin = world
    allowed = own_scope(api_conn, world)
    statements = {**FORGERIES, **SEALED_FORGERIES}[forgery](w, admin)

    found = in_request(api_conn, *statements, scope=own(admin, w.a))

    _assert_no_more_than_own(found, allowed, w)


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forgery_inside_the_sealed_message_shows_no_more_than_its_scope(api_conn, world, forgery):
    """Injected into the request's own text before it was sealed: the proof covers it, and
    the message's own spent proof is there for a second set_scope to find."""
    w, admin = world
    allowed = own_scope(api_conn, world)

    statements = FORGERIES[forgery](w, admin)

    found = in_request(api_conn, *statements, scope=own(admin, w.a), injected=True)

    _assert_no_more_than_own(found, allowed, w)


def _signed_by_owner(admin: Any, body: str) -> str:
    return f"{body}.{admin.run('SELECT well_private.mac(:m)', m='token|' + body)[0][0]}"


def _sealed_by(scope_token: str, w: tn.World) -> str:
    """A message opening a transaction with a scope of A's workspace, sealed by the token."""
    return seal_with_token("BEGIN;" + scope_statement(w.a.workspace[1]), scope_token)


def _moved_proof(admin: Any, w: tn.World) -> str:
    """A valid proof of A's token, for a message of A's scope, opening other text."""
    opening = SCOPE_PROOF.match(own(admin, w.a).begin())
    assert opening is not None
    return opening.group(0) + "BEGIN;" + scope_statement(w.a.workspace[1]) + ";SELECT 1"


NO_SCOPE = {
    "no scope at all": lambda w, admin: [],
    "set_scope in a message without a proof": lambda w, admin: [scope_statement(w.a.workspace[1])],
    "an expired token, correctly signed": lambda w, admin: [
        _sealed_by(_signed_by_owner(admin, f"t1.{w.a.person[0]}.member.1700000000"), w)
    ],
    "a token signed with another key": lambda w, admin: [
        _sealed_by(f"t1.{w.a.person[0]}.service.9999999999." + "0" * 64, w)
    ],
    "a valid proof moved to another text": lambda w, admin: [_moved_proof(admin, w)],
    # Accepted, either would open a scope with rows: A's workspace as a service, B's as B.
    "a valid proof with the kind changed to service": lambda w, admin: [
        _altered_proof(own(admin, w.a).begin(), ".member.", ".service.")
    ],
    "a valid proof with the person changed to the other tenant's": lambda w, admin: [
        _altered_proof(
            own(admin, w.a, w.b.workspace[1]).begin(),
            f"t1.{w.a.person[0]}.",
            f"t1.{w.b.person[0]}.",
        )
    ],
    "a valid proof that does not open its message": lambda w, admin: [
        "SELECT 1;" + own(admin, w.a).begin()
    ],
    "a scope signed with a key of one's own, in a temporary table named like the real one": (
        lambda w, admin: [
            "CREATE TEMP TABLE scope_keys ON COMMIT DROP AS SELECT 1::smallint AS id, "
            "'\\x00'::bytea AS inner_key, '\\x00'::bytea AS outer_key",
            "SET LOCAL search_path = pg_temp, core_api, pg_catalog",
            "SELECT set_config('well.scope', b.body || '.' || encode(sha256(k.outer_key || "
            "sha256(k.inner_key || convert_to('scope|' || b.body, 'UTF8'))), 'hex'), true) "
            "FROM scope_keys k, (SELECT concat_ws('.', pg_backend_pid(), "
            "(extract(epoch FROM transaction_timestamp()) * 1000000)::bigint, "
            f"{w.b.workspace[0]}, {w.b.person[0]}, 'service', '') AS body) b",
        ]
    ),
    "a made-up scope setting": lambda w, admin: [
        f"SELECT set_config('well.scope', '1.1.{w.b.workspace[0]}.{w.b.person[0]}.service..ff', "
        "true)",
        *_b_settings(w),
    ],
}


@pytest.mark.parametrize("attempt", NO_SCOPE)
def test_without_a_valid_scope_nothing_is_visible(api_conn, world, attempt):
    w, admin = world

    found = in_request(api_conn, *NO_SCOPE[attempt](w, admin), scope=None)

    assert found == {table: set() for table in SEEN}


def test_a_sealed_message_opens_its_scope_once(api_conn, world, database):
    """The text PostgreSQL keeps of a request (``pg_stat_activity``, the log) is worth nothing:
    sent again, on the same connection or another, its proof is spent."""
    w, admin = world
    message = own(admin, w.a).begin()
    allowed = own_scope(api_conn, world)
    assert (w.a.workspace[0],) in allowed["workspaces"]

    def sent(conn: Any) -> Any:
        try:
            scope_row = conn.run(message)[0]
            return scope_row, seen(conn)
        finally:
            conn.run("ROLLBACK")

    first = sent(api_conn)
    again = sent(api_conn)
    other = local_db.admin_connection(database.url_for(API_ROLE))
    try:
        elsewhere = sent(other)
    finally:
        other.close()

    assert first == ([w.a.workspace[0], w.a.person[0]], allowed)
    nothing = {table: set() for table in SEEN}
    assert again == elsewhere == ([None, None], nothing)


def test_a_scope_signed_in_another_transaction_opens_nothing(api_conn, world):
    w, admin = world
    own(admin, w.a).open(api_conn)
    signed = api_conn.run("SELECT current_setting('well.scope')")[0][0]
    # Kept for the session as well: the next request's transaction inherits it.
    api_conn.run("SELECT set_config('well.scope', :s, false)", s=signed)
    api_conn.run("COMMIT")

    replayed = in_request(
        api_conn, f"SELECT set_config('well.scope', {to_literal(signed)}, true)", scope=None
    )
    inherited = in_request(api_conn, scope=None)

    assert replayed == inherited == {table: set() for table in SEEN}


def test_a_forged_scope_writes_no_row_of_another_tenant(api_conn, world):
    w, admin = world
    try:
        own(admin, w.a).open(api_conn)
        for statement in FORGERIES["both, session-wide"](w, admin):
            api_conn.run(statement.replace(", false)", ", true)"))
        touched = api_conn.run(
            "UPDATE core_api.workspace_providers SET updated_at = now() RETURNING workspace_pk"
        )
        assert {r[0] for r in touched} == {w.a.workspace[0]}
        with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
            api_conn.run(
                "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk) "
                f"VALUES ({w.b.workspace[0]}, {w.free_provider[0]})"
            )
        assert raised.value.args[0]["C"] == INSUFFICIENT_PRIVILEGE
    finally:
        api_conn.run("ROLLBACK")


def test_without_a_scope_no_row_is_writable(api_conn, world):
    w, _ = world
    api_conn.run("BEGIN")
    try:
        for statement in _b_settings(w):
            api_conn.run(statement)
        api_conn.run("SELECT set_config('well.principal_kind', 'service', true)")
        for table in tn.JUNCTIONS:
            assert (
                api_conn.run(f"UPDATE core_api.{table} SET updated_at = now() RETURNING pk") == []
            )
    finally:
        api_conn.run("ROLLBACK")


ESCAPES = {
    "SET ROLE to the sync writer": f"SET ROLE {SYNC_ROLE}",
    "SET ROLE to the authorizer": f"SET ROLE {AUTH_ROLE}",
    "SET ROLE to the owner": "SET ROLE {owner}",
    "SET SESSION AUTHORIZATION to the owner": "SET SESSION AUTHORIZATION {owner}",
    "check a key itself": "SELECT * FROM core_api.authenticate_key()",
    "spend a key proof": "CALL core_api.spend_key_proof('k1.aaaaaaaaaaaa.1.x.' || repeat('0', 64))",
    "record a proof as spent": "INSERT INTO well_private.spent_proofs (nonce, backend_pid, "
    "message_at, expires_at, person_pk, kind) VALUES (gen_random_uuid(), pg_backend_pid(), "
    "statement_timestamp(), now() + interval '1 hour', 1, 'service')",
    "read the spent proofs": "SELECT * FROM well_private.spent_proofs",
    "sign a token": "SELECT well_private.scope_token(1, 'service')",
    "sign anything": "SELECT well_private.mac('token|t1.1.service.9999999999')",
    "read the signing key": "SELECT * FROM well_private.scope_keys",
    "read the kept answers of retried creates": "SELECT * FROM well_private.idempotency_keys",
    "keep an answer for another principal": "INSERT INTO well_private.idempotency_keys "
    "(person_pk, principal_kind, idempotency_key, fingerprint) VALUES (1, 'service', 'k', 'f')",
    "read connector credentials": "SELECT config FROM core_api.workspace_connectors",
    "read API keys": "SELECT secret_hash FROM core_api.api_keys",
    "create a function to run later": "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql "
    "AS 'SELECT 1'",
}


@pytest.mark.parametrize("escape", ESCAPES)
def test_the_api_role_cannot_step_outside_its_privileges(api_conn, world, escape):
    _, admin = world
    owner = admin.run("SELECT current_user")[0][0]
    api_conn.run("BEGIN")
    try:
        with pytest.raises(pg8000.exceptions.DatabaseError) as raised:
            api_conn.run(ESCAPES[escape].format(owner=owner))
        assert raised.value.args[0]["C"] == INSUFFICIENT_PRIVILEGE, raised.value
    finally:
        api_conn.run("ROLLBACK")
