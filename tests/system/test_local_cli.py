"""The ``wellapi`` command end to end: a database of its own, a fixture stack, real requests.

The commands run against the session's PostgreSQL server (``DATABASE_URL`` points at it), in
a database named for this module instead of ``well``, from a temporary working directory.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.support import key_audit
from tests.support.proven import run_with_key_proof
from tests.support.stacks import function, stack
from wellapi.http import keys
from wellapi.roles import AUTH_ROLE, SYNC_ROLE
from wellapi.store import connections as wellapi_db
from welldev import cli, console, revisions, seed
from welldev import database as local_db
from welldev import stack as local_stack
from welldev.commands import run as run_command
from welldev.server import LocalServer
from welldev.stack import Ref, Stack


def fixture_stack(src: Path, overrides: Mapping[str, str] | None = None) -> Stack:
    """The module's stack: what `wellapi run` and `invoke` run instead of the project's."""
    environment = {
        "DB_AUTH": "iam",
        "DB_USER": Ref("DbUser"),
        "DATABASE_URL": "",
        "POWERTOOLS_SERVICE_NAME": "cli-fixture",
    }
    migrator = {**environment, "DB_USER": Ref("MigrationDbUser")}
    whoami = function(
        "WhoamiFunction",
        "cli_fixture_app.whoami",
        src,
        environment=environment,
        routes=[("GET", "/whoami", None)],
    )
    return stack(
        whoami,
        function("MigratorFunction", "cli_fixture_app.whoami", src, environment=migrator),
        function("FailingFunction", "cli_fixture_app.fail", src, environment=environment),
        parameters={"DbUser": "well_api", "MigrationDbUser": None, **(overrides or {})},
    )


# The least of an API Gateway request (payload 2.0) that `wellapi invoke` takes for a route's
# function (welldev.event_kinds); the fixture function answers it back.
API_EVENT = {
    "version": "2.0",
    "routeKey": "GET /whoami",
    "rawPath": "/whoami",
    "requestContext": {},
}

APP = """
import json
import os

from wellapi.store import connections as db
from wellapi.store.sql import BoundStatement


def whoami(event, context):
    who = BoundStatement("SELECT current_user::text, current_database()::text")
    user, database = db.execute([who])[0]
    body = {
        "user": user,
        "database": database,
        "db_auth": os.environ.get("DB_AUTH"),
        "service": os.environ.get("POWERTOOLS_SERVICE_NAME"),
        "event": event.get("rawPath", event),
    }
    return {"statusCode": 200, "body": json.dumps(body)}


def fail(event, context):
    raise RuntimeError("no luck")
"""


DATABASE = f"wellapi_cli_{os.getpid()}"


@contextmanager
def commands_in(root: Path, server: local_db.LocalDatabase, name: str) -> Iterator[None]:
    """The commands run from ``root`` on database ``name`` of the session's server, which does
    not exist yet (the commands create the one the URL names); then the environment as it was,
    and the database dropped."""
    saved_environment = dict(os.environ)
    wellapi_db.reset_pools()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DATABASE_URL", server.with_database(name).admin_url)
            patch.delenv("PORT", raising=False)
            patch.chdir(root)
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
        wellapi_db.reset_pools()
        local_db.drop_database(server, name)


@pytest.fixture(scope="module")
def workdir(
    server: local_db.LocalDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The module's working directory and database, migrated and seeded as `make run` leaves
    them (``.local/demo.json`` written), so that each test holds whichever runs before it."""
    root = tmp_path_factory.mktemp("cli")
    (root / "src").mkdir()
    (root / "src" / "cli_fixture_app.py").write_text(textwrap.dedent(APP))
    (root / "event.json").write_text(json.dumps(API_EVENT))
    # What the functions no event source invokes take: a direct invoke's JSON.
    (root / "direct.json").write_text(json.dumps({"hello": "cli"}))
    with commands_in(root, server, DATABASE), pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            local_stack, "load", lambda overrides=None: fixture_stack(root / "src", overrides)
        )
        patch.setattr(local_stack, "check_template", lambda path: None)
        assert cli.main(["migrate"]) == 0
        assert cli.main(["seed"]) == 0
        yield root
    sys.modules.pop("cli_fixture_app", None)
    if str(root / "src") in sys.path:
        sys.path.remove(str(root / "src"))


