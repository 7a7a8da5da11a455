"""The programs the bench runs in a fresh Lambda-like interpreter, run here in this process.

``make bench`` starts them by path with ``python -I -S -B`` (tests/system/test_bench_smoke.py does
too), where coverage cannot follow; here each ``main`` runs on a tiny handler of its own, and
their imports are held to what the bench means to measure.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wellapi.store import connections as wellapi_db
from welldev.bench import child_first_floor, child_handler
from welldev.database import LocalDatabase

BENCH = Path(child_handler.__file__).parent
# Where a child's module comes from changes what it costs to import: never the venv's welldev.
MEASURED_THIRD_PARTY = {"pg8000", "awslambdaric"}
# The modules of the layer a child may load: the floor proves its requests as the function
# does (hashlib, no more), and binds their values with the types the function gives them.
MEASURED_OWN = {"wellapi.http.proofs", "wellapi.store.sql"}
HANDLER_MODULE = "bench_child_app"
HANDLER = """\
import colorsys

CALLS = []


def handler(event, context):
    CALLS.append(context.aws_request_id)
    remaining = context.get_remaining_time_in_millis()
    return {"statusCode": 200, "body": event["id"], "remaining": remaining}
"""


@pytest.fixture
def code_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A function's code directory; sys.path and the handler's module are put back after."""
    (tmp_path / f"{HANDLER_MODULE}.py").write_text(HANDLER)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    sys.modules.pop(HANDLER_MODULE, None)


def imported_top_level(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            own = node.module.startswith("wellapi")
            names.add(node.module if own else node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(BENCH.glob("child_*.py")), ids=lambda p: p.stem)
def test_a_child_program_imports_only_the_standard_library_and_what_it_measures(path: Path):
    allowed = set(sys.stdlib_module_names) | MEASURED_THIRD_PARTY | MEASURED_OWN
    foreign = imported_top_level(path) - allowed
    assert foreign == set()


def handled(tmp_path: Path, **args: Any) -> dict[str, Any]:
    """What the handler's child writes for ``args``, its code directory first on its path."""
    out = tmp_path / "out.json"
    child_handler.main([json.dumps({"paths": [str(tmp_path)], **args, "out": str(out)})])
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def test_the_cold_child_reports_its_cpu_times_and_lists_what_the_handler_loaded(
    code_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    # As in a fresh interpreter, whatever this session imported before the child module: the
    # handler's colorsys is not loaded yet, nor among what the child found loaded at its start.
    monkeypatch.setattr(child_handler, "BEFORE", child_handler.BEFORE - {"colorsys"})
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    result = handled(code_dir, modules=["json"], handler=f"{HANDLER_MODULE}.handler", list=True)
    assert 0 < result["modules"] <= result["import"] <= result["cpu"]
    loaded = dict(result["loaded"])
    assert loaded[HANDLER_MODULE] == 0  # from the first path: the code directory
    assert loaded["colorsys"] is None  # the standard library


def test_the_memory_child_samples_its_rss_and_counts_the_answers(code_dir: Path):
    result = handled(
        code_dir,
        handler=f"{HANDLER_MODULE}.handler",
        event={"id": "PLACEHOLDER"},
        placeholder="PLACEHOLDER",
        ids=["a", "b"],
        requests=6,
        every=2,
    )
    assert [i for i, _ in result["samples"]] == [0, 2, 4, 6]
    assert all(rss > 0 for _, rss in result["samples"])
    assert result["peak"] >= max(rss for _, rss in result["samples"])
    assert result["statuses"] == {"200": 6}


def test_the_first_request_child_writes_the_answer_and_its_cpu_times(code_dir: Path):
    result = handled(code_dir, handler=f"{HANDLER_MODULE}.handler", event={"id": "row"})
    assert result["response"] == {"statusCode": 200, "body": "row", "remaining": 15000}
    assert 0 < result["import"] <= result["cpu"]
    assert result["at"] > 0


def test_the_floor_child_sends_the_sql_and_dumps_the_rows(database: LocalDatabase, tmp_path: Path):
    out = tmp_path / "floor.json"
    args = {
        "paths": [],
        "connect": wellapi_db.url_connect_kwargs(database.admin_url),
        "requests": [
            {"statements": [["SELECT $1::int AS one, $2 AS two", [1, "two"]]]},
            {"statements": [["SELECT 3 AS three", []]]},
        ],
        "out": str(out),
    }
    child_first_floor.main([json.dumps(args)])
    result = json.loads(out.read_text())
    expected = json.dumps([[{"one": 1, "two": "two"}], [{"three": 3}]])
    assert result["bytes"] == len(expected)
    assert result["cpu"] > 0


def test_a_floor_without_sql_never_connects(tmp_path: Path):
    out = tmp_path / "floor.json"
    args = {"paths": [], "connect": {"host": "nowhere.invalid"}, "requests": [], "out": str(out)}
    child_first_floor.main([json.dumps(args)])
    assert json.loads(out.read_text())["bytes"] == len("[]")
