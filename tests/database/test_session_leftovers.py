"""No request inherits what SQL left in its session (docs/tenancy.md).

The threat: SQL running as an application role (``well_api``, ``well_auth``, ``well_sync``,
``well_drain``) on the connection a warm execution environment reuses for every tenant. Each
test plants state on the environment's own connection of every role (``get_pool(role)``), then
serves a fixed piece of every worker's work through the real handlers: the authorizer, reads
(List with include, Retrieve, related routes, the changes feed), writes (create, update,
removal of a selection, an enrolment), a sync batch from an SQS event, the sweeper and the
drainer (moto's EventBridge). Every answer and every row written must be what the same work
gives on fresh connections (``baseline``), compared normalised (``tests.support.leftovers``):

- temporary objects are refused to every role; a spy planted in the temporary schema (domains
  shadowing ``text``, ``uuid`` and ``jsonb`` whose check copies each value into a temporary
  table) sees nothing;
- every setting a role may change (``pg_settings`` where ``context = 'user'``, enumerated on
  the server at test time) at each of its hostile values, planted with ``SET``, with
  ``set_config(..., false)`` and as the role's own default (``ALTER ROLE CURRENT_USER IN
  DATABASE ... SET``, then new connections), grouped in profiles; the most dangerous alone;
  the settings the schema's functions read (``well.*``);
- prepared statements, cursors held open, ``LISTEN``, session advisory locks; statements
  prepared by SQL under the names the connection keeps ours under, ours deallocated;
- stalls: idle sessions of each role, their own timeouts (and their role's) off, holding
  advisory locks, rows or whole tables the sync writer, the sweeper and the drainer need, or
  a transaction that holds the drainer's horizon back: the work gets done, and the offending
  backends are ended.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import leftovers as lo
from tests.support import majors
from tests.support import stalls as st
from tests.support.cross_tenant import authorize
from tests.support.transaction_settings import (
    declare_role_settings,
    declared_role_defaults,
    differing_settings,
    redeclare,
)
from wellapi.roles import API_ROLE, APP_ROLES
from wellapi.store import connections as db
from wellapi.store import notices
from wellapi.sync.drainer import DRAIN_LOCK
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")


@pytest.fixture(autouse=True)
def fresh_pools() -> Iterator[None]:
    """Every test starts as a new execution environment, and leaves nothing planted behind."""
    db.reset_pools()
    yield
    db.reset_pools()


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[lo.Bus]:
    """Moto's EventBridge bus the drainer publishes to, a queue reading every event."""
    for name, value in lo.AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with lo.moto_bus() as made:
        yield made


@pytest.fixture
def role_defaults(admin: pg8000.native.Connection) -> Iterator[None]:
    """The application roles' own defaults, put back as they were after the test."""
    kept = lo.role_settings(admin)
    yield
    lo.restore_role_settings(admin, kept)


BASELINE: dict[str, Any] = {}


@pytest.fixture
def baseline(admin: pg8000.native.Connection, bus: lo.Bus) -> dict[str, Any]:
    """The work served on fresh connections, nothing planted (once per module: a world's
    answers normalised do not depend on which world it was)."""
    if not BASELINE:
        BASELINE.update(lo.serve(admin, bus))
        db.reset_pools()
    return BASELINE


def assert_served_alike(
    expected: dict[str, Any], served: dict[str, Any], planted: str = ""
) -> None:
    found = lo.differences(expected, served)
    assert not found, "\n".join(
        [
            f"{planted}: {len(found)} differences from fresh connections; the steps' outcomes:",
            *lo.differences(lo.outcomes(expected), lo.outcomes(served)),
            "every difference:",
            *found[:40],
        ]
    )


# ---- temporary objects ---------------------------------------------------------------------

