"""SQL running as the API role cannot widen its own scope (``core_api.set_scope``'s proofs).

Each test is an attacker's request: a transaction on a plain connection as ``well_api`` that
opens the request's own scope with a proof of its real token (tenant A's member) made for
this moment (``tests.support.proven``), then runs SQL the API never sends, as injected SQL
would: in later messages of the transaction, or in the proven message itself. Afterwards
every table of the tenancy rule shows at most what A's own scope shows, never a row of tenant
B, and writes reach no row of B. Without a valid scope (no proof, a proof altered, made for
another moment, or with the wrong key) nothing is visible or writable at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pg8000.exceptions
import pg8000.native
import pytest
from pg8000.native import literal

from tests.support import tenancy as tn
from tests.support.proven import SignedScope, moment_from_now
from wellapi.errors import PROOF_OUT_OF_TIME
from wellapi.http.principal import scope_statement
from wellapi.http.proofs import PROOF_AHEAD_SECONDS, PROOF_SECONDS, now, scope_opening
from wellapi.roles import API_ROLE, AUTH_ROLE, SYNC_ROLE
from wellapi.store.connections import BEGIN, SETTINGS, send
from wellapi.store.sql import BoundStatement, fixed
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


# One message of an attack: SQL written by hand (a simple query), or statements bound to their
# values and pipelined as the API sends them (``connections.send``).
Message = str | list[BoundStatement]
# What an attack sends once its transaction is open: (the world, the admin, the moment its
# request's proof is made for) -> its messages.
Attack = Callable[[tn.World, Any, str], list[Message]]
Statements = Callable[[str], list[Message]]


def run(conn: Any, message: Message) -> Any:
    return conn.run(message) if isinstance(message, str) else send(conn, message)


def bound(messages: list[Message]) -> list[BoundStatement]:
    """The messages' statements as one pipeline."""
    return [s for m in messages for s in ([fixed(m)] if isinstance(m, str) else m)]


def in_request(
    conn: Any, statements: Statements, *, scope: SignedScope | None, injected: bool = False
) -> Any:
    """One request's transaction: the scope (if any), then ``statements(moment)``; what it
    saw. The scope is opened as the API opens it; the statements are the next messages, or
    with ``injected`` part of the proven message, after the scope."""
    assert scope is not None or not injected
    try:
        send(conn, [BEGIN, SETTINGS])
        moment = now()
        if scope is None:
            sent = statements(moment)
        elif injected:
            send(conn, [scope.prove(moment), scope.statement, *bound(statements(moment))])
            sent = []
        else:
            send(conn, [scope.prove(moment), scope.statement])
            sent = statements(moment)
        for message in sent:
            run(conn, message)
        return seen(conn)
    finally:
        conn.run("ROLLBACK")


def nothing_more(moment: str) -> list[Message]:
    return []


def own_scope(conn: Any, world: tuple[tn.World, Any]) -> dict[str, set[tuple[Any, ...]]]:
    w, admin = world
    return in_request(conn, nothing_more, scope=own(admin, w.a))


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


def _b_settings(w: tn.World) -> list[Message]:
    b = w.b
    return [
        f"SELECT set_config('well.workspace_pk', '{b.workspace[0]}', true)",
        f"SELECT set_config('well.person_pk', '{b.person[0]}', true)",
        f"SELECT set_config('well.workspace_connector_pks', '{b.workspace_connector[0]}', true)",
    ]


FORGERIES: dict[str, Attack] = {
    "the plain settings pointed at the other tenant": lambda w, _, __: _b_settings(w),
    "the principal kind set to service": lambda w, _, __: [
        "SELECT set_config('well.principal_kind', 'service', true)"
    ],
    "both, session-wide": lambda w, _, __: (
        [str(s).replace(", true)", ", false)") for s in _b_settings(w)]
        + ["SELECT set_config('well.principal_kind', 'service', false)"]
    ),
    "a signed scope whose fields were changed to the other tenant's, as a service": (
        lambda w, _, __: [
            "SELECT set_config('well.scope', concat_ws('.', pg_backend_pid(), "
            "(extract(epoch FROM transaction_timestamp()) * 1000000)::bigint, "
            f"{w.b.workspace[0]}, {w.b.person[0]}, 'service', '{w.b.workspace_connector[0]}', "
            "split_part(current_setting('well.scope'), '.', 7)), true)"
        ]
    ),
    "RESET ALL": lambda w, _, __: ["RESET ALL"],
    "the scope reset": lambda w, _, __: ["RESET well.scope"],
    # set_scope takes the person and the kind from the transaction's proof: A's member, who is
    # no member of the other tenant's workspace.
    "set_scope again for the other tenant's workspace": lambda w, _, __: [
        [scope_statement(w.b.workspace[1])]
    ],
}


PROVE_SCOPE = "CALL core_api.prove_scope($1)"


