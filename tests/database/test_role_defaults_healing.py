"""No role can stop the healing of the roles' own defaults (docs/tenancy.md, "A role's own
defaults changed for its next sessions").

The threat: SQL running as an application role changes that role's own defaults, for this
database or every database, so that its new sessions fail (a library no login can load, a timer
below a transaction's first statement), and tries to keep them so: a default the healer could
not reset inside a security definer (``role``, ``session_authorization``), a catalog row held
by an ``ALTER ROLE`` not yet committed, the healers' own roles' defaults changed too, a default
planted before the deployment's settings were recorded, a role's transaction settings gone,
healers run at once. Each test plants, runs a scheduled function's handler as Lambda would (the
sweeper's or the drainer's: each logs in as ``well_heal`` beside its own role), then shows
requests answered as before the planting, the line that says so and the metric its alarm
watches (``RoleDefaultsSetBack``, ``RoleDefaultsNotSetBack``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pg8000.native
import pytest

from tests.support import leftovers as lo
from tests.support import majors
from tests.support.api import Lambda
from tests.support.cross_tenant import authorize
from tests.support.writes import wait_until_blocked
from wellapi.handlers import drain as drain_module
from wellapi.handlers import sweep as sweep_module
from wellapi.handlers.scheduled import scheduled_handler
from wellapi.roles import API_ROLE, APP_ROLES, AUTH_ROLE, DRAIN_ROLE, HEAL_ROLE, SYNC_ROLE
from wellapi.store import connections as db
from wellapi.store.sql import fixed
from wellapi.sync.role_defaults import restore_role_defaults
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

# A default no login of the role survives: every new session of it fails, deterministically.
NO_LOGIN = ("local_preload_libraries", "spy")
SCHEDULES = {"sweep": (sweep_module, "sync"), "drain": (drain_module, "drain")}


@pytest.fixture(autouse=True)
def fresh_pools() -> Iterator[None]:
    db.reset_pools()
    yield
    db.reset_pools()


@pytest.fixture(autouse=True)
def role_defaults(admin: pg8000.native.Connection) -> Iterator[None]:
    """The roles' own defaults and the recorded settings, put back as they were after the test."""
    kept = lo.role_settings(admin)
    yield
    lo.restore_role_settings(admin, kept)
    admin.run("SELECT well_private.record_settings()")


class Run:
    """What one handler invocation answered, and the lines it printed."""

    def __init__(self, answer: dict[str, Any], out: str) -> None:
        self.answer = answer
        self.lines = [json.loads(line) for line in out.splitlines() if line[:1] == "{"]

    def metric(self, name: str) -> list[float]:
        """The values the run reported of metric ``name`` (EMF: one line, a list of values)."""
        return [value for line in self.lines if name in line for value in line[name]]

    def said(self, start: str) -> list[Any]:
        return [line for line in self.lines if line.get("message", "").startswith(start)]


def run_schedule(
    capsys: pytest.CaptureFixture[str], schedule: str, job: Callable[..., dict[str, Any]]
) -> Run:
    module, role = SCHEDULES[schedule]
    capsys.readouterr()
    answer = scheduled_handler(role, module.logger, module.metrics, job)({}, Lambda())
    return Run(answer, capsys.readouterr().out)


def no_job(**_: Any) -> dict[str, Any]:
    return {}


def in_database(database: local_db.LocalDatabase, name: str, value: str) -> str:
    return lo.role_default_statement(database.name, name, value)


def timer(admin: pg8000.native.Connection) -> tuple[str, str]:
    """The timer that cuts a new session's first transaction short: transaction_timeout where
    the server has it (PostgreSQL 17 on), statement_timeout before."""
    name = (
        "transaction_timeout"
        if majors.has_setting(admin, "transaction_timeout")
        else "statement_timeout"
    )
    return name, "1"


@pytest.fixture
def requests(admin: pg8000.native.Connection) -> Callable[[], dict[str, Any]]:
    """The API's reads of one tenant (a List with includes, a Retrieve, a related route, the
    providers), on new connections each time: what a request answers once planted."""
    world = lo.arrange(admin)
    claims = authorize(world.key)

    def answered() -> dict[str, Any]:
        db.reset_pools()
        return lo.reads(world, claims)

    return answered


def refused(answers: dict[str, Any]) -> set[int]:
    return {answer["status"] for answer in answers.values()}


# ---- each default that acts before a transaction can set anything ------------------------------

