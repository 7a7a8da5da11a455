"""The ``wellapi`` command end to end: a database of its own, a fixture template, real requests.

The commands run against the session's PostgreSQL server (``DATABASE_URL`` points at it), in
a database named for this module instead of ``well``, from a temporary working directory.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg8000.native
import pytest
from sqlalchemy.engine import make_url

from wellapi import db as wellapi_db
from wellapi.local import cli
from wellapi.local import database as local_db
from wellapi.local.server import LocalServer

TEMPLATE = """
Parameters:
  DbUser: {Type: String, Default: well_api}
  MigrationDbUser: {Type: String}
Globals:
  Function:
    CodeUri: src/
    Environment:
      Variables:
        DB_AUTH: iam
        DB_USER: !Ref DbUser
        DATABASE_URL: ""
        POWERTOOLS_SERVICE_NAME: cli-fixture
Resources:
  WhoamiFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: cli_fixture_app.whoami
      Events:
        Route: {Type: HttpApi, Properties: {Method: GET, Path: /whoami}}
  MigratorFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: cli_fixture_app.whoami
      Environment:
        Variables:
          DB_USER: !Ref MigrationDbUser
  FailingFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: cli_fixture_app.fail
"""

APP = """
import json
import os

from wellapi import db


def whoami(event, context):
    user, database = db.execute("SELECT current_user::text, current_database()::text")[0]
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


@pytest.fixture(scope="module")
def workdir(
    server: local_db.LocalDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cli")
    (root / "src").mkdir()
    (root / "src" / "cli_fixture_app.py").write_text(textwrap.dedent(APP))
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "event.json").write_text(json.dumps({"hello": "cli"}))
    name = f"wellapi_cli_{os.getpid()}"
    saved_environment = dict(os.environ)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "DATABASE_NAME", name)
        patch.setenv("DATABASE_URL", server.admin_url)
        patch.delenv("PORT", raising=False)
        patch.chdir(root)
        yield root
        os.environ.clear()
        os.environ.update(saved_environment)
    wellapi_db.reset_engines()
    sys.modules.pop("cli_fixture_app", None)
    if str(root / "src") in sys.path:
        sys.path.remove(str(root / "src"))
    conn = local_db.admin_connection(server.admin_url)
    try:
        conn.run(f"DROP DATABASE IF EXISTS {pg8000.native.identifier(name)} WITH (FORCE)")
    finally:
        conn.close()


def output(capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    captured = capsys.readouterr()
    return json.loads(captured.out) if captured.out.strip() else None, captured.err


def test_migrate_then_seed_write_demo_json(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    assert cli.main(["seed"]) == 0
    _, log = output(capsys)
    assert "==> using DATABASE_URL" in log
    assert "==> seeding demo data" in log
    demo = json.loads((workdir / ".local" / "demo.json").read_text())
    assert demo["base_url"] == "http://127.0.0.1:3000"
    assert len(demo["workspaces"]) == 2


def test_invoke_prints_the_result_and_connects_as_the_functions_role(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invoke", "WhoamiFunction", "event.json"]) == 0
    result, _ = output(capsys)
    body = json.loads(result["body"])
    assert body == {
        "user": "well_api",
        "database": cli.DATABASE_NAME,
        "db_auth": "url",  # the local database's, not the template's "iam"
        "service": "cli-fixture",  # the template's
        "event": {"hello": "cli"},
    }


def test_a_function_whose_user_owns_the_schema_runs_as_the_administrator(
    workdir: Path, server: local_db.LocalDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invoke", "MigratorFunction", "event.json"]) == 0
    result, _ = output(capsys)
    assert json.loads(result["body"])["user"] == make_url(server.admin_url).username


def test_a_failing_function_exits_1_with_lambdas_error_payload(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["invoke", "FailingFunction", "event.json"]) == 1
    result, log = output(capsys)
    assert result["errorType"] == "RuntimeError"
    assert "RuntimeError: no luck" in log


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke", "WhoamiFunction", "missing.json"], "event file missing.json not found"),
        (["invoke", "Nope", "event.json"], "no function 'Nope'"),
        (["run", "--template", "missing.yaml"], "missing.yaml not found"),
    ],
)
def test_usage_errors_exit_2_before_touching_the_database(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert cli.main(argv) == 2
    _, log = output(capsys)
    assert message in log
    assert "migrating" not in log


def test_run_serves_the_template_with_the_demo_data(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[LocalServer] = []

    class RecordedServer(LocalServer):
        def server_activate(self) -> None:
            super().server_activate()
            started.append(self)

    monkeypatch.setattr(cli, "LocalServer", RecordedServer)
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
    assert f"serving 1 routes on {server.url}" in log
    assert "GET /whoami -> WhoamiFunction" in log
    assert "kept the local values of: DATABASE_URL, DB_AUTH" in log


def test_printed_urls_never_show_a_password() -> None:
    assert cli.redact("postgresql://admin:s3cret@db.example:5432/well") == (
        "postgresql://admin:***@db.example:5432/well"
    )
