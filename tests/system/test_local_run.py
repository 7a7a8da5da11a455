"""``wellapi run`` on the project's own template: demo keys, documentation, queue, schedule,
concurrency.

The command runs in a thread of this process, as ``make run`` would run it, against a database
of its own on the session's server (named for this module instead of ``well``), with
``.local/demo.json`` in a temporary directory, a local visibility timeout of 1 s and a local
schedule period of 0.2 s. Every request goes over loopback through the API-key authorizer, as
in AWS; the sync queue on moto's server is fed with ``wellapi enqueue`` and drained by the real
sync function, the real sweep function runs on its schedule, and the real drain function
publishes to the bus on moto's server, whose rule delivers what ``wellapi events`` shows.

A test of its own starts a second server and stops it, and checks that its queue poller and
its schedule stopped with it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pg8000.native
import pytest

from wellapi.domain import SCHEMA
from wellapi.store import connections as wellapi_db
from welldev import cli, demo_file, local_aws, smoke
from welldev import database as local_db
from welldev.commands import run as run_command
from welldev.server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
POLLER_THREAD = "wellapi-queue-sync-SyncFunction"
SCHEDULE_THREAD = "wellapi-schedule-SweepFunction"
VISIBILITY_TIMEOUT = 1
SCHEDULE_PERIOD = 0.2


@dataclass
class Running:
    server: LocalServer
    thread: threading.Thread
    exit_codes: list[int]
    database: local_db.LocalDatabase
    demo_file: Path
    stopped: bool = False

    @property
    def demo(self) -> dict[str, Any]:
        document = demo_file.read_demo(self.demo_file)
        assert document is not None
        return document

    def request(
        self,
        method: str,
        path: str,
        key: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        host, port = self.server.server_address[:2]
        connection = http.client.HTTPConnection(str(host), port, timeout=30)
        headers = {**({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})}
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def counts(self, queue: str = "sync") -> tuple[int, int]:
        """(visible, in flight) on the local queue, as SQS counts them."""
        aws = self.demo["aws"]
        sqs = local_aws.client("sqs", aws["endpoint_url"], aws["region"])
        attributes = sqs.get_queue_attributes(
            QueueUrl=aws["queues"][queue],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.thread.join(timeout=90)


@contextmanager
def serving(server: local_db.LocalDatabase, root: Path, name: str) -> Iterator[Running]:
    """``wellapi run`` in a thread, on a new database ``name`` of the session's server, with
    ``.local/demo.json`` in ``root``; stopped at the end, and the process left as it was:
    environment, import path, function modules, pools; the database dropped."""
    started: list[LocalServer] = []

    class RecordedServer(LocalServer):
        def serve_forever(self, poll_interval: float = 0.5) -> None:
            started.append(self)
            super().serve_forever(poll_interval)

    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    saved_environment = dict(os.environ)
    exit_codes: list[int] = []
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(demo_file, "DEMO_FILE", root / "demo.json")
            patch.setattr(run_command, "LocalServer", RecordedServer)
            patch.setenv("DATABASE_URL", server.with_database(name).admin_url)
            patch.delenv("PORT", raising=False)
            argv = [
                "run",
                "--port",
                "0",
                "--template",
                str(ROOT / "template.yaml"),
                "--visibility-timeout",
                str(VISIBILITY_TIMEOUT),
                "--schedule-period",
                str(SCHEDULE_PERIOD),
            ]
            thread = threading.Thread(target=lambda: exit_codes.append(cli.main(argv)), daemon=True)
            thread.start()
            deadline = time.monotonic() + 180
            while not started and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert started, f"the server did not start (exit codes {exit_codes})"
            running = Running(
                started[0],
                thread,
                exit_codes,
                server.with_database(name),
                root / "demo.json",
            )
            try:
                yield running
            finally:
                running.stop()
    finally:
        # `wellapi run` sets the functions' variables (the database roles' URLs, the bus...).
        os.environ.clear()
        os.environ.update(saved_environment)
        sys.path[:] = saved_path
        functions = str(ROOT / "functions")
        for module in set(sys.modules) - saved_modules:
            if (getattr(sys.modules[module], "__file__", None) or "").startswith(functions):
                del sys.modules[module]
        wellapi_db.reset_pools()
        local_db.drop_database(server, name)


@pytest.fixture(scope="module")
def running(
    server: local_db.LocalDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """The module's server, which every test but the stopping one shares."""
    with serving(server, tmp_path_factory.mktemp("run"), f"wellapi_run_{os.getpid()}") as up:
        yield up


