"""``make run`` serves from what it installs: the runtime lock and the local lock, nothing more.

A virtual environment is made from exactly those two locks (hashes required, no dependency
resolution, as the Makefile installs them), the two packages are put on its path from the
checkout, and ``wellapi run`` is started in it as a process of its own on a database of the
session's server: it must migrate, seed, serve a member key's List and the documentation page,
and stop cleanly. A module of the development lock (pytest, SAM, mypy...) imported anywhere on
that path would fail here, and so would a serving dependency missing from the local lock.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from welldev import database as local_db

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "layers" / "shared" / "requirements.txt"
LOCAL_LOCK = ROOT / "requirements-local.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"
SERVING = re.compile(r"serving \d+ routes on (http://[^ ]+)")
# Generous: bounds a hang (a new environment, migrations and the seed on a busy machine), and
# says nothing about speed.
HANG = 600

pytestmark = pytest.mark.slow


def _pinned(lock: Path) -> set[str]:
    names = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", lock.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


@pytest.fixture(scope="module")
def serving_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("serving") / "venv"
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)],
        check=True,
        timeout=HANG,
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [
            *(str(uv), "pip", "install", "--quiet", "--python", str(python), "--require-hashes"),
            *("--no-deps", "-r", str(RUNTIME_LOCK), "-r", str(LOCAL_LOCK)),
        ],
        check=True,
        timeout=HANG,
    )
    return python


def test_the_local_lock_holds_no_development_tool():
    local = _pinned(LOCAL_LOCK) - _pinned(RUNTIME_LOCK)
    assert local, "the local lock adds nothing to the runtime lock"
    assert {"pytest", "aws-sam-cli", "mypy", "ruff", "schemathesis"}.isdisjoint(local)
    # The local lock is made with the development lock as constraints: one version of each.
    assert _pinned(LOCAL_LOCK) <= _pinned(DEV_LOCK)


def test_the_serving_environment_has_only_the_runtime_and_local_locks(serving_python: Path):
    listed = subprocess.run(
        [str(serving_python), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=HANG,
        check=False,
    )
    if listed.returncode != 0:  # uv's environments have no pip: ask importlib.metadata
        listed = subprocess.run(
            [
                str(serving_python),
                "-c",
                "import json, importlib.metadata as m;"
                "print(json.dumps([{'name': d.metadata['Name']} for d in m.distributions()]))",
            ],
            capture_output=True,
            text=True,
            timeout=HANG,
            check=True,
        )
    installed = {re.sub(r"[-_.]+", "-", d["name"]).lower() for d in json.loads(listed.stdout)}
    assert installed - {"pip"} <= _pinned(RUNTIME_LOCK) | _pinned(LOCAL_LOCK)
    assert "pytest" not in installed


def _interrupt_by_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def serving(
    serving_python: Path, server: local_db.LocalDatabase, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    name = f"wellapi_serving_{os.getpid()}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "COV_", "COVERAGE")) and k != "PORT"
    }
    env["DATABASE_URL"] = server.with_database(name).admin_url
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT / "devkit")])
    entry_point = "import sys; from welldev.cli import script; sys.exit(script())"  # the script's
    template = str(ROOT / "template.yaml")
    process = subprocess.Popen(
        [str(serving_python), "-c", entry_point, "run", "--port", "0", "--template", template],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Ctrl-C as a terminal delivers it: a test run started in the background by a
        # non-interactive shell ignores SIGINT, and the server would inherit that and never stop.
        preexec_fn=_interrupt_by_default,
    )
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            match = SERVING.search(line)
            if match and not url:
                url.append(match.group(1))
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert found.wait(HANG), "wellapi run neither served nor stopped"
        assert url, f"wellapi run stopped before serving:\n{''.join(lines)}"
        yield url[0], tmp_path / ".local" / "demo.json"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=30)
        local_db.drop_database(server, name)
    assert process.returncode == 0, "".join(lines)
    assert "Traceback" not in "".join(lines), "".join(lines)


def _get(url: str, path: str, key: str | None = None) -> tuple[int, bytes]:
    host_port = url.removeprefix("http://")
    connection = http.client.HTTPConnection(host_port, timeout=60)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {key}"} if key else {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_make_run_serves_from_the_runtime_and_local_locks_alone(serving: tuple[str, Path]):
    url, demo_file = serving
    demo = json.loads(demo_file.read_text())
    key = demo["workspaces"][0]["api_key"]
    status, body = _get(url, "/v1/workspace-providers?include=provider", key)
    assert status == 200, body
    assert isinstance(json.loads(body)["data"], list)
    status, body = _get(url, "/docs")
    assert status == 200
    assert b"swagger-ui" in body
    status, body = _get(url, "/docs/swagger-ui-bundle.js")  # the wheel's own file
    assert status == 200
    assert len(body) > 100_000
    status, _ = _get(url, "/v1/workspace-providers")
    assert status == 401
    # The queues and the change bus: moto's server mode, from the local lock too.
    status, body = _get(demo["aws"]["endpoint_url"], "/moto-api/data.json")
    assert status == 200
    assert set(demo["aws"]["queues"]) == {"sync", "sync-dead-letter"}