# A role's own defaults that act before its transactions can set anything: a timer on its new
# sessions' first statements, one that ends its idle sessions, a library its logins load; and a
# declared list changed, set back as the list it was.
BEFORE_THE_TRANSACTION = [
    (API_ROLE, "statement_timeout", "1"),
    (API_ROLE, "transaction_timeout", "1"),
    (API_ROLE, "idle_session_timeout", "1"),
    (API_ROLE, "local_preload_libraries", "spy"),
    (AUTH_ROLE, "transaction_timeout", "1"),
    (SYNC_ROLE, "local_preload_libraries", "spy"),
    (SYNC_ROLE, "statement_timeout", "1"),
    (DRAIN_ROLE, "transaction_timeout", "1"),
    (DRAIN_ROLE, "local_preload_libraries", "spy"),
    (AUTH_ROLE, "search_path", "core_api, public"),
]
# The schedule whose function runs as the planted role, where one does: the healing does not
# need the function's own role.
OWN_SCHEDULE = {SYNC_ROLE: "sweep", DRAIN_ROLE: "drain"}


@pytest.mark.parametrize(
    ("role", "name", "value"),
    BEFORE_THE_TRANSACTION,
    ids=[f"{r} {n}={v}" for r, n, v in BEFORE_THE_TRANSACTION],
)
def test_a_roles_own_default_that_acts_before_its_transactions_is_set_back_and_said(
    admin, database, capsys, role, name, value
):
    """Planted, the role's new sessions may fail (closed); the next run of a schedule (the
    role's own, where it has one) sets it back, says which role and setting in an ERROR line
    and its metric, and the role's new sessions work as before; the run after sets nothing."""
    planted = in_database(database, name, value)
    if not majors.has_setting(admin, name):  # transaction_timeout before PostgreSQL 17
        assert lo.unrecognized_by_every_role(planted)
        return
    lo.plant(role, planted)
    db.reset_pools()
    schedule = OWN_SCHEDULE.get(role, "drain")

    run = run_schedule(capsys, schedule, no_job)

    assert run.answer == {"role_defaults_set_back": [f"{role}.{name}"]}
    said = run.said("an application role's own defaults")
    assert [(line["level"], line["settings"]) for line in said] == [("ERROR", [f"{role}.{name}"])]
    assert run.metric("RoleDefaultsSetBack") == [1]
    db.reset_pools()
    assert db.in_transaction([fixed("SELECT 1")], pool=db.get_pool(lo.POOLS[role])) == [[1]]
    assert run_schedule(capsys, schedule, no_job).metric("RoleDefaultsSetBack") == [0]


# Harmless to the other test workers, whose sessions see every database's defaults too: a
# setting that changes nothing they check, and the role set to itself.
EVERY_DATABASE = [("work_mem", "77kB"), ("role", None)]


@pytest.mark.parametrize("role", APP_ROLES)
@pytest.mark.parametrize(("name", "value"), EVERY_DATABASE, ids=[n for n, _ in EVERY_DATABASE])
def test_a_roles_own_default_for_every_database_is_set_back_too(admin, capsys, role, name, value):
    """``ALTER ROLE CURRENT_USER SET`` without ``IN DATABASE`` reaches the role's sessions in
    every database: set back alike. Another test worker's healer (the server's, every database's
    defaults are its too) may set it back first: then this run has nothing left to set back."""
    lo.plant(role, f"ALTER ROLE CURRENT_USER SET {name} = {lo.literal(value or role)}")

    run = run_schedule(capsys, OWN_SCHEDULE.get(role, "drain"), no_job)

    assert run.answer in ({"role_defaults_set_back": [f"{role}.{name}"]}, {})
    everywhere = admin.run(
        "SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
        "WHERE r.rolname = :r AND s.setdatabase = 0",
        r=role,
    )
    assert everywhere == [[0]]


# ---- defaults a security definer could not reset ----------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize(
    ("name", "value"), [("role", API_ROLE), ("session_authorization", "postgres")]
)
def test_role_or_session_authorization_planted_beside_a_harmful_default_is_set_back(
    admin, database, requests, capsys, schedule, name, value
):
    """``ALTER ROLE ... SET role`` (or ``session_authorization``) is accepted from the role
    itself; resetting it inside a security-definer function is refused (42501), and once
    stopped every other default stayed. The healer resets each as the role itself."""
    before = requests()
    lo.plant(API_ROLE, in_database(database, name, value), in_database(database, *NO_LOGIN))
    assert refused(requests()) == {503}

    run = run_schedule(capsys, schedule, no_job)

    planted = sorted([f"{API_ROLE}.{name}", f"{API_ROLE}.{NO_LOGIN[0]}"])
    assert run.answer == {"role_defaults_set_back": planted}
    assert [line["settings"] for line in run.said("an application role's own defaults")] == [
        planted
    ]
    assert (run.metric("RoleDefaultsSetBack"), run.metric("RoleDefaultsNotSetBack")) == ([2], [0])
    assert requests() == before


