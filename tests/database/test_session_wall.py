"""What SQL running as an application role can leave for later requests, and say.

The roles make no object of their own (no temporary object, nothing in any schema); every
security-definer function resolves its names in its own schemas, ``pg_temp`` last; no role
can update a column of a junction row that its change record pairs old and new by, nor make
a change the records misdescribe; and no security-definer function a role may call answers
about another tenant. What a role's session may leave behind (settings, its own defaults,
locks) is in ``test_session_leftovers.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pg8000.exceptions
import pg8000.native
import pytest

from tests.support import tenancy as tn
from tests.support.proven import SignedScope
from wellapi.jsonapi.ids import id_at
from wellapi.roles import API_ROLE, APP_ROLES, SYNC_ROLE
from welldev import database as local_db
from welldev.claims import claims

pytestmark = pytest.mark.usefixtures("api_database")

INSUFFICIENT_PRIVILEGE = "42501"
UNIQUE_VIOLATION = "23505"
ID_USED = "WI409"


def _sqlstate(error: BaseException) -> str | None:
    args = getattr(error, "args", ())
    return str(args[0].get("C")) if args and isinstance(args[0], dict) else None


@pytest.fixture(scope="module")
def world(database: local_db.LocalDatabase) -> Iterator[tuple[tn.World, Any]]:
    admin = local_db.admin_connection(database.admin_url)
    try:
        yield tn.world(admin), admin
    finally:
        admin.close()


@pytest.fixture
def as_role(database: local_db.LocalDatabase) -> Iterator[Callable[[str], Any]]:
    opened: list[Any] = []

    def connect(role: str) -> Any:
        opened.append(local_db.admin_connection(database.url_for(role)))
        return opened[-1]

    yield connect
    for conn in opened:
        conn.close()


# --- no object of a role's own ------------------------------------------------------------------

OWN_OBJECTS = (
    "CREATE TEMP TABLE spy (id uuid)",
    "CREATE TEMP VIEW spy AS SELECT 1",
    "CREATE DOMAIN pg_temp.text AS pg_catalog.text",
    "CREATE TYPE pg_temp.spy AS (x int)",
    "CREATE FUNCTION pg_temp.spy() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE TABLE public.spy (id int)",
    "CREATE SCHEMA spy",
)


@pytest.mark.parametrize("statement", OWN_OBJECTS)
@pytest.mark.parametrize("role", APP_ROLES)
def test_no_application_role_makes_an_object_of_its_own(as_role, role, statement):
    conn = as_role(role)

    with pytest.raises(pg8000.exceptions.DatabaseError) as refused:
        conn.run(statement)

    assert _sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE


def test_no_application_role_may_create_in_any_schema_or_temporarily(admin):
    granted = admin.run(
        "SELECT r.rolname, n.nspname FROM pg_roles r CROSS JOIN pg_namespace n "
        "WHERE r.rolname = ANY (:roles) AND has_schema_privilege(r.oid, n.oid, 'CREATE') "
        "UNION ALL SELECT r.rolname, 'TEMPORARY' FROM pg_roles r "
        "WHERE r.rolname = ANY (:roles) "
        "AND has_database_privilege(r.oid, current_database(), 'TEMPORARY')",
        roles=list(APP_ROLES),
    )

    assert granted == []


# --- names resolve where they were meant to -----------------------------------------------------


def test_every_security_definer_function_searches_its_own_schemas_and_pg_temp_last(admin):
    rows = admin.run(
        "SELECT p.oid::regprocedure::text, (SELECT c FROM unnest(p.proconfig) c "
        "WHERE c LIKE 'search_path=%') FROM pg_proc p JOIN pg_namespace n "
        "ON n.oid = p.pronamespace WHERE n.nspname IN ('core_api', 'well_private') "
        "AND p.prosecdef"
    )

    assert rows
    unpinned = [name for name, path in rows if not (path and path.endswith(", pg_temp"))]
    assert unpinned == []


def test_every_plain_sql_function_a_role_may_call_is_resolved_when_it_was_created(admin):
    # A SQL function with a text body resolves its names at every call, on the caller's path.
    rows = admin.run(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        "WHERE p.pronamespace = 'core_api'::regnamespace AND l.lanname = 'sql' "
        "AND NOT p.prosecdef AND p.prosqlbody IS NULL AND NOT EXISTS ("
        "  SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%, pg_temp') "
        "AND EXISTS (SELECT FROM pg_roles r WHERE r.rolname = ANY (:roles) "
        "  AND has_function_privilege(r.oid, p.oid, 'EXECUTE'))",
        roles=list(APP_ROLES),
    )

    assert rows == []


# --- every change leaves its record, for every role ---------------------------------------------

# What each role may change of a junction row, and why its record still says what happened:
# a removal or a flag (the recorders, ``core_api.record_<junction>()``, pair rows by pk, and
# neither moves), a ledger's direction (a trigger refuses any change), updated_at (no record
# describes it).
UPDATABLE = {
    (API_ROLE, table): {"direction", "updated_at", "deleted_at"} for table in tn.PROVENANCE
} | {
    (API_ROLE, "workspace_group_workspaces"): {"updated_at", "deleted_at"},
    (API_ROLE, "workspace_providers"): {"is_selected", "is_matched", "updated_at", "deleted_at"},
    **{(SYNC_ROLE, table): {"deleted_at"} for table in tn.PROVENANCE},
}


def _columns(admin: Any, table: str) -> list[str]:
    rows = admin.run(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        t=f"core_api.{table}",
    )
    return [str(r[0]) for r in rows]


@pytest.mark.parametrize("table", tn.JUNCTIONS)
@pytest.mark.parametrize("role", APP_ROLES)
def test_a_role_updates_only_the_columns_a_record_describes_truly(as_role, admin, role, table):
    conn = as_role(role)
    answers = {}
    for column in _columns(admin, table):
        conn.run("BEGIN")
        try:
            conn.run(f"UPDATE core_api.{table} SET {column} = {column} WHERE false")
            answers[column] = "updated"
        except pg8000.exceptions.DatabaseError as refused:
            answers[column] = _sqlstate(refused) or "?"
        finally:
            conn.run("ROLLBACK")

    allowed = UPDATABLE.get((role, table), set())
    assert answers == {c: "updated" if c in allowed else INSUFFICIENT_PRIVILEGE for c in answers}


def test_the_sync_role_cannot_move_a_ledger_row_while_removing_it(as_role, world):
    w, _ = world
    conn = as_role(SYNC_ROLE)
    pk = w.a.provenance["account_workspace_connectors"][0]

    with pytest.raises(pg8000.exceptions.DatabaseError) as refused:
        conn.run(
            "UPDATE core_api.account_workspace_connectors SET pk = pk + 1000000, "
            "deleted_at = now() WHERE pk = :pk",
            pk=pk,
        )

    assert _sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE


# --- a security-definer function says nothing of another tenant ---------------------------------


def _answer(conn: Any, scope: SignedScope, sql: str, **params: Any) -> Any:
    """What ``sql`` answers (or the SQLSTATE it fails with) in a request of ``scope``."""
    try:
        scope.open(conn)
        return ("rows", conn.run(sql, **params))
    except pg8000.exceptions.DatabaseError as error:
        return ("error", _sqlstate(error))
    finally:
        conn.run("ROLLBACK")


def _calls(w: tn.World) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """Per function the API role may call with arguments: the call, another tenant's values
    (tenant B's, asked by A's member) and values nobody has."""
    b, nobody, missing = w.b, 2**62, uuid.uuid4()
    calls: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {}
    calls["core_api.may_enrol(bigint,bigint)"] = (
        "SELECT core_api.may_enrol(:g, :w)",
        {"g": b.group[0], "w": b.workspace[0]},
        {"g": nobody, "w": nobody},
    )
    calls["core_api.set_scope(uuid)"] = (
        "SELECT * FROM core_api.set_scope(CAST(:w AS uuid))",
        {"w": str(b.workspace[1])},
        {"w": str(missing)},
    )
    for parent, column in (("peoples", "person"), ("workspaces", "workspace")):
        calls[f"core_api.check_client_id(regclass,uuid) of {parent}"] = (
            f"SELECT core_api.check_client_id('core_api.{parent}', CAST(:id AS uuid))",
            {"id": str(getattr(b, column)[1])},
            {"id": str(missing)},
        )
    calls["core_api.claim_idempotency_key(text,text)"] = (
        "SELECT replayed, answer_status FROM core_api.claim_idempotency_key(:k, 'f')",
        {"k": f"b-{w.b.workspace[1]}"},
        {"k": f"nobody-{missing}"},
    )
    calls["core_api.remember_idempotent_answer(text,regclass,jsonb)"] = (
        # The answer it keeps is the read it was given; what it says of the rows is the status.
        "SELECT answer_status FROM core_api.remember_idempotent_answer(:k, "
        "'core_api.workspace_providers', "
        "CAST(:read AS jsonb))",
        {"k": "k", "read": f'{{"rows": [[[2950, "{b.selection[1]}"]]], "created": false}}'},
        {"k": "k", "read": f'{{"rows": [[[2950, "{missing}"]]], "created": false}}'},
    )
    # The archived period of an id: the id's time alone decides, whoever's row it names (an id
    # of the same millisecond that no row has).
    ledger = "account_workspace_connectors"
    row = b.provenance[ledger][1]
    calls["core_api.archived_period_of(text,uuid)"] = (
        "SELECT starts_at, ends_at FROM core_api.archived_period_of(:l, CAST(:id AS uuid))",
        {"l": ledger, "id": str(row)},
        {"l": ledger, "id": str(id_at(uuid.UUID(str(row)).int >> 80))},
    )
    # Where a ledger's kept rows begin: of the ledger, no tenant's (a ledger no tenant has).
    calls["core_api.archived_before(text)"] = (
        "SELECT core_api.archived_before(:l)",
        {"l": ledger},
        {"l": "no_workspace_connectors"},
    )
    return calls


def _b_claims_its_key(admin: Any, w: tn.World, as_role: Callable[[str], Any]) -> None:
    """Tenant B keeps an answer under the key the test then asks with as A."""
    b_scope = SignedScope(
        claims(admin, w.b.person[1], w.b.workspace[1], "member")["scope_token"], w.b.workspace[1]
    )
    conn = as_role(API_ROLE)
    b_scope.open(conn)
    conn.run("SELECT * FROM core_api.claim_idempotency_key(:k, 'f')", k=f"b-{w.b.workspace[1]}")
    conn.run("COMMIT")


def test_every_security_definer_function_answers_another_tenants_ids_as_nobodys(
    admin, as_role, world
):
    w, _ = world
    _b_claims_its_key(admin, w, as_role)
    a_scope = SignedScope(
        claims(admin, w.a.person[1], w.a.workspace[1], "member")["scope_token"], w.a.workspace[1]
    )
    conn = as_role(API_ROLE)
    calls = _calls(w)

    callable_with_arguments = {
        str(r[0])
        for r in admin.run(
            "SELECT p.oid::regprocedure FROM pg_proc p WHERE p.prosecdef AND p.pronargs > 0 "
            "AND p.pronamespace = 'core_api'::regnamespace "
            "AND has_function_privilege(:role, p.oid, 'EXECUTE')",
            role=API_ROLE,
        )
    }
    # check_client_id is asked of the parents here, and of the junctions below.
    assert {name.split(" of ")[0] for name in calls} | {
        "core_api.check_client_id(regclass,uuid)"
    } == callable_with_arguments
    for name, (sql, theirs, nobodys) in calls.items():
        assert _answer(conn, a_scope, sql, **theirs) == _answer(conn, a_scope, sql, **nobodys), name


def test_a_client_id_check_tells_of_another_tenants_row_what_inserting_it_tells(
    admin, as_role, world
):
    """An id is unique across tenants, so a create is refused an id another tenant's row
    carries (JSON:API: 409): the check says of it what the caller's own insert under that id
    says, and nothing of any table but the junctions a create may name an id for."""
    w, _ = world
    a_scope = SignedScope(
        claims(admin, w.a.person[1], w.a.workspace[1], "member")["scope_token"], w.a.workspace[1]
    )
    conn = as_role(API_ROLE)
    theirs = str(w.b.selection[1])

    checked = _answer(
        conn,
        a_scope,
        "SELECT core_api.check_client_id('core_api.workspace_providers', CAST(:id AS uuid))",
        id=theirs,
    )
    inserted = _answer(
        conn,
        a_scope,
        "INSERT INTO core_api.workspace_providers (workspace_provider_id, workspace_pk, "
        "provider_pk, is_selected, is_matched) VALUES (CAST(:id AS uuid), :w, :p, true, true)",
        id=theirs,
        w=w.a.workspace[0],
        p=w.free_provider[0],
    )

    assert checked == ("error", ID_USED)
    assert inserted == ("error", UNIQUE_VIOLATION)


# --- every setting a role may change, set by every transaction ------------------------------

# What a transaction names in its BEGIN, a role cannot become, or the client names itself.
NOT_SET = frozenset(
    {
        "transaction_isolation",
        "transaction_read_only",
        "transaction_deferrable",
        "role",
        "session_authorization",
        "application_name",
    }
)


@pytest.mark.parametrize("role", APP_ROLES)
def test_every_role_reads_the_transactions_settings_and_writes_none(admin, role):
    """What its transactions set again (test_rls's ``SETTINGS``): no tenant's data."""
    rights = admin.run(
        "SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', "
        "'REFERENCES', 'TRIGGER']) AS p "
        "WHERE has_table_privilege(:r, 'core_api.transaction_settings', p)",
        r=role,
    )
    assert rights == [["SELECT"]]


SESSION_COLUMNS = (
    "transaction_timeout",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "tcp_keepalives_count",
    "tcp_keepalives_idle",
    "tcp_keepalives_interval",
    "tcp_user_timeout",
)


@pytest.mark.parametrize("role", [*APP_ROLES, ""])
def test_every_setting_a_role_may_change_on_this_server_is_set_by_every_transaction(admin, role):
    """``core_api.set_transaction_settings()`` sets what its role's row of
    ``core_api.transaction_settings`` names: every setting a role may change."""
    ((names, *each),) = admin.run(
        "SELECT names, transaction_timeout, statement_timeout, "
        "idle_in_transaction_session_timeout, tcp_keepalives_count, tcp_keepalives_idle, "
        "tcp_keepalives_interval, tcp_user_timeout FROM core_api.transaction_settings "
        "WHERE role = :r",
        r=role,
    )
    settable = {str(r[0]) for r in admin.run("SELECT name FROM pg_settings WHERE context = 'user'")}
    # The timers and the socket's settings, a column each (transaction_timeout NULL without it).
    columns = (
        {*SESSION_COLUMNS} if each[0] is not None else {*SESSION_COLUMNS} - {"transaction_timeout"}
    )

    assert settable - NOT_SET - columns - set(names) == set()
    assert not columns & set(names)