def _altered(statement: BoundStatement, old: str, new: str) -> BoundStatement:
    """A proof's statement with ``old`` replaced by ``new`` in its proof, and only there."""
    assert statement.text == PROVE_SCOPE
    (proof,) = statement.values
    assert old in proof
    return BoundStatement(statement.text, (proof.replace(old, new, 1),))


def _last_digit_changed(proof: str) -> str:
    """The proof with its MAC's last hex digit changed (a fixed "0" would be no change in one
    transaction in sixteen, whose MAC ends in 0)."""
    return proof[:-1] + ("1" if proof.endswith("0") else "0")


def _proof(admin: Any, w: tn.World, moment: str) -> BoundStatement:
    """The proof's statement of A's own token, made at ``moment``."""
    return own(admin, w.a).prove(moment)


# Proofs made for the request's own moment, after its own scope opened: each is A's,
# naming the other tenant's workspace, or altered to claim more.
PROVEN_FORGERIES: dict[str, Attack] = {
    "a proof of the own token for the other tenant's workspace": lambda w, admin, moment: [
        [_proof(admin, w, moment), scope_statement(w.b.workspace[1])]
    ],
    "a proof of the own token with the kind changed to service": lambda w, admin, moment: [
        [
            _altered(_proof(admin, w, moment), ".member.", ".service."),
            scope_statement(w.b.workspace[1]),
        ]
    ],
    "a proof of the own token with the person changed to the other tenant's": (
        lambda w, admin, moment: [
            [
                _altered(_proof(admin, w, moment), f"p2.{w.a.person[0]}.", f"p2.{w.b.person[0]}."),
                scope_statement(w.b.workspace[1]),
            ]
        ]
    ),
}


def _assert_no_more_than_own(found: Any, allowed: Any, w: tn.World) -> None:
    assert_within(found, allowed, w)
    # Nothing of the other tenant's own rows, whatever the rule.
    assert (w.b.provenance["account_workspace_connectors"][0],) not in found[
        "account_workspace_connectors"
    ]
    assert (w.b.selection[0],) not in found["workspace_providers"]


@pytest.mark.parametrize("forgery", {**FORGERIES, **PROVEN_FORGERIES})
def test_a_forged_scope_shows_no_more_than_the_request_own_scope(api_conn, world, forgery):
    w, admin = world
    allowed = own_scope(api_conn, world)
    attack = {**FORGERIES, **PROVEN_FORGERIES}[forgery]

    found = in_request(api_conn, lambda c: attack(w, admin, c), scope=own(admin, w.a))

    _assert_no_more_than_own(found, allowed, w)


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forgery_inside_the_proven_message_shows_no_more_than_its_scope(api_conn, world, forgery):
    """Injected into the request's own text, after its proof and its scope."""
    w, admin = world
    allowed = own_scope(api_conn, world)
    attack = FORGERIES[forgery]

    found = in_request(
        api_conn, lambda c: attack(w, admin, c), scope=own(admin, w.a), injected=True
    )

    _assert_no_more_than_own(found, allowed, w)


def _signed_by_owner(admin: Any, body: str) -> str:
    return f"{body}.{admin.run('SELECT well_private.mac(:m)', m='token|' + body)[0][0]}"


def _opened_by(scope_token: str, w: tn.World, moment: str) -> list[BoundStatement]:
    """A proof of the token made at ``moment``, then a scope of A's workspace."""
    return [scope_opening(scope_token, moment), scope_statement(w.a.workspace[1])]


# Just outside the time a proof is believed, either side.
TOO_OLD = -(PROOF_SECONDS + 1)
TOO_EARLY = PROOF_AHEAD_SECONDS + 1


def _kept_by_hand(proof: BoundStatement) -> list[BoundStatement]:
    """The proof's value kept in ``well.proof`` by ``set_config``, not by ``prove_scope``."""
    return [BoundStatement("SELECT set_config('well.proof', $1, true)", proof.values)]


def _own(w: tn.World) -> list[BoundStatement]:
    return [scope_statement(w.a.workspace[1])]