TEMPORARY_OBJECTS = {
    "table": "CREATE TEMP TABLE spy_table (v pg_catalog.text)",
    "view": "CREATE TEMP VIEW spy_view AS SELECT 1 AS one",
    "sequence": "CREATE TEMP SEQUENCE spy_sequence",
    "type": "CREATE TYPE pg_temp.spy_type AS (v pg_catalog.text)",
    "enum": "CREATE TYPE pg_temp.spy_enum AS ENUM ('a')",
    "domain over text": "CREATE DOMAIN pg_temp.text AS pg_catalog.text",
    "domain over uuid": "CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid",
    "function": "CREATE FUNCTION pg_temp.spy(v pg_catalog.text) RETURNS pg_catalog.bool "
    "LANGUAGE sql AS 'SELECT true'",
    "operator": "CREATE OPERATOR pg_temp.=== (LEFTARG = pg_catalog.text, "
    "RIGHTARG = pg_catalog.text, FUNCTION = pg_catalog.texteq)",
}


@pytest.mark.parametrize("kind", TEMPORARY_OBJECTS)
def test_no_application_role_may_create_a_temporary_object(kind):
    made = {role: lo.refused(role, TEMPORARY_OBJECTS[kind]) for role in APP_ROLES}
    assert made == dict.fromkeys(APP_ROLES, "42501"), f"SQLSTATE per role (None: created): {made}"


# The attack: values of the shadowed types pass a check that copies them out.
SPY = (
    "CREATE TEMP TABLE loot (v pg_catalog.text)",
    "CREATE FUNCTION pg_temp.spy(v pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE sql "
    "AS 'INSERT INTO pg_temp.loot VALUES (v) RETURNING true'",
    "CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.spy(VALUE))",
    "CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (pg_temp.spy(VALUE::pg_catalog.text))",
    "CREATE DOMAIN pg_temp.jsonb AS pg_catalog.jsonb CHECK (pg_temp.spy(VALUE::pg_catalog.text))",
)


def plant_spies(admin: pg8000.native.Connection, planted: dict[str, bool]) -> lo.Plant:
    # Empty tables named as the schema's: a name resolved through the search path finds them.
    shadows = [
        f"CREATE TEMP TABLE {name} ()"
        for (name,) in admin.run("SELECT tablename FROM pg_tables WHERE schemaname = 'core_api'")
    ]

    def spy(world: lo.World) -> None:
        for role in APP_ROLES:
            planted[role] = all(lo.refused(role, sql) is None for sql in (*SPY, *shadows))

    return spy


def loot(role: str) -> list[str]:
    """What the spy copied on ``role``'s connection (nothing when its table is gone)."""
    with db.get_pool(lo.POOLS[role]).connection() as connection:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT to_regclass('pg_temp.loot') IS NOT NULL")
            if not cursor.fetchall()[0][0]:
                return []
            cursor.execute("SELECT v FROM pg_temp.loot")
            return [str(r[0]) for r in cursor.fetchall()]
        finally:
            cursor.close()


def test_a_spy_in_the_temporary_schema_sees_nothing_the_work_after_it_handles(admin, bus, baseline):
    planted: dict[str, bool] = {}
    served = lo.serve(admin, bus, plant_spies(admin, planted))

    seen = {role: loot(role) for role in APP_ROLES}
    assert seen == {role: [] for role in APP_ROLES}, {
        role: f"planted={planted[role]}, copied {len(values)} values, e.g. {values[:5]}"
        for role, values in seen.items()
    }
    assert_served_alike(baseline, served, "a spy in pg_temp")


# ---- settings ------------------------------------------------------------------------------

# The ways a role plants a setting: for its session, or as its own default for every session
# it opens after (a new environment's).
ROLE_DEFAULT = "ALTER ROLE IN DATABASE"
METHODS = ("SET", "set_config", ROLE_DEFAULT)


# Timers a session's own value (1 ms) holds its next statements to: planted together, in one
# message and statement_timeout last, or a plant sent after them on a busy machine is itself
# cancelled, or its session ended, before the handlers ever see what was planted. Within the
# message, statement_timeout already holds the statement after it: one that took over 1 ms was
# cancelled, and with the profile's exit_on_error the session ended (a CI run's "network
# error").
#
# transaction_timeout set inside a transaction starts its timer there and then, so 1 ms would
# end the planting session itself whenever its commit and reply take longer (on a busy machine
# about one run in six). Set first to an hour, in the same transaction, its timer runs for that
# hour, and the second value only stays for the session's later transactions (PostgreSQL
# starts the timer only where none runs): an attacker's way of planting it every time.
ARMED_FIRST = {"transaction_timeout": "1h"}
TIMERS_LAST = (
    "idle_in_transaction_session_timeout",
    "lock_timeout",
    "transaction_timeout",
    "statement_timeout",
)


