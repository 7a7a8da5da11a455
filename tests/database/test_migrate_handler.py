"""The migration function answers CloudFormation's custom-resource protocol, on a real database.

Each test sends one of the canonical requests in events/ (its ResponseURL pointed at a local
HTTP server that records the PUT) to ``wellapi.handlers.migration.handler`` with a throwaway
database behind it. Create migrates, Update at head changes nothing, a rollback (the database at a
revision this code does not know) and Delete succeed without touching the schema, and any
failure is reported FAILED with a short reason: CloudFormation always gets an answer.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from wellapi import domain
from wellapi.domain import SCHEMA
from wellapi.handlers import migration as migrate
from welldev import database as local_db

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
# The query string of a pre-signed URL is a credential: it must never reach the logs.
SIGNATURE = "X-Amz-Signature=0123456789abcdef-never-logged"
UNKNOWN_REVISION = "9999_from_a_newer_deploy"
LOG_STREAM = "2026/11/21/[$LATEST]0123456789abcdef"


def head() -> str:
    revision = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert revision is not None
    return revision


@dataclass
class Put:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ResponseEndpoint:
    """A stand-in for the pre-signed S3 URL: records every request made to it."""

    url: str
    received: list[Put] = field(default_factory=list)

    def only_put(self) -> Put:
        (put,) = self.received
        return put


@pytest.fixture
def endpoint() -> Iterator[ResponseEndpoint]:
    recorded = ResponseEndpoint(url="")

    class Recorder(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            recorded.received.append(
                Put(self.path, dict(self.headers.items()), self.rfile.read(length))
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    recorded.url = f"http://{host}:{port}/cfn-response/MigrationRun?{SIGNATURE}"
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def scratch(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    """An empty database of this module's own; each test starts from what the last left."""
    name = f"wellapi_migrate_handler_{os.getpid()}"
    db = local_db.create_database(server, name, replace=True)
    yield db
    local_db.drop_database(server, name)


@pytest.fixture
def empty(
    scratch: local_db.LocalDatabase, server: local_db.LocalDatabase
) -> local_db.LocalDatabase:
    return local_db.create_database(server, scratch.name, replace=True)


@pytest.fixture
def at_head(empty: local_db.LocalDatabase) -> local_db.LocalDatabase:
    local_db.migrate_to_head(empty)
    return empty


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch):
    def use(db: local_db.LocalDatabase) -> None:
        monkeypatch.setenv("DB_AUTH", "url")
        monkeypatch.setenv("DATABASE_URL", db.admin_url)

    return use


class Context:
    """What the handler reads from Lambda's context."""

    function_name = "wellapi-MigrationFunction"
    aws_request_id = "c0ffee00-0000-4000-8000-000000000000"
    log_stream_name = LOG_STREAM


def request(name: str, endpoint: ResponseEndpoint) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    event["ResponseURL"] = endpoint.url
    return event


def expected_response(event: dict[str, Any], status: str, reason: str) -> dict[str, Any]:
    return {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": event.get("PhysicalResourceId", "wellapi-schema-migrations"),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": "MigrationRun",
        "NoEcho": False,
        "Data": {"Revision": head()},
    }


def versions(db: local_db.LocalDatabase) -> list[str]:
    conn = local_db.admin_connection(db.admin_url)
    try:
        exists = conn.run("SELECT to_regclass(:t) IS NOT NULL", t=f"{SCHEMA}.alembic_version")
        if not exists[0][0]:
            return []
        return [v for (v,) in conn.run(f"SELECT version_num FROM {SCHEMA}.alembic_version")]
    finally:
        conn.close()


def first_column(db: local_db.LocalDatabase, sql: str, **params: Any) -> list[Any]:
    """The first column of ``sql``'s rows, on an administrative connection of its own."""
    conn = local_db.admin_connection(db.admin_url)
    try:
        return [row[0] for row in conn.run(sql, **params)]
    finally:
        conn.close()


def tables(db: local_db.LocalDatabase) -> list[str]:
    return first_column(
        db,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s "
        "ORDER BY table_name",
        s=SCHEMA,
    )


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Each record's message, structured fields and traceback, as the JSON log would hold."""
    return caplog.text + "\n".join(repr(record.__dict__) for record in caplog.records)


def assert_put_as_cloudformation_expects(put: Put, response: dict[str, Any]) -> None:
    assert put.path == "/cfn-response/MigrationRun?" + SIGNATURE
    assert put.headers["Content-Type"] == ""
    assert put.headers["Content-Length"] == str(len(put.body))
    assert put.json == response


def test_create_migrates_an_empty_database_to_head(empty, use_database, endpoint, caplog):
    use_database(empty)
    event = request("migration-create.json", endpoint)

    returned = migrate.handler(event, Context())

    response = expected_response(
        event, "SUCCESS", f"The schema was migrated from revision none to {head()}."
    )
    assert_put_as_cloudformation_expects(endpoint.only_put(), response)
    assert returned == response
    assert versions(empty) == [head()]
    assert "response sent" in everything_logged(caplog)
    assert "0123456789abcdef-never-logged" not in everything_logged(caplog)


