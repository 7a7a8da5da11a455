"""``make run`` as a SAM user meets it: ``sam local invoke`` against its database, and its
execution environments reclaimed when idle, as Lambda's are.

The module starts ``wellapi run`` as ``make run`` does, a process of its own with the embedded
PostgreSQL (its data directory under a temporary home), a free HTTP port and a free database
port, and an idle period of ``IDLE_SECONDS``. Docker is not needed: what a container would get
is checked up to the container: ``.local/sam-env.json`` as SAM CLI itself applies it to the
functions of the SAM build, every role's login over the loopback TCP port with those values,
``wellapi event`` piped to ``wellapi invoke -e -`` answering 200, and ``sam local invoke``'s
own flags for the commands docs/development.md gives.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pg8000.exceptions
import pg8000.native
import psutil
import pytest

from tests.support import embedded
from tests.support.sam_build import BUILD, BUILT_TEMPLATE, Build
from tests.support.transaction_settings import differing_settings
from wellapi.roles import APP_ROLES
from welldev import database as local_db
from welldev import event_kinds, sam_local
from welldev import stack as local_stack

ROOT = Path(__file__).resolve().parents[2]
WELLAPI = Path(sys.executable).parent / "wellapi"
SAM = Path(sys.executable).parent / "sam"
# Short, so the test waits little; long enough that two requests in a row find the first one's
# environment warm.
IDLE_SECONDS = 20
STARTED = "==> serving"
# Another loopback address, standing for the Docker bridge's own address that a Linux host
# adds (no Docker here): the database listens on both.
SECOND_ADDRESS = "127.0.0.2"
# `make run`, on free ports: the HTTP server's and the database's.
RUN = (str(WELLAPI), "run", "--port", "0", "--db-port", "0")
LISTEN = ("--db-listen", f"127.0.0.1,{SECOND_ADDRESS}")
WORKER = "welldev.environment_worker"


@dataclass
class Stack:
    home: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def env_vars(self) -> dict[str, dict[str, str]]:
        return dict(json.loads((self.home / sam_local.ENV_VARS_FILE).read_text()))

    @property
    def demo(self) -> dict[str, Any]:
        return dict(json.loads((self.home / ".local" / "demo.json").read_text()))

    def wellapi(self, *argv: str, given: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(WELLAPI), *argv, "--template", str(ROOT / "template.yaml")],
            cwd=self.home,
            env=_environment(),
            input=given,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def request(self, method: str, path: str, key: str, body: bytes | None) -> int:
        address = urlsplit(self.demo["base_url"])
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=120)
        headers = {"Authorization": f"Bearer {key}"}
        if body is not None:
            headers["Content-Type"] = "application/vnd.api+json"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


def _environment() -> dict[str, str]:
    """This session's environment as a shell would give it to `make run`: the embedded
    database (no DATABASE_URL), no PORT, a short idle period."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT")}
    environment["WELLAPI_IDLE_SECONDS"] = str(IDLE_SECONDS)
    environment.pop("WELLAPI_DB_PORT", None)
    return environment


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with embedded.server_home() as home:
        log = home / "run.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    *RUN,
                    *LISTEN,
                    "--template",
                    str(ROOT / "template.yaml"),
                    "--schedule-period",
                    "3600",
                ],
                cwd=home,
                env=_environment(),
                stdout=subprocess.DEVNULL,  # the functions' log lines
                stderr=out,
            )
        running = Stack(home, process, log)
        try:
            deadline = time.monotonic() + 300
            while STARTED not in log.read_text() and process.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert process.poll() is None, log.read_text()
            yield running
        finally:
            process.send_signal(signal.SIGTERM)  # stops as Ctrl-C does, the database with it
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _logins(stack: Stack) -> dict[str, str]:
    """Each distinct DATABASE_URL of the file, as this machine reaches it, by its user."""
    return {
        values["DB_USER"]: sam_local.seen_from_the_host(values["DATABASE_URL"])
        for values in stack.env_vars.values()
    }


def _connect(
    url: str, password: str | None = None, host: str | None = None
) -> pg8000.native.Connection:
    parts = urlsplit(url)
    return pg8000.native.Connection(
        user=unquote(parts.username or ""),
        password=unquote(parts.password or "") if password is None else password,
        host=host or parts.hostname or "",
        port=parts.port or 5432,
        database=parts.path.lstrip("/"),
        timeout=30,
    )