@pytest.mark.parametrize("name", ["role", "session_authorization"])
def test_the_timer_of_the_issue_beside_role_is_set_back(admin, database, requests, capsys, name):
    """The attack as reported: ``role`` (or ``session_authorization``) and a 1 ms timer. In this
    database: planted for every database, the timer would reach the other test workers' (the
    test for every database below plants harmless ones)."""
    before = requests()
    timer_name, timer_value = timer(admin)
    value = API_ROLE if name == "role" else "postgres"
    lo.plant(
        API_ROLE, in_database(database, name, value), in_database(database, timer_name, timer_value)
    )

    run = run_schedule(capsys, "drain", no_job)

    assert run.answer == {
        "role_defaults_set_back": sorted([f"{API_ROLE}.{name}", f"{API_ROLE}.{timer_name}"])
    }
    assert requests() == before


# ---- a catalog row held -----------------------------------------------------------------------


def test_a_session_that_holds_the_catalog_row_is_ended_and_the_default_set_back(
    admin, database, requests, capsys
):
    """One session of the role commits a harmful default; another holds an ALTER ROLE of the
    same row uncommitted, its own timeouts off, so that a healer's ALTER ROLE waits on it for
    ever. The healer ends the holder and sets the default back."""
    before = requests()
    holder = local_db.admin_connection(database.url_for(API_ROLE))
    holder_pid = holder.run("SELECT pg_backend_pid()")[0][0]
    try:
        for off in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
            holder.run(f"SET {off} = 0")
        lo.plant(API_ROLE, in_database(database, *NO_LOGIN))
        holder.run("BEGIN")
        holder.run(in_database(database, "work_mem", "77kB"))
        assert refused(requests()) == {503}

        run = run_schedule(capsys, "sweep", no_job)

        assert run.answer == {"role_defaults_set_back": [f"{API_ROLE}.{NO_LOGIN[0]}"]}
        assert requests() == before
        ended = admin.run("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid", pid=holder_pid)
        assert ended == [[0]]
    finally:
        with contextlib.suppress(Exception):  # ended: its socket is closed under it
            holder.close()


def test_a_session_of_the_role_in_another_database_is_not_ended(admin, database, capsys):
    """A database's own row of a role is held from that database only: a healer ends the
    holders in its own database, never the role's sessions in another (its own row there, a
    deployment or a test worker of its own)."""
    url = database.url_for(API_ROLE).replace(f"/{database.name}?", "/postgres?")
    elsewhere = local_db.admin_connection(url)
    try:
        elsewhere.run("SET lock_timeout = 0")
        elsewhere.run("BEGIN")
        elsewhere.run("ALTER ROLE CURRENT_USER IN DATABASE postgres SET work_mem = '77kB'")
        lo.plant(API_ROLE, in_database(database, *NO_LOGIN))

        run = run_schedule(capsys, "sweep", no_job)

        assert run.answer == {"role_defaults_set_back": [f"{API_ROLE}.{NO_LOGIN[0]}"]}
        assert elsewhere.run("SELECT 1") == [[1]]
    finally:
        with contextlib.suppress(Exception):
            elsewhere.run("ROLLBACK")
        elsewhere.close()


# ---- the healers' own roles -----------------------------------------------------------------


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_application_role_planted_at_once_is_set_back_by_either_schedule(
    admin, database, requests, capsys, schedule
):
    """The sweeper's and the drainer's roles (the functions that heal) planted too: neither
    function's own role can log in, yet the healing, as ``well_heal``, sets every role back,
    and the function's own job then runs."""
    before = requests()
    for role in APP_ROLES:
        lo.plant(role, in_database(database, *NO_LOGIN))
    assert refused(requests()) == {503}
    ran: list[bool] = []

    def job(**_: Any) -> dict[str, Any]:
        # The function's own role, on a connection opened after the healing.
        db.reset_pools()
        db.in_transaction([fixed("SELECT 1")], pool=db.get_pool(SCHEDULES[schedule][1]))
        ran.append(True)
        return {}

    run = run_schedule(capsys, schedule, job)

    assert run.answer == {
        "role_defaults_set_back": sorted(f"{role}.{NO_LOGIN[0]}" for role in APP_ROLES)
    }
    assert ran == [True]
    assert run.metric("RoleDefaultsSetBack") == [len(APP_ROLES)]
    assert requests() == before