def test_a_server_older_than_the_supported_majors_fails_in_one_line_and_changes_nothing(
    empty, use_database, endpoint, monkeypatch
):
    """This server, taken for one older than the oldest supported major: the migration says
    so as CloudFormation's reason and writes nothing, not even its schema."""
    use_database(empty)
    (running,) = first_column(empty, "SELECT current_setting('server_version_num')::int")
    monkeypatch.setattr(domain, "POSTGRES_MAJORS", (running // 10000 + 1, running // 10000 + 2))
    event = request("migration-create.json", endpoint)

    returned = migrate.handler(event, Context())

    assert returned["Status"] == "FAILED"
    reason = returned["Reason"].split(" (see CloudWatch")[0]
    assert reason == f"UnsupportedServer: {domain.UnsupportedServer(running)}"
    assert "\n" not in reason
    assert versions(empty) == []
    owned = "SELECT nspname FROM pg_namespace WHERE nspname IN ('core_api', 'well_private')"
    assert first_column(empty, owned) == []


def test_update_at_head_changes_nothing(at_head, use_database, endpoint):
    use_database(at_head)
    before = tables(at_head)
    event = request("migration-update.json", endpoint)

    migrate.handler(event, Context())

    response = expected_response(event, "SUCCESS", f"The schema is already at revision {head()}.")
    assert_put_as_cloudformation_expects(endpoint.only_put(), response)
    assert versions(at_head) == [head()]
    assert tables(at_head) == before


def test_rollback_to_older_code_succeeds_and_leaves_the_newer_schema(
    at_head, use_database, endpoint
):
    conn = local_db.admin_connection(at_head.admin_url)
    try:
        conn.run(f"UPDATE {SCHEMA}.alembic_version SET version_num = :v", v=UNKNOWN_REVISION)
    finally:
        conn.close()
    use_database(at_head)
    before = tables(at_head)
    event = request("migration-update.json", endpoint)

    migrate.handler(event, Context())

    response = expected_response(
        event,
        "SUCCESS",
        f"The database is at revision {UNKNOWN_REVISION}, which this code does not know "
        "(a rollback): the schema was left as it is.",
    )
    assert_put_as_cloudformation_expects(endpoint.only_put(), response)
    assert versions(at_head) == [UNKNOWN_REVISION]
    assert tables(at_head) == before


def test_delete_succeeds_and_never_downgrades(at_head, use_database, endpoint):
    use_database(at_head)
    before = tables(at_head)
    event = request("migration-delete.json", endpoint)

    migrate.handler(event, Context())

    response = expected_response(
        event, "SUCCESS", "The schema was kept: removing the stack never downgrades it."
    )
    assert_put_as_cloudformation_expects(endpoint.only_put(), response)
    assert versions(at_head) == [head()]
    assert tables(at_head) == before


def test_delete_succeeds_without_reaching_the_database(endpoint, monkeypatch):
    monkeypatch.setenv("DB_AUTH", "url")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/well")
    event = request("migration-delete.json", endpoint)

    migrate.handler(event, Context())

    assert endpoint.only_put().json["Status"] == "SUCCESS"


def test_unreachable_database_is_reported_failed_with_a_short_reason(endpoint, monkeypatch, caplog):
    monkeypatch.setenv("DB_AUTH", "url")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:s3cret-pw@127.0.0.1:1/well")
    event = request("migration-create.json", endpoint)

    returned = migrate.handler(event, Context())

    reason = (
        "InterfaceError: (pg8000.exceptions.InterfaceError) Can't create a connection to host "
        "127.0.0.1 and port 1 (timeout is 3.0 and source_address is None). "
        f"(see CloudWatch log stream {LOG_STREAM})"
    )
    response = expected_response(event, "FAILED", reason)
    assert_put_as_cloudformation_expects(endpoint.only_put(), response)
    assert returned == response
    logged = everything_logged(caplog)
    # The log line names the error and where it was raised; the driver's text stays out of it.
    (failed,) = [r for r in caplog.records if r.getMessage() == "schema migration failed"]
    assert failed.error_type == "InterfaceError"
    assert any("in upgrade_unless_newer" in frame for frame in failed.raised_at)
    assert "Can't create a connection" not in logged
    assert "s3cret-pw" not in logged
    assert "0123456789abcdef-never-logged" not in logged


def test_an_unknown_request_type_is_reported_failed(endpoint):
    event = request("migration-update.json", endpoint)
    event["RequestType"] = "Replace"

    migrate.handler(event, Context())

    response = expected_response(
        event,
        "FAILED",
        f"ValueError: unknown RequestType 'Replace' (see CloudWatch log stream {LOG_STREAM})",
    )
    assert endpoint.only_put().json == response


def test_failure_reasons_hide_credentials_and_stay_short():
    error = RuntimeError("could not parse postgresql://admin:hunter2@db.internal/well " + "x" * 500)

    reason = migrate.failure_reason(error, None)

    assert "hunter2" not in reason
    assert reason.startswith("RuntimeError: could not parse postgresql://***@db.internal/well")
    assert len(reason) == migrate.MAX_REASON_CHARS


def test_responses_go_only_to_https_urls():
    with pytest.raises(ValueError, match="https"):
        migrate.send_response("http://example.com/response?sig=1", {"Status": "SUCCESS"})


def test_a_direct_invoke_still_migrates_and_reports_plainly(empty, use_database, endpoint):
    use_database(empty)

    assert migrate.handler({}, Context()) == {"status": "migrated", "revision": "head"}
    assert versions(empty) == [head()]
    assert endpoint.received == []