def plant_profile(settings: list[tuple[str, str]], method: str, database: str) -> lo.Plant:
    if method == ROLE_DEFAULT:
        statements = [lo.role_default_statement(database, n, v) for n, v in settings]
    else:
        written = lo.set_statement if method == "SET" else lo.set_config_statement
        timers = sorted(
            (t for t in settings if t[0] in TIMERS_LAST), key=lambda t: TIMERS_LAST.index(t[0])
        )
        statements = [written(n, v) for n, v in settings if n not in TIMERS_LAST]
        if timers:
            armed = [(n, ARMED_FIRST[n]) for n, _ in timers if n in ARMED_FIRST]
            statements.append(";".join(written(n, v) for n, v in armed + timers))

    def planting(world: lo.World) -> None:
        for role in APP_ROLES:
            if method == ROLE_DEFAULT:
                # What the database refuses a role as its own default is no plant of its.
                for statement in statements:
                    lo.refused(role, statement)
            else:
                lo.plant(role, *statements)
        if method == ROLE_DEFAULT:
            # The role's defaults reach every session it opens after: a new environment's.
            db.reset_pools()

    return planting


@pytest.mark.parametrize("method", METHODS)
def test_every_setting_a_role_may_change_at_each_hostile_value_changes_no_answer(
    admin, bus, baseline, database, method
):
    """Profile ``k`` sets every setting to its ``k``-th hostile value; the profiles are shared
    out among the three ways of planting, so that every value is planted one way. Each profile
    is planted on a new environment's connections, the roles' own defaults as they were."""
    settings = lo.user_settings(admin)
    kept = lo.role_settings(admin)
    try:
        for k in range(METHODS.index(method), lo.profiles_needed(settings), len(METHODS)):
            chosen = [
                (name, value)
                for name, value in lo.profile(settings, k)
                if method != ROLE_DEFAULT or name not in SESSION_START_TIMERS
            ]
            served = lo.serve(admin, bus, plant_profile(chosen, method, database.name))
            lo.restore_role_settings(admin, kept)
            db.reset_pools()
            assert_served_alike(baseline, served, f"profile {k} {chosen}")
    finally:
        lo.restore_role_settings(admin, kept)


@pytest.mark.parametrize("role", APP_ROLES)
def test_a_fresh_session_of_every_role_finds_no_compared_setting_different(database, role):
    """Nothing planted, the transaction's settings procedure compares once and sets nothing
    one by one (the socket settings, shown as the socket has them, are set, not
    compared; over TCP in ``tests/system/test_sam_local.py``)."""
    conn = local_db.admin_connection(database.url_for(role))
    try:
        assert differing_settings(conn) == []
    finally:
        conn.close()


SET_AGAIN = "a transaction found settings changed and set them again"


def _told(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(getattr(r, "settings", "")) for r in caplog.records if r.getMessage() == SET_AGAIN]


@pytest.mark.parametrize("role", APP_ROLES)
def test_a_transaction_that_sets_settings_again_names_them_in_one_warning_per_connection(
    caplog, role
):
    """Planted on a role's connection, the settings its next transactions set again
    (``core_api.set_transaction_settings()``) are named (names, never values), once for that
    connection; a fresh one says nothing."""
    pool = db.get_pool(lo.POOLS[role])
    with caplog.at_level(logging.WARNING, logger=notices.__name__):
        pool.run_in_transaction((), read_only=True)
        fresh = _told(caplog)
        lo.plant(role, "SET enable_seqscan = off", "SET work_mem = '77kB'")
        pool.run_in_transaction((), read_only=True)
        pool.run_in_transaction((), read_only=True)

    assert fresh == []
    assert _told(caplog) == ["set again for this transaction: enable_seqscan, work_mem"]
    assert "77kB" not in caplog.text