def test_the_timers_planted_by_the_healers_roles_of_the_issue_are_set_back(
    admin, database, requests, capsys
):
    """The attack as reported: the same timer planted by well_sync and well_drain, and the
    API's role, whose requests it refused."""
    before = requests()
    name, value = timer(admin)
    for role in (API_ROLE, SYNC_ROLE, DRAIN_ROLE):
        lo.plant(role, in_database(database, name, value))

    run = run_schedule(capsys, "sweep", no_job)

    assert run.answer == {
        "role_defaults_set_back": sorted(f"{r}.{name}" for r in (API_ROLE, DRAIN_ROLE, SYNC_ROLE))
    }
    assert requests() == before


# ---- each setting on its own, and what cannot be set back ---------------------------------------


def test_a_default_the_role_may_not_set_is_said_and_the_others_are_set_back(
    admin, database, requests, capsys
):
    """A declared default the role itself may not set (``log_parameter_max_length``: only a
    superuser may), gone from the catalog (no application role can remove it: an
    administrator did), is reported with its SQLSTATE; the role's other defaults are set back
    all the same, and the alarm's metric counts the one not set back."""
    admin.run(f"ALTER ROLE {API_ROLE} IN DATABASE {database.name} RESET log_parameter_max_length")
    lo.plant(API_ROLE, in_database(database, *NO_LOGIN))

    run = run_schedule(capsys, "drain", no_job)

    assert run.answer == {
        "role_defaults_set_back": [f"{API_ROLE}.{NO_LOGIN[0]}"],
        "role_defaults_not_set_back": {f"{API_ROLE}.log_parameter_max_length": "42501"},
    }
    (said,) = run.said("an application role's own defaults could not be set back")
    assert (said["level"], said["settings"]) == (
        "ERROR",
        {f"{API_ROLE}.log_parameter_max_length": "42501"},
    )
    assert (run.metric("RoleDefaultsSetBack"), run.metric("RoleDefaultsNotSetBack")) == ([1], [1])


def test_a_healing_that_cannot_run_says_so_and_the_job_runs_all_the_same(
    database, capsys, monkeypatch
):
    """The healer's login refused: a failure of its own (an ERROR line with the error's class,
    never the driver's text; ``RoleDefaultsNotSetBack`` of 1, which its alarm pages on), not a
    metric that stops coming; the function's job runs."""
    # A login the server refuses (the tests' server trusts its socket's passwords).
    monkeypatch.setenv("HEAL_DATABASE_URL", database.url_for("well_nobody_heals"))
    db.reset_pools()
    ran: list[bool] = []

    def job(**_: Any) -> dict[str, Any]:
        ran.append(True)
        return {}

    run = run_schedule(capsys, "sweep", job)

    assert ran == [True]
    assert run.answer == {}
    (said,) = run.said("the application roles' own defaults could not be checked")
    # The login refused (28000: no such role), said by its SQLSTATE through the outage's cause.
    assert (said["level"], said["sqlstate"]) == ("ERROR", "28000")
    assert "well_nobody_heals" not in json.dumps(run.lines)
    assert run.metric("RoleDefaultsNotSetBack") == [1]


# ---- declared, never snapshotted ---------------------------------------------------------------


def test_a_default_planted_before_the_settings_are_recorded_never_becomes_the_deployments(
    admin, database
):
    """Recording the settings (the baseline, a migration, a major upgrade) sets each role's
    defaults as the deployment declares them and records from the declaration: a default a
    role planted before is gone, not kept as its own."""
    lo.plant(
        API_ROLE,
        in_database(database, "statement_timeout", "0"),
        "ALTER ROLE CURRENT_USER SET work_mem = '77kB'",
    )

    admin.run("SELECT well_private.record_settings()")

    recorded = admin.run(
        "SELECT t.statement_timeout, b.statement_bound::text FROM core_api.transaction_settings t "
        "JOIN well_private.session_bounds b USING (role) WHERE t.role = :r",
        r=API_ROLE,
    )
    assert recorded == [["5s", "00:00:05"]]
    declared = admin.run(
        "SELECT in_database, settings FROM well_private.role_defaults WHERE role = :r "
        "ORDER BY in_database",
        r=API_ROLE,
    )
    found = {
        bool(in_db): sorted(config or [])
        for in_db, config in admin.run(
            "SELECT s.setdatabase <> 0, s.setconfig FROM pg_db_role_setting s "
            "JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = :r "
            "AND s.setdatabase IN (0, "
            "(SELECT oid FROM pg_database WHERE datname = current_database()))",
            r=API_ROLE,
        )
    }
    assert {bool(in_db): sorted(s) for in_db, s in declared} == {False: [], True: found[True]}
    assert found.get(False, []) == []
    assert restore_role_defaults().set_back == []


