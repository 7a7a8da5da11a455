"""``make load`` in miniature: the runner works end to end and counts what it must count.

The real run (20 s, 8 workers) is ``make load``; here two workers drive the same mix for two
seconds against a database of their own on the test server, through the same command.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from welldev import database as local_db
from welldev import load

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


def test_a_short_run_serves_every_kind_of_the_mix_without_errors_and_reports_percentiles(
    server: local_db.LocalDatabase, tmp_path: Path
) -> None:
    output = tmp_path / "load.json"
    name = f"wellapi_load_smoke_{os.getpid()}"
    try:
        status = load.main(
            ["--duration", "2", "--workers", "2", "--output", str(output), "--database", name],
            server=server,
        )
    finally:
        local_db.drop_database(server, name)

    summary = json.loads(output.read_text())
    assert status == 0, summary["error_samples"]
    assert summary["errors"] == 0
    assert summary["requests"] >= len(KINDS) * 2
    assert set(summary["by_kind"]) == KINDS
    assert summary["throughput_rps"] > 0
    assert 0.3 < summary["read_share"] < 0.9
    latency = summary["latency"]
    assert 0 < latency["p50_ms"] <= latency["p90_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert summary["environments_per_function"] == 2
    assert 1 <= summary["peak_concurrent_invocations"] <= 2


def test_an_answer_other_than_the_one_expected_is_an_error() -> None:
    worker = load.Worker("http://127.0.0.1:1", _tenant(), _tenant().providers[0])
    call = load.Call("retrieve", "GET", "/v1/x", 200, "key")

    with pytest.raises(load.MixError, match="answered 500, expected 200"):
        worker.check(call, load.Reply(500, b'{"errors": []}', load.JSONAPI))
    with pytest.raises(load.MixError, match="not JSON:API"):
        worker.check(call, load.Reply(200, b"<html>", "text/html"))
    with pytest.raises(load.MixError, match="no primary data"):
        worker.check(call, load.Reply(200, b'{"errors": []}', load.JSONAPI))
    assert worker.check(call, load.Reply(200, b'{"data": []}', load.JSONAPI)) == {"data": []}


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.5, 50.0), (0.9, 90.0), (0.99, 99.0), (1.0, 100.0)]
)
def test_percentiles_are_nearest_rank(fraction: float, expected: float) -> None:
    values = [float(v) for v in range(1, 101)]
    assert load.percentile(values, fraction) == expected
    assert load.percentile([], fraction) == 0.0


def _tenant() -> load.Tenant:
    from uuid import uuid4

    return load.Tenant("T", uuid4(), "m", "s", uuid4(), uuid4(), uuid4(), (uuid4(),))