def test_the_owners_own_tools_that_run_the_procedure_are_told_nothing(admin):
    """The owner's connections (the CLI, the bench) run the same procedure with defaults of
    their own: it sets the settings again for their transactions, and says nothing."""
    admin.run("SET search_path = public")
    admin.run("BEGIN")
    try:
        admin.run("CALL core_api.set_transaction_settings()")
        inside = admin.run("SELECT current_setting('search_path')")[0][0]
    finally:
        admin.run("COMMIT")

    assert inside == "pg_catalog, pg_temp"
    assert [n for n in admin.notices if n.get(b"C") == notices.SETTINGS_SET_AGAIN] == []


def test_the_notice_the_procedure_raises_is_the_one_the_function_hears(admin):
    sqlstate = notices.SETTINGS_SET_AGAIN.decode("ascii")
    (body,) = admin.run(
        "SELECT prosrc FROM pg_proc WHERE oid = 'core_api.set_transaction_settings()'::regprocedure"
    )[0]

    assert f"USING ERRCODE = '{sqlstate}'" in body


# Timers that run from a session's start or a transaction's, before its message can set
# anything: as the role's own default, one below the cost of the message's first statements
# fails the role's requests, closed, as the test below shows (docs/tenancy.md, "The connection
# every tenant shares").
SESSION_START_TIMERS = frozenset({"statement_timeout", "transaction_timeout"})


@pytest.mark.parametrize("name", sorted(SESSION_START_TIMERS))
def test_a_timer_the_api_role_sets_as_its_own_default_fails_its_requests_closed(
    admin, database, role_defaults, name
):
    """Each request either fails closed (503) or, when its message's opening beat the 1 ms
    timer, answers as without it: never anything else."""
    if not majors.has_setting(admin, name):  # transaction_timeout before PostgreSQL 17
        assert lo.unrecognized_by_every_role(lo.role_default_statement(database.name, name, "1"))
        return
    world = lo.arrange(admin)
    claims = authorize(world.key)
    unplanted = lo.reads(world, claims)
    lo.plant(API_ROLE, lo.role_default_statement(database.name, name, "1"))
    db.reset_pools()

    answers = lo.reads(world, claims)

    refused = {step: a for step, a in answers.items() if a != unplanted[step]}
    assert {a["status"] for a in refused.values()} <= {503}, refused
    assert {a["body"]["errors"][0]["code"] for a in refused.values()} <= {"SERVICE_UNAVAILABLE"}


# The most dangerous settings, each planted alone by every role (a profile would hide which),
# for the session or as the role's own default for the sessions it opens after.
DANGEROUS = [
    ("SET", "statement_timeout", "1"),
    ("SET", "transaction_timeout", "1"),
    ("SET", "idle_in_transaction_session_timeout", "1"),
    ("SET", "idle_session_timeout", "1"),
    ("SET", "default_transaction_read_only", "on"),
    ("SET", "search_path", ""),
    ("SET", "client_encoding", "SQL_ASCII"),
    ("SET", "client_encoding", "LATIN1"),
    ("SET", "row_security", "off"),
    ("SET", "exit_on_error", "on"),
    (ROLE_DEFAULT, "default_transaction_read_only", "on"),
    (ROLE_DEFAULT, "row_security", "off"),
    (ROLE_DEFAULT, "client_encoding", "LATIN1"),
]


@pytest.mark.parametrize(
    ("method", "name", "value"), DANGEROUS, ids=[f"{m} {n}={v}" for m, n, v in DANGEROUS]
)
def test_a_dangerous_setting_set_by_every_role_changes_no_answer(
    admin, bus, baseline, database, role_defaults, method, name, value
):
    if not majors.has_setting(admin, name):  # transaction_timeout before PostgreSQL 17
        assert lo.unrecognized_by_every_role(lo.set_statement(name, value))
        return
    planting = plant_profile([(name, value)], method, database.name)
    assert_served_alike(baseline, lo.serve(admin, bus, planting), f"{method} {name}={value}")


