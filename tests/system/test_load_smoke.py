"""``make load`` in miniature: locust runs the locustfile, and the mix's check fails what it must.

The real run (20 s, 8 users) is ``make load``; here two users drive the same mix for three
seconds against a database of their own on the test server, through the same ``locust``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from welldev import database as local_db

ROOT = Path(__file__).resolve().parents[2]
LOCUST = Path(sys.executable).with_name("locust")
KINDS = {
    "list ledger",
    "list enrolments",
    "retrieve",
    "catalog",
    "select provider",
    "patch provider",
    "remove provider",
    "create ledger row",
    "delete ledger row",
}


def test_a_short_run_serves_every_kind_of_the_mix_without_failures_and_reports_percentiles(
    server: local_db.LocalDatabase, tmp_path: Path
) -> None:
    output, name = tmp_path / "load.json", f"wellapi_load_smoke_{os.getpid()}"
    flags = ["--users", "2", "--spawn-rate", "2", "--run-time", "3s"]
    try:
        run = subprocess.run(
            [LOCUST, *flags, "--database", name, "--output", str(output)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": server.admin_url},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        local_db.drop_database(server, name)

    assert run.returncode == 0, run.stderr[-4000:]
    assert "Response time percentiles" in run.stderr  # locust's own table
    summary = json.loads(output.read_text())
    assert summary["errors"] == 0
    assert set(summary["by_kind"]) == KINDS
    assert summary["throughput_rps"] > 0
    assert 0.3 < summary["read_share"] < 0.9
    latency = summary["latency"]
    assert 0 < latency["p50_ms"] <= latency["p90_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert summary["environments_per_function"] == 2
    assert 1 <= summary["peak_concurrent_invocations"] <= 2


def test_an_answer_other_than_the_one_expected_is_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The check alone: without gevent's patching of this process, which locust does on import.
    monkeypatch.setenv("LOCUST_SKIP_MONKEY_PATCH", "1")
    from welldev.load import JSONAPI, problem

    assert problem(500, JSONAPI, b'{"errors": []}', 200) == (
        "answered 500, expected 200: b'{\"errors\": []}'"
    )
    assert problem(200, "text/html", b"<html>", 200) == "answered 'text/html', not JSON:API"
    assert problem(200, JSONAPI, b'{"errors": []}', 200) == "the reply has no primary data"
    assert problem(200, JSONAPI, b'{"data": []}', 200) is None
    assert problem(204, "", b"", 204) is None
