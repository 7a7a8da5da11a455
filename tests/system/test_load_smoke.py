"""``make load`` in miniature: locust runs the locustfile, and the mix's check fails what it must.

The real run (20 s, 8 users) is ``make load``; here two users drive the same mix for three
seconds against a database of their own on the test server, through the same ``locust``.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from welldev import database as local_db

ROOT = Path(__file__).resolve().parents[2]
LOCUST = Path(sys.executable).with_name("locust")
READS = {"list ledger", "list enrolments", "retrieve", "catalog"}
KINDS = READS | {
    "select provider",
    "patch provider",
    "remove provider",
    "create ledger row",
    "delete ledger row",
}


def test_a_short_run_serves_every_kind_of_the_mix_without_failures_and_reports_percentiles(
    server: local_db.LocalDatabase, tmp_path: Path
) -> None:
    prefix, name = tmp_path / "load", f"wellapi_load_smoke_{os.getpid()}"
    flags = ["--users", "2", "--spawn-rate", "2", "--run-time", "3s"]
    try:
        run = subprocess.run(
            [LOCUST, *flags, "--database", name, "--csv", str(prefix)],
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
    with (tmp_path / "load_stats.csv").open(newline="") as file:
        rows = {row["Name"]: row for row in csv.DictReader(file)}
    total = rows.pop("Aggregated")
    assert set(rows) == KINDS
    assert total["Failure Count"] == "0"
    assert float(total["Requests/s"]) > 0
    reads = sum(int(rows[kind]["Request Count"]) for kind in READS)
    assert 0.3 < reads / int(total["Request Count"]) < 0.9
    percentiles = [float(total[p]) for p in ("50%", "90%", "99%", "100%")]
    assert percentiles[0] > 0
    assert percentiles == sorted(percentiles)
    peak = re.search(r"at most (\d+) invocations at once", run.stdout + run.stderr)
    assert peak is not None
    assert 1 <= int(peak[1]) <= 2


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