@pytest.fixture
def first_run(server: local_db.LocalDatabase, tmp_path: Path) -> Iterator[Path]:
    """A working directory and a database of their own that no command has touched yet."""
    with commands_in(tmp_path, server, f"wellapi_cli_first_{os.getpid()}"):
        yield tmp_path


def refuse(what: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(what)

    return refused


def output(capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    captured = capsys.readouterr()
    return json.loads(captured.out) if captured.out.strip() else None, captured.err


def test_migrate_then_seed_write_demo_json(
    first_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    assert cli.main(["seed"]) == 0
    _, log = output(capsys)
    assert "==> using DATABASE_URL" in log
    assert "==> seeding demo data" in log
    assert "==> issued new demo keys: demo:acme, demo:globex, demo:service" in log
    demo = json.loads((first_run / ".local" / "demo.json").read_text())
    assert demo["base_url"] == "http://127.0.0.1:3000"
    assert len(demo["workspaces"]) == 2
    assert all(keys.parse_key(w["api_key"]) for w in demo["workspaces"])
    assert keys.parse_key(demo["service_key"])


def test_seeding_again_keeps_the_demo_keys_that_still_work(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (workdir / ".local" / "demo.json").read_text()
    assert cli.main(["seed"]) == 0
    _, log = output(capsys)
    assert "==> kept the demo keys of the last run: demo:acme, demo:globex, demo:service" in log
    assert "issued" not in log
    assert (workdir / ".local" / "demo.json").read_text() == before


def test_a_database_at_head_is_neither_migrated_nor_seeded_by_migrate(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_db, "migrate_to_head", refuse("migrated"))
    monkeypatch.setattr(seed, "seed", refuse("seeded"))
    assert cli.main(["migrate"]) == 0
    _, log = output(capsys)
    assert f"==> at head ({', '.join(revisions.head())})" in log
    assert "migrating" not in log


def test_seed_keeps_the_url_of_the_running_server_in_demo_json(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workdir / ".local" / "demo.json"
    original = path.read_text()
    recorded = json.loads(original)
    try:
        # What `wellapi run --port 4321` wrote: a later seed must not say 3000.
        path.write_text(json.dumps({**recorded, "base_url": "http://127.0.0.1:4321"}))
        assert cli.main(["seed"]) == 0
        assert json.loads(path.read_text())["base_url"] == "http://127.0.0.1:4321"
        assert cli.main(["seed", "--url", "http://127.0.0.1:5555/"]) == 0
        assert json.loads(path.read_text())["base_url"] == "http://127.0.0.1:5555"
        monkeypatch.setenv("PORT", "8080")
        assert cli.main(["seed"]) == 0
        assert json.loads(path.read_text())["base_url"] == "http://127.0.0.1:8080"
    finally:
        path.write_text(original)  # as the module's seed wrote it, for the tests after this one
    capsys.readouterr()


# ---- wellapi operator, wellapi keys -----------------------------------------------------------
# ``operator issue-key`` prints its answer, the key in it, once, on stdout: each test reads it from
# capsys (which takes it out of the captured output the key audit inspects). The operator runs
# the project's own template's function (the module's fixture stack has none).
THE_PROJECTS_STACK = local_stack.load


@pytest.fixture
def operated(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(local_stack, "load", THE_PROJECTS_STACK)
    return workdir


def operate(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> dict[str, Any]:
    """Run ``wellapi operator``; its JSON answer (stdout is that alone)."""
    assert cli.main(["operator", *argv]) == code
    answer: dict[str, Any] = json.loads(capsys.readouterr().out)
    return answer


def issue_key(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    """An ``issue-key`` for Ada in Acme: its answer."""
    ada = seed.demo_members()[0]
    given = ("--person", str(ada.person_id), "--workspace", str(ada.workspace_id))
    return operate(capsys, "issue-key", *given, "--kind", "member", "--name", "laptop", *extra)


def test_operator_issue_key_answers_a_key_the_authorizer_accepts(
    operated: Path, server: local_db.LocalDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = issue_key(capsys, "--expires-in", "600")
    parsed = keys.parse_key(issued["key"])
    assert parsed is not None
    assert (issued["prefix"], issued["kind"], issued["name"]) == (parsed.prefix, "member", "laptop")
    assert issued["expires_at"]
    conn = local_db.admin_connection(server.with_database(DATABASE).admin_url)
    try:
        # The authorizer's own check: opened by a proof of the key for its transaction.
        rows = run_with_key_proof(
            conn,
            parsed.prefix,
            parsed.secret_hash,
            "SELECT k.api_key_id::text, p.person_id::text "
            "FROM core_api.authenticate_key() a "
            "JOIN core_api.api_keys k ON k.api_key_id = a.api_key_id "
            "JOIN core_api.peoples p ON p.person_id = a.person_id",
        )
    finally:
        conn.close()
    assert rows == [[issued["api_key_id"], str(seed.demo_members()[0].person_id)]]


def test_keys_shows_every_key_and_never_a_secret(
    operated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = issue_key(capsys)
    assert cli.main(["keys"]) == 0
    listing, log = capsys.readouterr()
    header, *rows = listing.splitlines()
    assert header.split("  ")[0] == "id"
    for column in ("name", "prefix", "kind", "person", "workspace", "created", "last used"):
        assert f"  {column}" in header
    assert header.endswith("expires")
    (row,) = [r for r in rows if issued["prefix"] in r]
    assert " laptop " in row
    assert " member " in row
    assert row.split()[-2:] == ["-", "-"]  # neither revoked nor expiring
    assert any(" demo:service " in r and " service " in r for r in rows)
    assert key_audit.secret_of(issued["key"]) not in listing + log
    assert not any(part.startswith("wk_") for part in listing.split())


def test_operator_revoke_key_takes_an_id_a_prefix_or_the_key_and_says_an_unknown_one(
    operated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third = (issue_key(capsys) for _ in range(3))
    assert operate(capsys, "revoke-key", "--key", first["prefix"])["revoked"] is True
    assert operate(capsys, "revoke-key", "--key", first["prefix"])["revoked"] is False
    assert operate(capsys, "revoke-key", "--key", second["api_key_id"])["revoked"] is True
    unknown = operate(capsys, "revoke-key", "--key", "nothing-like-it", code=1)
    assert unknown["error"]["code"] == "NOT_FOUND"
    # The whole key: its prefix finds it, and nothing says the key again.
    assert cli.main(["operator", "revoke-key", "--key", third["key"]]) == 0
    out, err = capsys.readouterr()
    assert key_audit.secret_of(third["key"]) not in out + err
    assert json.loads(out)["api_key_id"] == third["api_key_id"]


def test_operator_refuses_an_unknown_person_and_a_member_key_that_could_not_act(
    operated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ada, globex = seed.demo_members()[0], seed.demo_members()[1]
    unknown = ["--person", str(uuid.uuid4()), "--workspace", str(ada.workspace_id)]
    refused = operate(capsys, "issue-key", *unknown, "--kind", "member", "--name", "x", code=1)
    assert refused["error"]["code"] == "NOT_FOUND"
    # Grace (Globex's demo user) has no membership in Acme: a member key there would get 403s.
    stranger = ["--person", str(globex.person_id), "--workspace", str(ada.workspace_id)]
    refused = operate(capsys, "issue-key", *stranger, "--kind", "member", "--name", "x", code=1)
    assert refused["error"]["code"] == "CONFLICT"


def test_operator_and_keys_need_no_migration_of_a_database_at_head_and_say_how_long(
    operated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_db, "migrate_to_head", refuse("migrated"))
    for argv in (["operator", "make-workspace", "--name", "Timed"], ["keys"]):
        assert cli.main(argv) == 0
        assert re.search(r"^==> done in \d+\.\d\d s$", capsys.readouterr().err, re.MULTILINE)


def test_operator_checks_its_arguments_and_the_function_the_values(
    operated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["operator", "issue-key", "--person", str(uuid.uuid4())])
    assert exit_info.value.code == 2
    assert "--kind" in capsys.readouterr().err
    given = ["--person", "not-a-uuid", "--workspace", "x", "--kind", "admin", "--name", "x"]
    refused = operate(capsys, "issue-key", *given, code=1)["error"]
    assert refused["code"] == "INVALID_EVENT"
    for member in ("workspace_id", "person_id", "kind"):
        assert member in refused["detail"]


def test_invoke_prints_the_result_and_connects_as_the_functions_role(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invoke", "WhoamiFunction", "event.json"]) == 0
    result, _ = output(capsys)
    body = json.loads(result["body"])
    assert body == {
        "user": "well_api",
        "database": DATABASE,
        "db_auth": "url",  # the local database's, not the template's "iam"
        "service": "cli-fixture",  # the template's
        "event": "/whoami",  # the API event's path
    }


def test_invoke_takes_sam_local_invokes_flags(
    workdir: Path,
    server: local_db.LocalDatabase,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # --env-vars as SAM reads it: the function's entry wins over Parameters and over the
    # local runner's own connection.
    sync_url = server.with_database(DATABASE).url_for(SYNC_ROLE)
    env_vars = {
        "Parameters": {"DATABASE_URL": "unused"},
        "WhoamiFunction": {"DATABASE_URL": sync_url},
    }
    (workdir / "env.json").write_text(json.dumps(env_vars))
    argv = ["invoke", "-e", "event.json", "--env-vars", "env.json", "WhoamiFunction"]
    assert cli.main(argv) == 0
    assert json.loads(output(capsys)[0]["body"])["user"] == SYNC_ROLE

    # The event on standard input, and a parameter override naming the function's user.
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(API_EVENT)))
    argv = ["invoke", "WhoamiFunction", "-e", "-"]
    assert cli.main([*argv, "--parameter-overrides", f"DbUser={AUTH_ROLE}"]) == 0
    body = json.loads(output(capsys)[0]["body"])
    assert (body["user"], body["event"]) == (AUTH_ROLE, API_EVENT["rawPath"])


def test_a_function_whose_user_owns_the_schema_runs_as_the_administrator(
    workdir: Path, server: local_db.LocalDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invoke", "MigratorFunction", "direct.json"]) == 0
    result, _ = output(capsys)
    assert json.loads(result["body"])["user"] == make_url(server.admin_url).username


def test_a_failing_function_exits_1_with_lambdas_error_payload(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invoke", "FailingFunction", "direct.json"]) == 1
    result, log = output(capsys)
    assert result["errorType"] == "RuntimeError"
    assert "RuntimeError: no luck" in log


def test_invoke_never_seeds_nor_migrates_a_database_at_head(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_db, "migrate_to_head", refuse("migrated"))
    monkeypatch.setattr(seed, "seed", refuse("seeded"))
    assert cli.main(["invoke", "WhoamiFunction", "event.json"]) == 0
    result, log = output(capsys)
    assert json.loads(result["body"])["user"] == "well_api"
    assert "seeding" not in log
    assert re.search(r"^==> done in \d+\.\d\d s$", log, re.MULTILINE)


def test_invoke_of_claims_the_database_lacks_says_to_seed_it(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = {"person_id": str(uuid.uuid4()), "principal_kind": "member", "workspace_id": ""}
    event = {**API_EVENT, "requestContext": {"authorizer": {"lambda": stranger}}}
    (workdir / "stranger.json").write_text(json.dumps(event))
    assert cli.main(["invoke", "WhoamiFunction", "stranger.json"]) == 2
    result, log = output(capsys)
    assert result is None  # the function never ran
    assert f"wellapi: no person {stranger['person_id']}: the event's claims name" in log
    assert "`wellapi seed` (or `make run`) inserts them" in log


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke", "WhoamiFunction", "missing.json"], "event file missing.json not found"),
        (["invoke", "Nope", "event.json"], "no function 'Nope'"),
    ],
)
def test_usage_errors_exit_2_before_touching_the_database(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert cli.main(argv) == 2
    _, log = output(capsys)
    assert message in log
    assert "migrating" not in log


def test_run_on_a_port_in_use_names_it_before_touching_the_database(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["run", "--port", str(port)]) == 2
    log = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in log
    assert "PostgreSQL" not in log
    assert "DATABASE_URL" not in log


def test_run_serves_the_template_with_the_demo_data(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[LocalServer] = []

    class RecordedServer(LocalServer):
        def serve_forever(self, poll_interval: float = 0.5) -> None:
            started.append(self)  # the port is bound earlier, before the database is ready
            super().serve_forever(poll_interval)

    monkeypatch.setattr(run_command, "LocalServer", RecordedServer)
    exit_codes: list[int] = []
    thread = threading.Thread(
        target=lambda: exit_codes.append(cli.main(["run", "--port", "0"])), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 60
    while not started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert started, "the server did not start"
    server = started[0]
    try:
        with urllib.request.urlopen(f"{server.url}/whoami", timeout=10) as response:  # noqa: S310
            body = json.loads(response.read())
        assert body["user"] == "well_api"
        assert body["event"] == "/whoami"
        demo = json.loads((workdir / ".local" / "demo.json").read_text())
        assert demo["base_url"] == server.url
        assert not server.url.endswith(":0")
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert exit_codes == [0]
    log = capsys.readouterr().err
    # The template's route and the documentation routes, and the local AWS with the bus.
    assert f"serving 5 routes on {server.url}" in log
    assert "GET /whoami -> WhoamiFunction" in log
    assert "GET /docs -> local GET /docs" in log
    assert "local AWS (moto) on http://127.0.0.1:" in log
    assert demo["aws"]["event_bus"] == "local-changes"
    assert "template environment: " in log
    assert (
        "execution environments: up to 8 per function, each a process serving one request at "
        "a time, started on first use"
    ) in log
    assert "demo workspaces and keys in .local/demo.json" in log


def test_printed_urls_never_show_a_password() -> None:
    assert console.redact("postgresql://admin:s3cret@db.example:5432/well") == (
        "postgresql://admin:***@db.example:5432/well"
    )


# ---- what a command prints besides: no XDG_RUNTIME_DIR warning -------------------------------
# pyproject.toml's filterwarnings hides it in this session: the command runs in a process of its
# own, as a user runs it, and its stderr is read.


def run_wellapi(workdir: Path, *argv: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "PYTHONWARNINGS")}
    command = Path(sys.executable).with_name("wellapi")
    return subprocess.run(
        [command, *argv],
        cwd=workdir,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )


def test_a_command_without_xdg_runtime_dir_prints_no_warning_about_it(workdir: Path) -> None:
    done = run_wellapi(workdir, "keys")
    assert "XDG_RUNTIME_DIR" not in done.stderr
    assert "Warning" not in done.stderr
    assert "==> done in" in done.stderr


def test_other_warnings_about_the_runtime_directory_still_show(
    workdir: Path, tmp_path: Path
) -> None:
    not_a_directory = tmp_path / "runtime"
    not_a_directory.write_text("")
    done = run_wellapi(workdir, "keys", XDG_RUNTIME_DIR=str(not_a_directory))
    assert f"RuntimeDirWarning: XDG_RUNTIME_DIR {not_a_directory} is not a directory" in (
        done.stderr
    )