def plant_custom_settings(admin: pg8000.native.Connection) -> lo.Plant:
    """The settings the schema's functions read, for the session, naming another tenant."""

    def planting(world: lo.World) -> None:
        other = f.tenant(admin)
        forged = {
            "well.workspace_pk": str(other.workspace_pk),
            "well.person_pk": str(other.person_pk),
            "well.principal_kind": "service",
            "well.workspace_connector_pks": str(other.workspace_connector_pk),
            "well.scope": f"1.1.{other.person_pk}.service.{other.workspace_pk}.1.forged",
            "well.proof": "p1.1.service.1.forged",
            "well.change": '{"actor": "sync", "occurred_at": "2000-01-01T00:00:00Z", '
            '"sync_run_id": "forged", "message_key": "forged"}',
        }
        for role in APP_ROLES:
            lo.plant(role, *(lo.set_config_statement(n, v) for n, v in forged.items()))

    return planting


def test_the_settings_the_schema_reads_planted_for_the_session_change_no_answer(
    admin, bus, baseline
):
    served = lo.serve(admin, bus, plant_custom_settings(admin))
    assert_served_alike(baseline, served, "the well.* settings for the session")


# ---- other session state -------------------------------------------------------------------


def plant_session_state(admin: pg8000.native.Connection) -> lo.Plant:
    """Prepared statements, a cursor held past its transaction, a channel listened to and
    notified, and shared session advisory locks on the drainer's and the connectors' keys."""

    def planting(world: lo.World) -> None:
        keys = (DRAIN_LOCK, world.tenant.workspace_connector_pk, world.revoked_connector_pk)
        for role in APP_ROLES:
            lo.plant(
                role,
                "PREPARE spy_statement AS SELECT 1",
                "PREPARE pg8000_statement_0 AS SELECT 2",
                "BEGIN",
                "DECLARE spy_cursor CURSOR WITH HOLD FOR SELECT generate_series(1, 1000)",
                "COMMIT",
                "LISTEN spy_channel",
                *(f"SELECT pg_advisory_lock_shared({key})" for key in keys),
            )
        admin.run("NOTIFY spy_channel, 'spy'")

    return planting


def test_prepared_statements_cursors_listeners_and_session_locks_change_no_answer(
    admin, bus, baseline
):
    served = lo.serve(admin, bus, plant_session_state(admin))
    assert_served_alike(baseline, served, "PREPARE, a cursor WITH HOLD, LISTEN, advisory locks")


def plant_under_our_names(subverted: dict[str, int]) -> lo.Plant:
    """On each role's warm connection, SQL's own statement under every name it keeps ours."""

    def planting(world: lo.World) -> None:
        for role in APP_ROLES:
            subverted[role] = lo.subvert_names(role)

    return planting


def test_statements_planted_under_the_names_of_ours_change_no_answer(admin, bus, baseline):
    lo.serve(admin, bus)  # the work once: every role's connection keeps its statements named
    subverted: dict[str, int] = {}

    served = lo.serve(admin, bus, plant_under_our_names(subverted))

    assert all(subverted.values()), f"names subverted per role: {subverted}"
    assert_served_alike(baseline, served, "DEALLOCATE and PREPARE under our names")


# ---- stalls --------------------------------------------------------------------------------


@pytest.fixture
def short_role_timeouts(admin: pg8000.native.Connection) -> Iterator[None]:
    """The smallest timeouts the roles' own work allows, so the bound is short: declared as
    the roles' settings, then the transactions' settings and the stall bounds written from
    them (the declaration put back after the test)."""
    declared = declared_role_defaults(admin)
    declare_role_settings(admin, APP_ROLES, st.ROLE_TIMEOUTS)
    yield
    redeclare(admin, declared)


@pytest.mark.parametrize("offence", st.OFFENCES)
def test_idle_sessions_holding_what_the_workers_need_are_ended_and_the_work_gets_done(
    admin, bus, database, short_role_timeouts, offence
):
    admin.run("UPDATE core_api.change_records SET sent_at = now() WHERE sent_at IS NULL")
    world = lo.arrange(admin)
    offenders = [st.offender(database, role) for role in st.ROLES]
    try:
        for o in offenders:
            st.OFFENCES[offence](o, world)
        # A lock the database refuses a role is no offence of that role's.
        holding = [o for o in offenders if o.held]
        work = st.Work(admin, bus, world)

        work.until_done()

        report = st.report(admin, work, holding)
        assert work.done == {"sync": True, "sweep": True, "drain": True}, report
        assert all(st.ended(admin, holding).values()), report
    finally:
        st.close(offenders)