NO_SCOPE: dict[str, Attack] = {
    "no scope at all": lambda w, admin, moment: [],
    "set_scope without a proof": lambda w, admin, moment: [[scope_statement(w.a.workspace[1])]],
    "an expired token, correctly signed": lambda w, admin, moment: [
        _opened_by(_signed_by_owner(admin, f"t1.{w.a.person[0]}.member.1700000000"), w, moment)
    ],
    "a token signed with another key": lambda w, admin, moment: [
        _opened_by(f"t1.{w.a.person[0]}.service.9999999999." + "0" * 64, w, moment)
    ],
    # prove_scope refuses these aloud (test below); kept by hand, set_scope believes neither.
    "a valid proof made longer ago than a proof is believed, kept as the setting by hand": (
        lambda w, admin, _: [_kept_by_hand(_proof(admin, w, moment_from_now(TOO_OLD))), _own(w)]
    ),
    "a valid proof made further ahead than the server's clock, kept as the setting by hand": (
        lambda w, admin, _: [_kept_by_hand(_proof(admin, w, moment_from_now(TOO_EARLY))), _own(w)]
    ),
    # Accepted, either would open a scope with rows: A's workspace as a service, B's as B.
    "a valid proof with the kind changed to service": lambda w, admin, moment: [
        [
            _altered(_proof(admin, w, moment), ".member.", ".service."),
            scope_statement(w.a.workspace[1]),
        ]
    ],
    "a valid proof with the person changed to the other tenant's": lambda w, admin, moment: [
        [
            _altered(_proof(admin, w, moment), f"p2.{w.a.person[0]}.", f"p2.{w.b.person[0]}."),
            scope_statement(w.b.workspace[1]),
        ]
    ],
    "a valid proof kept as the setting by hand, then altered": lambda w, admin, moment: [
        [
            BoundStatement(
                "SELECT set_config('well.proof', $1, true)",
                (_last_digit_changed(_proof(admin, w, moment).values[0]),),
            )
        ],
        [scope_statement(w.a.workspace[1])],
    ],
    # A scope signed with a key of one's own in a temporary table named like the real one:
    # no role may make a temporary table (test_session_wall.py).
    "a made-up scope setting": lambda w, admin, moment: [
        f"SELECT set_config('well.scope', '1.1.{w.b.workspace[0]}.{w.b.person[0]}.service..ff', "
        "true)",
        *_b_settings(w),
    ],
}


@pytest.mark.parametrize("attempt", NO_SCOPE)
def test_without_a_valid_scope_nothing_is_visible(api_conn, world, attempt):
    w, admin = world
    attack = NO_SCOPE[attempt]

    found = in_request(api_conn, lambda c: attack(w, admin, c), scope=None)

    assert found == {table: set() for table in SEEN}


def test_a_requests_message_opens_its_scope_only_while_its_proof_is_believed(
    api_conn, world, database
):
    """A request's message, its proof bound as the API sent it, sent again on the same
    connection or another, in any opening: made longer ago than a proof is believed, or
    further ahead than the server's clock, ``prove_scope`` refuses it aloud (SQLSTATE WP002,
    which the API answers 503) and nothing is seen; made now, it opens its own scope (whoever
    holds the bound value holds the proof for ``PROOF_SECONDS``: no text an application role
    reads holds it, ``test_credential_harvest.py``)."""
    w, admin = world
    allowed = own_scope(api_conn, world)
    assert (w.a.workspace[0],) in allowed["workspaces"]

    def message(seconds: float) -> list[BoundStatement]:
        return [own(admin, w.a).prove(moment_from_now(seconds)), scope_statement(w.a.workspace[1])]

    def sent(conn: Any, opening: list[BoundStatement], seconds: float) -> Any:
        try:
            scope_row = send(conn, [*opening, *message(seconds)])[0]
        except pg8000.exceptions.DatabaseError as error:
            conn.run("ROLLBACK")
            return error.args[0]["C"], seen(conn)
        try:
            return scope_row, seen(conn)
        finally:
            conn.run("ROLLBACK")

    other = local_db.admin_connection(database.url_for(API_ROLE))
    openings = ([], [fixed("BEGIN")], [BEGIN, SETTINGS])
    try:
        fresh = [sent(conn, o, 0) for conn in (api_conn, other) for o in openings[1:]]
        stale = [
            sent(conn, o, seconds)
            for seconds in (TOO_OLD, TOO_EARLY)
            for conn in (api_conn, other)
            for o in openings
        ]
    finally:
        other.close()

    assert fresh == [([w.a.workspace[0], w.a.person[0]], allowed)] * 4
    nothing = {table: set() for table in SEEN}
    assert stale == [(PROOF_OUT_OF_TIME, nothing)] * 12


def test_a_scope_signed_in_another_transaction_opens_nothing(api_conn, world):
    w, admin = world
    own(admin, w.a).open(api_conn)
    signed = api_conn.run("SELECT current_setting('well.scope')")[0][0]
    # Kept for the session as well: the next request's transaction inherits it.
    api_conn.run("SELECT set_config('well.scope', :s, false)", s=signed)
    api_conn.run("COMMIT")

    replayed = in_request(
        api_conn,
        lambda _: [f"SELECT set_config('well.scope', {literal(signed)}, true)"],
        scope=None,
    )
    inherited = in_request(api_conn, nothing_more, scope=None)

    assert replayed == inherited == {table: set() for table in SEEN}


def test_a_forged_scope_writes_no_row_of_another_tenant(api_conn, world):
    w, admin = world
    try:
        own(admin, w.a).open(api_conn)
        for statement in FORGERIES["both, session-wide"](w, admin, ""):
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
    "prove a key": "CALL core_api.prove_key('k2.aaaaaaaaaaaa.' || repeat('0', 64))",
    "sign a token": "SELECT well_private.scope_token(1, 'service')",
    "sign anything": "SELECT well_private.mac('token|t1.1.service.9999999999')",
    "read the signing key": "SELECT * FROM well_private.scope_keys",
    "read the stored responses of retried creates": "SELECT * FROM well_private.idempotency_keys",
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