def test_a_role_without_its_transaction_settings_fails_closed(admin, requests, capsys):
    """Its transactions would run with no timer at all: each is refused (503, Retry-After)
    until the owner records the settings again; the healer's own too, which says so."""
    before = requests()
    admin.run("DELETE FROM core_api.transaction_settings WHERE role IN ('well_api', 'well_heal')")

    answers = requests()
    run = run_schedule(capsys, "drain", no_job)

    assert refused(answers) == {503}
    assert {a["body"]["errors"][0]["code"] for a in answers.values()} == {"SERVICE_UNAVAILABLE"}
    (said,) = run.said("the application roles' own defaults could not be checked")
    assert said["sqlstate"] == "WP003"
    assert run.metric("RoleDefaultsNotSetBack") == [1]
    admin.run("SELECT well_private.record_settings()")
    assert requests() == before


# ---- healers at once -------------------------------------------------------------------------

HEALERS = 20


def test_healers_at_once_never_trip_over_each_other(admin, database):
    """Twenty healers at once, each on its own connection, with defaults of every role to set
    back: none fails ("tuple concurrently updated" was one), and each default is set back by
    exactly one of them."""
    # In this database: another test worker's healer also sets back every database's defaults.
    for role in APP_ROLES:
        lo.plant(
            role,
            in_database(database, "work_mem", "77kB"),
            in_database(database, "temp_buffers", "900kB"),
        )
    pools = [db.build_pool(db.settings_for(db.HEAL)) for _ in range(HEALERS)]
    try:
        with ThreadPoolExecutor(HEALERS) as threads:
            runs = list(threads.map(lambda pool: restore_role_defaults(pool=pool), pools))
    finally:
        for pool in pools:
            pool.dispose()

    assert [r.not_set_back for r in runs] == [{}] * HEALERS
    set_back = sorted(s for r in runs for s in r.set_back)
    assert set_back == sorted(
        f"{role}.{name}" for role in APP_ROLES for name in ("temp_buffers", "work_mem")
    )
    assert restore_role_defaults().set_back == []


def test_recording_the_settings_never_trips_over_a_change_of_the_same_row(admin, database):
    """Every database's defaults are one catalog row per role, which a healer or a migration of
    another database on the same server may change while the settings are recorded here,
    without the declaration's lock. Here this database's row, which no other test worker's
    healer changes: the recording finds the row as it is then, and fails on nothing ("tuple
    concurrently deleted" was one)."""
    lo.plant(SYNC_ROLE, in_database(database, "work_mem", "77kB"))
    other = local_db.admin_connection(database.admin_url)
    recording = local_db.admin_connection(database.admin_url)
    try:
        other.run("BEGIN")
        other.run(f"ALTER ROLE {SYNC_ROLE} IN DATABASE {database.name} RESET work_mem")
        with ThreadPoolExecutor(1) as thread:
            recorded = thread.submit(recording.run, "SELECT well_private.record_settings()")
            wait_until_blocked(admin, role=admin.run("SELECT current_user")[0][0])
            other.run("COMMIT")
            recorded.result()
    finally:
        other.close()
        recording.close()
    assert restore_role_defaults().set_back == []


# ---- what the roles can do to the healer ---------------------------------------------------------


@pytest.mark.parametrize("role", APP_ROLES)
def test_no_application_role_can_change_the_healers_defaults_or_take_its_lock(role):
    """The healer's own login and its one lock are beyond every role it heals: no role may
    change the healer's defaults (42501), nor lock the table its healers queue on (42501)."""
    assert lo.refused(role, f"ALTER ROLE {HEAL_ROLE} SET statement_timeout = 1") == "42501"
    assert lo.refused(role, "ALTER ROLE ALL SET statement_timeout = 1") == "42501"
    locked = "DO $$ BEGIN LOCK TABLE well_private.role_defaults; END $$"
    assert lo.refused(role, locked) == "42501"