def _sam_environments(env_vars: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ``sam local invoke --env-vars`` gives each function of the SAM build: SAM CLI's
    own resolution (its runner's, before the container is started)."""
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    # The credentials SAM passes to every container, here stand-ins: no profile, no IMDS.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    stacks, _ = SamLocalStackProvider.get_stacks(str(BUILT_TEMPLATE))
    provider = SamFunctionProvider(stacks)
    runner = LocalLambdaRunner(
        local_runtime=None,  # type: ignore[arg-type] - no container is started
        function_provider=provider,
        cwd=str(BUILD),
        real_path=str(ROOT),
        env_vars_values=env_vars,
    )
    return {
        function.name: runner._make_env_vars(function).resolve() for function in provider.get_all()
    }


def test_sam_cli_gives_each_built_function_its_roles_login_from_the_env_vars_file(
    stack: Stack, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_vars = stack.env_vars
    template = local_stack.load()
    assert set(env_vars) == set(template.functions) == set(build.functions)

    given = _sam_environments(env_vars, monkeypatch)

    assert set(given) == set(env_vars)
    for function_id, values in env_vars.items():
        assert {name: given[function_id][name] for name in values} == values, function_id
        assert urlsplit(values["DATABASE_URL"]).hostname == sam_local.CONTAINER_HOST
    assert given["SyncFunction"]["DB_USER"] == "well_sync"
    assert given["AuthorizerFunction"]["DB_USER"] == "well_auth"


def test_every_role_logs_in_over_loopback_tcp_with_the_files_password_and_only_so(
    stack: Stack,
) -> None:
    logins = _logins(stack)
    assert {"well_api", "well_auth", "well_sync", "well_drain"} < set(logins)
    for user, url in logins.items():
        assert urlsplit(url).hostname == "127.0.0.1"
        conn = _connect(url)
        try:
            assert conn.run("SELECT current_user::text, inet_server_addr()::text")[0] == [
                user,
                "127.0.0.1/32",
            ]
        finally:
            conn.close()
        with pytest.raises(pg8000.exceptions.DatabaseError, match="password authentication"):
            _connect(url, password="not-the-password").close()
        # On the other address it listens on too, with the same password and only with it.
        conn = _connect(url, host=SECOND_ADDRESS)
        try:
            assert conn.run("SELECT inet_server_addr()::text")[0] == [f"{SECOND_ADDRESS}/32"]
        finally:
            conn.close()
        with pytest.raises(pg8000.exceptions.DatabaseError, match="password authentication"):
            _connect(url, password="", host=SECOND_ADDRESS).close()


def test_over_tcp_every_role_compares_its_settings_once_and_its_own_socket_settings_are_undone(
    stack: Stack,
) -> None:
    """The migration ran over the Unix socket, the functions connect over TCP: a socket
    setting shows the socket's own value, which ``core_api.set_transaction_settings()`` sets
    rather than compares. A fresh session of every role finds nothing different (its
    transactions set nothing one by one), and a socket setting the session gave itself is undone
    for each transaction."""
    logins = {user: url for user, url in _logins(stack).items() if user in APP_ROLES}
    assert set(logins) == set(APP_ROLES)
    for user, url in logins.items():
        conn = _connect(url)
        try:
            assert differing_settings(conn) == [], user
            fresh = conn.run("SELECT current_setting('tcp_keepalives_idle')")[0][0]
            conn.run("SET tcp_keepalives_idle = 11")
            conn.run("BEGIN")
            conn.run("CALL core_api.set_transaction_settings()")
            inside = conn.run("SELECT current_setting('tcp_keepalives_idle')")[0][0]
            conn.run("COMMIT")
            after = conn.run("SELECT current_setting('tcp_keepalives_idle')")[0][0]
        finally:
            conn.close()
        assert (inside, after) == (fresh, "11"), user


def test_a_fresh_event_from_wellapi_event_answers_200_through_wellapi_invoke(
    stack: Stack,
) -> None:
    function_id = "WorkspaceProvidersListFunction"
    printed = stack.wellapi("event", function_id)
    assert printed.returncode == 0, printed.stderr
    event = json.loads(printed.stdout)
    assert event["requestContext"]["authorizer"]["lambda"]["scope_token"]

    argv = ["invoke", function_id, "-e", "-", "--env-vars", str(sam_local.ENV_VARS_FILE)]
    answered = stack.wellapi(*argv, given=printed.stdout)

    assert answered.returncode == 0, answered.stderr
    # As `sam local invoke`: the result alone on standard output, the function's log lines on
    # standard error.
    assert json.loads(answered.stdout)["statusCode"] == 200
    assert '"message":"request"' in answered.stderr


@pytest.mark.parametrize("function_id", ["AuthorizerFunction", "SyncFunction", "SweepFunction"])
def test_wellapi_event_prints_an_event_of_the_functions_kind(
    stack: Stack, function_id: str
) -> None:
    printed = stack.wellapi("event", function_id)
    assert printed.returncode == 0, printed.stderr
    template = local_stack.load()
    event_kinds.check(template, function_id, json.loads(printed.stdout))


def _crawl_requests(template: local_stack.Stack) -> list[tuple[str, str, bytes | None]]:
    """One request for every route (a wrong id answers 404: the function runs all the same)."""
    requests = []
    for route in template.routes:
        method = "GET" if route.method == "ANY" else route.method
        path = "/v1/no-such-route" if route.path == local_stack.DEFAULT_ROUTE else route.path
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        body = b"{}" if method in ("POST", "PATCH") else None
        requests.append((method, path, body))
    return requests


def _environments(server: psutil.Process) -> list[psutil.Process]:
    """The server's environment processes still running (one that has just exited, not yet
    reaped by the runtime, is a zombie: gone, its memory given back)."""
    found = []
    for child in server.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
            if WORKER in " ".join(child.cmdline()):
                found.append(child)
    return found


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
            total += process.memory_info().rss  # unless reclaimed meanwhile
    return total


def test_idle_environments_are_reclaimed_and_memory_comes_back_down(stack: Stack) -> None:
    template = local_stack.load()
    server = psutil.Process(stack.process.pid)
    key = stack.demo["workspaces"][0]["api_key"]
    server_before = server.memory_info().rss
    most_environments, peak = 0, 0
    for method, path, body in _crawl_requests(template):
        for _ in range(2):  # every route twice, the second time warm
            assert stack.request(method, path, key, body) < 500, (method, path)
        environments = _environments(server)
        most_environments = max(most_environments, len(environments))
        peak = max(peak, server.memory_info().rss + _rss(environments))

    # One request at a time never needs two environments of a function.
    assert 1 < most_environments <= len(template.functions)
    deadline = time.monotonic() + IDLE_SECONDS * 3 + 60  # bounds a hang only
    while _environments(server):
        assert time.monotonic() < deadline, "environments still alive long after the idle period"
        time.sleep(1)
    after = server.memory_info().rss
    # The environments' memory is given back, and the server kept nothing of the crawl.
    assert after < peak
    assert after / server_before < 1.5
    assert f"stopped after {IDLE_SECONDS} s idle" in stack.log.read_text()


SAM_LOCAL_INVOKE = re.compile(r"^\s*(?:.*\|\s*)?(sam local invoke .*)$", re.MULTILINE)


def _documented_commands() -> list[str]:
    text = (ROOT / "docs" / "development.md").read_text()
    section = text.split("## sam local invoke", 1)[1].split("\n## ", 1)[0]
    return SAM_LOCAL_INVOKE.findall(section)


def test_the_documented_sam_local_invoke_commands_use_its_flags_and_functions(
    build: Build,
) -> None:
    commands = _documented_commands()
    assert commands, "docs/development.md has no `sam local invoke` command"
    shown = subprocess.run(
        [str(SAM), "local", "invoke", "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    ).stdout
    flags = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", shown))
    for command in commands:
        words = command.split()
        for word in words:
            if word.startswith("-") and word != "-":
                assert word in flags, f"{command}: sam local invoke has no {word}"
        function_id = next(w for w in words[3:] if not w.startswith("-") and w[0].isupper())
        assert function_id in build.functions, command


def test_a_database_url_on_loopback_gets_the_same_file_for_containers(
    stack: Stack, tmp_path: Path
) -> None:
    # DATABASE_URL naming a server of this machine by TCP (here: the embedded one's port, as
    # its administrator): the file reaches it through the host's name, each role as its own.
    admin_url = sam_local.seen_from_the_host(stack.env_vars["MigrationFunction"]["DATABASE_URL"])
    db = local_db.LocalDatabase(admin_url)
    conn = local_db.admin_connection(admin_url)
    try:
        said = sam_local.write_for_containers(
            local_stack.load(), db, conn, None, tmp_path / "env.json"
        )
    finally:
        conn.close()
    assert f"({sam_local.CONTAINER_HOST}:" in said
    assert json.loads((tmp_path / "env.json").read_text()) == stack.env_vars
    assert (tmp_path / "env.json").stat().st_mode & 0o777 == 0o600