@pytest.fixture
def admin(running: Running) -> Iterator[pg8000.native.Connection]:
    conn = local_db.admin_connection(running.database.admin_url)
    try:
        yield conn
    finally:
        conn.close()


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Until ``condition`` holds; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def command_output(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The lines a command printed on stdout, without the JSON lines (logs, metrics) the
    server's functions print there meanwhile: the scheduled sweep runs every 0.2 s."""
    return [line for line in capsys.readouterr().out.splitlines() if not line.startswith("{")]


def receipts(conn: pg8000.native.Connection, idempotency_key: str) -> int:
    """1 once the message with that key has taken effect (the writer's exactly-once receipt)."""
    rows = conn.run(
        f"SELECT count(*) FROM {SCHEMA}.sync_receipts WHERE idempotency_key = :k",
        k=idempotency_key,
    )
    return int(rows[0][0])


# ---- demo keys -----------------------------------------------------------------------------


def test_demo_json_holds_working_keys_for_each_workspace_and_the_service(
    running: Running,
) -> None:
    demo = running.demo
    assert demo["base_url"] == running.server.url
    assert [w["name"] for w in demo["workspaces"]] == ["Acme Finance", "Globex Holdings"]
    for workspace in demo["workspaces"]:
        status, _, body = running.request(
            "GET", f"/v1/workspaces/{workspace['workspace_id']}/providers", workspace["api_key"]
        )
        assert status == 200, body
        assert json.loads(body)["data"]
    status, _, _ = running.request(
        "GET", "/v1/account-workspace-connectors", running.demo["service_key"]
    )
    assert status == 200
    status, _, body = running.request("GET", "/v1/account-workspace-connectors")
    assert status == 401  # no key: ours, as JSON:API (never API Gateway's own answer)
    assert json.loads(body)["errors"][0]["code"] == "CREDENTIALS_MISSING"


# ---- a resource's item routes ------------------------------------------------------------------


# Not the gateway's: the authorizer, the scheduled functions, and the queue's consumer, which
# may still be receiving a message a test before left on the queue (the poison one, five times).
NOT_ROUTED = ("AuthorizerFunction", "SweepFunction", "DrainFunction", "SyncFunction")


@pytest.fixture
def served(running: Running, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions the gateway invokes from now on for the routes (``NOT_ROUTED`` left out)."""
    runtime = running.server.gateway.runtime
    invoke = runtime.invoke
    calls: list[str] = []

    def recorded(function_id: str, event: Any) -> Any:
        if function_id not in NOT_ROUTED:
            calls.append(function_id)
        return invoke(function_id, event)

    monkeypatch.setattr(runtime, "invoke", recorded)
    return calls


def test_the_related_and_relationship_routes_reach_their_own_functions(
    running: Running, served: list[str]
) -> None:
    key = running.demo["workspaces"][0]["api_key"]
    status, _, body = running.request("GET", "/v1/account-workspace-connectors", key)
    assert status == 200, body
    row = json.loads(body)["data"][0]
    item = f"/v1/account-workspace-connectors/{row['id']}"
    account = row["relationships"]["account"]["data"]

    served.clear()
    status, _, body = running.request("GET", f"{item}/account", key)
    assert status == 200, body
    related = json.loads(body)["data"]
    assert (related["type"], related["id"]) == (account["type"], account["id"])
    status, _, body = running.request("GET", f"{item}/relationships/account", key)
    assert status == 200, body
    assert json.loads(body)["data"] == account
    # `relationships` alone is no relationship: the related route takes it, as in AWS.
    status, _, body = running.request("GET", f"{item}/relationships", key)
    assert status == 404, body
    assert json.loads(body)["errors"][0]["code"] == "UNKNOWN_RELATIONSHIP"
    assert served == [
        "AccountWorkspaceConnectorsRelatedFunction",
        "AccountWorkspaceConnectorsRelationshipFunction",
        "AccountWorkspaceConnectorsRelatedFunction",
    ]


# ---- what no route serves: the $default route's function -------------------------------------


def test_a_misspelt_path_is_a_308_to_its_route_which_then_answers(
    running: Running, served: list[str]
) -> None:
    key = running.demo["workspaces"][0]["api_key"]
    # jsonapi-requests' trailing slash, devour-client's snake case, spraypaint's singular,
    # @orbit/jsonapi's camel case, no /v1: each one redirect, the query string kept.
    for written in ("workspace-providers/", "workspace_providers", "workspace_provider"):
        for prefix in ("/v1/", "/"):
            status, headers, body = running.request("GET", f"{prefix}{written}?page[size]=2", key)
            assert status == 308, body
            assert headers["Content-Type"] == "application/vnd.api+json"
            location = headers["Location"]
            assert location == f"{running.server.url}/v1/workspace-providers?page[size]=2"
            assert json.loads(body)["meta"]["canonical_path"] == "/v1/workspace-providers"
    status, _, body = running.request("GET", location.removeprefix(running.server.url), key)
    assert status == 200, body
    assert 0 < json.loads(body)["meta"]["count"] <= 2
    assert set(served) == {"UnmatchedFunction", "WorkspaceProvidersListFunction"}


def test_a_redirected_write_keeps_its_method_and_body(running: Running, served: list[str]) -> None:
    workspace = running.demo["workspaces"][1]
    key, workspace_id = workspace["api_key"], workspace["workspace_id"]
    status, _, body = running.request(
        "GET", f"/v1/workspaces/{workspace_id}/providers?page[size]=1", key
    )
    assert status == 200, body
    provider = json.loads(body)["data"][0]["id"]
    relationships = {"provider": {"data": {"type": "providers", "id": provider}}}
    sent = json.dumps({"data": {"type": "workspace-providers", "relationships": relationships}})
    headers = {"Content-Type": "application/vnd.api+json"}
    status, answered, body = running.request(
        "POST", f"/v1/Workspace/{workspace_id}/Provider/", key, sent.encode(), headers
    )
    assert status == 308, body
    canonical = f"/v1/workspaces/{workspace_id}/providers"
    assert answered["Location"] == running.server.url + canonical
    # A client follows a 308 with the same method and body (RFC 9110, 15.4.9).
    status, answered, body = running.request("POST", canonical, key, sent.encode(), headers)
    assert status in (200, 201), body
    selected = json.loads(body)["data"]
    assert selected["relationships"]["provider"]["data"]["id"] == provider
    assert selected["attributes"]["is_selected"] is True
    assert served == [
        "WorkspaceProvidersCatalogFunction",
        "UnmatchedFunction",
        "WorkspaceProvidersSelectFunction",
    ]


def test_a_path_no_route_has_is_a_jsonapi_404_and_a_wrong_method_a_405(
    running: Running, served: list[str]
) -> None:
    key = running.demo["workspaces"][0]["api_key"]
    status, headers, body = running.request("GET", "/v1/accounts?page[size]=1", key)
    assert (status, headers["Content-Type"]) == (404, "application/vnd.api+json"), body
    (error,) = json.loads(body)["errors"]
    assert (error["code"], error["detail"]) == (
        "ROUTE_NOT_FOUND",
        "No route of this API serves GET /v1/accounts.",
    )
    assert error["meta"]["trace_id"] == headers["apigw-requestid"]
    status, headers, body = running.request("PUT", "/v1/changes", key)
    assert (status, headers["Allow"]) == (405, "GET"), body
    assert json.loads(body)["errors"][0]["code"] == "METHOD_NOT_ALLOWED"
    # Without a key: the same 401 as on every route, never API Gateway's own answer.
    status, headers, body = running.request("GET", "/v1/accounts")
    assert (status, headers["WWW-Authenticate"]) == (401, 'Bearer realm="wellapi"'), body
    assert json.loads(body)["errors"][0]["code"] == "CREDENTIALS_MISSING"
    # OPTIONS (a browser's preflight has no key): 204 with the methods of the path.
    status, headers, body = running.request("OPTIONS", "/v1/workspace-providers")
    assert (status, headers["Allow"], body) == (204, "GET, POST", b"")
    assert served == ["UnmatchedFunction"] * 4


# ---- documentation -----------------------------------------------------------------------------


def test_the_openapi_document_and_swagger_ui_are_served_without_a_key(running: Running) -> None:
    status, headers, body = running.request("GET", "/v1/openapi.json")
    assert (status, headers["content-type"]) == (200, "application/json")
    assert body.decode() == (ROOT / "openapi.json").read_text()
    status, headers, body = running.request("GET", "/docs")
    assert (status, headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert b"/docs/swagger-ui-bundle.js" in body
    assert b'url: "/v1/openapi.json"' in body
    status, headers, body = running.request("GET", "/docs/swagger-ui-bundle.js")
    assert (status, headers["content-type"]) == (200, "text/javascript")
    assert body.startswith(b"/*! For license information")
    status, _, _ = running.request("GET", "/docs/openapi-3.0.json")
    assert status == 404  # Swagger UI 5 renders the 3.1 document: no translated copy


# ---- the sync queue and the change bus ------------------------------------------------------


def shown(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    """The JSON document ``wellapi queue`` or ``wellapi events`` printed, among the one-line
    JSON logs and metrics the server's functions print on stdout meanwhile."""
    assert cli.main(list(argv)) == 0
    printed = re.search(r"^\{\n.*?^\}$", capsys.readouterr().out, re.MULTILINE | re.DOTALL)
    assert printed is not None
    document: dict[str, Any] = json.loads(printed.group())
    return document


def test_run_serves_the_templates_queues_and_bus_on_moto_and_records_them(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = running.demo["aws"]
    assert aws["endpoint_url"].startswith("http://127.0.0.1:")
    assert sorted(aws["queues"]) == ["sync", "sync-dead-letter"]
    assert aws["event_bus"] == "local-changes"
    queue = shown(capsys, "queue", "sync")
    assert queue["visibility_timeout_seconds"] == VISIBILITY_TIMEOUT  # --visibility-timeout
    assert queue["max_receive_count"] == 5  # the template's maxReceiveCount
    assert queue["dead_letter_queue"] == aws["queues"]["sync-dead-letter"]


def test_enqueue_prints_what_it_sent_and_the_sync_function_writes_the_rows_and_their_events(
    running: Running, admin: pg8000.native.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    event = ROOT / "events" / "sync-provenance-linked.json"
    body = json.loads(json.loads(event.read_text())["Records"][0]["body"])
    assert receipts(admin, body["idempotency_key"]) == 0
    assert cli.main(["enqueue", str(event)]) == 0  # the queue's URL from demo.json
    printed = command_output(capsys)
    assert printed[0].startswith("enqueued ")
    assert printed[0].endswith(f"provenance.linked {body['idempotency_key']}")
    assert printed[1].startswith("queue sync: ")
    wait_until(lambda: receipts(admin, body["idempotency_key"]) == 1)
    linked = admin.run(
        f"SELECT count(*) FROM {SCHEMA}.account_workspace_connectors l "
        f"JOIN {SCHEMA}.accounts a ON a.pk = l.account_pk "
        "WHERE a.account_id = ANY(CAST(:ids AS uuid[])) "
        "AND l.created_at > now() - interval '1 minute'",
        ids="{" + ",".join(body["record_ids"]) + "}",
    )
    assert linked == [[len(body["record_ids"])]]
    wait_until(lambda: running.counts() == (0, 0))  # deleted once it succeeded

    # The drain function, every 0.2 s, publishes the link's change to the bus on moto, whose
    # rule delivers it to the queue `wellapi events` reads.
    def published() -> list[dict[str, Any]]:
        events = shown(capsys, "events", "--last", "0")["events"]
        return [e for e in events if e["detail"].get("message_key") == body["idempotency_key"]]

    wait_until(lambda: bool(published()))
    (change,) = published()
    assert change["source"] == "well.junctions"
    assert change["detail-type"] == "account_workspace_connector.linked"
    assert sorted(change["detail"]["record_ids"]) == sorted(body["record_ids"])


def test_a_poison_message_ends_in_the_dead_letter_queue_after_five_receives(
    running: Running, admin: pg8000.native.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    event = ROOT / "events" / "sync-poison.json"
    records = json.loads(event.read_text())["Records"]
    good, poison = (json.loads(r["body"]) for r in records)
    assert cli.main(["enqueue", str(event)]) == 0
    poison_id = command_output(capsys)[1].split()[1]
    # Five receives, each after the visibility timeout and the 2 s batching window.
    wait_until(lambda: running.counts("sync-dead-letter") == (1, 0), timeout=180)
    queue = shown(capsys, "queue", "sync")
    assert queue["dead_letters"] == [{"messageId": poison_id, "body": records[1]["body"]}]
    assert (queue["visible"], queue["in_flight"], queue["dead_lettered"]) == (0, 0, 1)
    assert receipts(admin, good["idempotency_key"]) == 1
    assert receipts(admin, poison["idempotency_key"]) == 0


def test_enqueue_refuses_nothing_to_enqueue_and_names_the_queues_it_has(
    running: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = tmp_path / "message.json"
    message.write_text('{"type": "provenance.linked"}')
    assert cli.main(["enqueue", str(message), "--queue", "nope"]) == 1
    assert "no local queue 'nope' (queues: sync, sync-dead-letter)" in capsys.readouterr().err
    (tmp_path / "empty.json").write_text("")
    assert cli.main(["enqueue", str(tmp_path / "empty.json")]) == 2
    assert "wellapi: an empty message" in capsys.readouterr().err


def test_the_url_seed_records_is_port_or_the_one_demo_json_holds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(demo_file, "DEMO_FILE", tmp_path / "demo.json")
    monkeypatch.delenv("PORT", raising=False)
    assert demo_file.default_base_url() == "http://127.0.0.1:3000"
    (tmp_path / "demo.json").write_text('{"base_url": "http://127.0.0.1:4321"}')
    assert demo_file.default_base_url() == "http://127.0.0.1:4321"
    monkeypatch.setenv("PORT", "8080")
    assert demo_file.default_base_url() == "http://127.0.0.1:8080"


# ---- the sweep's schedule ----------------------------------------------------------------------


def revocation(conn: pg8000.native.Connection, connector_id: str) -> list[Any]:
    """The connector's revocation: [when it was swept (None: not yet), rows swept], or []."""
    rows = conn.run(
        f"SELECT r.swept_at, r.rows_swept FROM {SCHEMA}.connector_revocations r "
        f"JOIN {SCHEMA}.workspace_connectors w ON w.pk = r.workspace_connector_pk "
        "WHERE w.workspace_connector_id = CAST(:id AS uuid)",
        id=connector_id,
    )
    return list(rows[0]) if rows else []


def test_a_revocation_put_on_the_queue_is_swept_by_the_scheduled_sweep_function(
    running: Running, admin: pg8000.native.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [t for t in threading.enumerate() if t.name == SCHEDULE_THREAD]
    event = ROOT / "events" / "sync-connector-revoked.json"
    body = json.loads(json.loads(event.read_text())["Records"][0]["body"])
    connector = body["workspace_connector_id"]
    assert revocation(admin, connector) == []
    assert cli.main(["enqueue", str(event)]) == 0
    capsys.readouterr()
    # The sync function records the revocation; the sweep, invoked every 0.2 s, sweeps it.
    wait_until(lambda: (revocation(admin, connector) or [None])[0] is not None)
    live = admin.run(
        f"SELECT count(*) FROM {SCHEMA}.account_workspace_connectors l "
        f"JOIN {SCHEMA}.workspace_connectors w ON w.pk = l.workspace_connector_pk "
        "WHERE w.workspace_connector_id = CAST(:id AS uuid) AND l.deleted_at IS NULL",
        id=connector,
    )
    assert live == [[0]]


# ---- concurrency -----------------------------------------------------------------------------


def test_twenty_concurrent_requests_all_succeed_and_overlap_in_several_environments(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = running.server.gateway.runtime
    invoke = runtime.invoke
    counted = {"in_flight": 0, "peak": 0, "done": 0}
    lock = threading.Lock()

    def counting(function_id: str, event: Any) -> Any:
        listed = function_id == "AccountWorkspaceConnectorsListFunction"
        if listed:
            with lock:
                counted["in_flight"] += 1
                counted["peak"] = max(counted["peak"], counted["in_flight"])
        try:
            return invoke(function_id, event)
        finally:
            if listed:
                with lock:
                    counted["in_flight"] -= 1
                    counted["done"] += 1

    monkeypatch.setattr(runtime, "invoke", counting)
    key = running.demo["workspaces"][0]["api_key"]
    path = "/v1/account-workspace-connectors?include=account,workspace_connector"
    running.request("GET", path, key)  # warm: the function is imported, the key cached
    counted.update(peak=0, done=0)
    barrier = threading.Barrier(20)

    def call(_: int) -> int:
        barrier.wait()
        return running.request("GET", path, key)[0]

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(call, range(20)))
    assert statuses == [200] * 20
    assert counted["done"] == 20
    assert counted["peak"] >= 2, "the requests did not overlap"
    environments = runtime.environments_of("AccountWorkspaceConnectorsListFunction")
    assert environments.bound == run_command.LOCAL_ENVIRONMENTS
    # Each request that overlapped another ran in an environment of its own.
    assert 2 <= environments.peak_busy <= environments.started <= run_command.LOCAL_ENVIRONMENTS


def test_fifty_concurrent_requests_to_a_cold_function_are_each_answered(running: Running) -> None:
    # No request of this module reaches this function before: its environments start cold,
    # under the load, as the first POSTs of clients after `make run` do. Each is refused by
    # the function itself (no JSON:API media type), and each gets that answer: none is reset
    # by a listen backlog that overflowed while the function imported.
    key = running.demo["service_key"]
    body = json.dumps({"data": {"type": "company_workspace_connector"}}).encode()
    barrier = threading.Barrier(50)

    def call(_: int) -> int:
        barrier.wait()
        return running.request("POST", "/v1/company-workspace-connectors", key, body)[0]

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(call, range(50)))

    assert statuses == [415] * 50


# ---- the operator, and the smoke test --------------------------------------------------------


@pytest.fixture
def beside(running: Running, monkeypatch: pytest.MonkeyPatch) -> Running:
    """The server, and this process's environment as a shell's beside ``make run``: the
    database's administrative URL (the server set the API role's, for its functions)."""
    monkeypatch.setenv("DATABASE_URL", running.database.admin_url)
    return running


def test_the_operator_makes_a_tenant_and_a_key_that_the_api_answers(
    beside: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    running = beside

    def operate(*argv: str) -> dict[str, Any]:
        return shown(capsys, "operator", *argv)  # the key read here leaves the captured output

    workspace = operate("make-workspace", "--name", "Operated")["workspace_id"]
    made = operate("add-person", "--workspace", workspace, "--name", "Ada", "--role", "owner")
    operate("add-connector", "--workspace", workspace, "--connector", "Bank", "--provider", "well")
    person = ("--workspace", workspace, "--person", made["person_id"])
    issued = operate("issue-key", *person, "--kind", "member", "--name", "laptop")
    rotated = operate("rotate-key", "--key", issued["prefix"], "--expires-in", "600")
    status, _, _ = running.request("GET", "/v1/changes", issued["key"])
    assert status == 401  # rotated: revoked (the authorizer had not seen it before)

    def recorded() -> set[str]:
        status, _, body = running.request("GET", "/v1/changes?limit=50", rotated["key"])
        assert status == 200, body
        return {r["attributes"]["resource_type"] for r in json.loads(body)["data"]}

    every = {"workspace", "people", "membership", "workspace_connector", "api_key"}
    wait_until(lambda: recorded() == every)
    assert operate("revoke-key", "--key", rotated["api_key_id"])["revoked"] is True
    assert cli.main(["operator", "revoke-key", "--key", str(uuid.uuid4())]) == 1
    assert '"code": "NOT_FOUND"' in capsys.readouterr().out


def test_the_smoke_test_passes_against_the_local_stack_and_again(
    beside: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    passed = f"smoke: 6/6 passed ({', '.join(smoke.CHECKS)}) against {beside.server.url}"
    for _ in range(2):  # the smoke tenant made once, found after
        assert smoke.main([]) == 0
        assert passed in capsys.readouterr().out.splitlines()


# ---- stopping ------------------------------------------------------------------------------------


def test_stopping_the_server_stops_the_queue_poller_the_schedule_and_moto_and_exits_0(
    server: local_db.LocalDatabase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A server of its own: the module's serves the other tests, whichever run after this one.
    # Its threads are those that start with it (the module's, when it runs, has its own).
    threads = (POLLER_THREAD, SCHEDULE_THREAD)
    before = set(threading.enumerate())
    with serving(server, tmp_path, f"wellapi_run_stop_{os.getpid()}") as running:
        its_own = [t for t in threading.enumerate() if t not in before and t.name in threads]
        assert sorted(t.name for t in its_own) == sorted(threads)
        endpoint = running.demo["aws"]["endpoint_url"]
        running.stop()
        assert not running.thread.is_alive()
        assert running.exit_codes == [0]
        assert not [t for t in its_own if t.is_alive()]
        assert "did not stop in time" not in capsys.readouterr().err
        # moto stopped with it, and the command says so (its demo.json still names it).
        assert cli.main(["events"]) == 1
        assert f'Could not connect to the endpoint URL: "{endpoint}/"' in capsys.readouterr().err
