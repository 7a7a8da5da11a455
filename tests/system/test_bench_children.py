"""The program the bench runs in a fresh Lambda-like interpreter, run here in this process.

``make bench`` starts it by path with ``python -I -S -B`` (tests/system/test_bench_smoke.py does
too), where coverage cannot follow; here its ``main`` runs on a tiny handler of its own, and
its imports are held to what the bench means to measure.
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
from welldev.bench import child_handler
from welldev.database import LocalDatabase

BENCH = Path(child_handler.__file__).parent
# Where a child's module comes from changes what it costs to import: never the venv's welldev.
MEASURED_THIRD_PARTY = {"pg8000", "awslambdaric"}
# The modules of the layer the child may load: the floor proves its requests as the function
# does (hashlib, no more), binds their values with the types the function gives them, and reads
# their answers as the function does.
MEASURED_OWN = {"wellapi.http.proofs", "wellapi.store.driver", "wellapi.store.sql"}
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


def test_the_child_program_imports_only_the_standard_library_and_what_it_measures():
    allowed = set(sys.stdlib_module_names) | MEASURED_THIRD_PARTY | MEASURED_OWN
    assert imported_top_level(Path(child_handler.__file__)) - allowed == set()


def handled(tmp_path: Path, capsys: pytest.CaptureFixture[str], **args: Any) -> dict[str, Any]:
    """What the child writes for ``args`` (its stderr's last line), its code directory first on
    its path."""
    child_handler.main([json.dumps({"paths": [str(tmp_path)], **args})])
    result: dict[str, Any] = json.loads(capsys.readouterr().err.splitlines()[-1])
    return result


def test_the_cold_child_reports_its_cpu_times_and_lists_what_the_handler_loaded(
    code_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    # As in a fresh interpreter, whatever this session imported before the child module: the
    # handler's colorsys is not loaded yet, nor among what the child found loaded at its start.
    monkeypatch.setattr(child_handler, "BEFORE", child_handler.BEFORE - {"colorsys"})
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    result = handled(
        code_dir, capsys, modules=["json"], handler=f"{HANDLER_MODULE}.handler", list=True
    )
    assert 0 < result["modules"][0] <= result["import"][0] <= result["answer"][0]
    assert result["modules"][1] <= result["import"][1] <= result["answer"][1]
    loaded = dict(result["loaded"])
    assert loaded[HANDLER_MODULE] == 0  # from the first path: the code directory
    assert loaded["colorsys"] is None  # the standard library


def test_the_memory_child_samples_its_rss_and_counts_the_answers(
    code_dir: Path, capsys: pytest.CaptureFixture[str]
):
    result = handled(
        code_dir,
        capsys,
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


def test_the_first_request_child_writes_the_answer_and_its_cpu_times(
    code_dir: Path, capsys: pytest.CaptureFixture[str]
):
    result = handled(code_dir, capsys, handler=f"{HANDLER_MODULE}.handler", event={"id": "row"})
    assert result["response"] == {"statusCode": 200, "body": "row", "remaining": 15000}
    assert 0 < result["import"][0] <= result["answer"][0]


FLOOR = "welldev.bench.child_handler.floor"  # __main__.floor in the child run by path


def test_the_floor_sends_the_sql_and_dumps_the_rows(
    database: LocalDatabase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    event = {
        "connect": wellapi_db.url_connect_kwargs(database.admin_url),
        "requests": [
            {"statements": [["SELECT $1::int AS one, $2 AS two", [1, "two"]]]},
            {"statements": [["SELECT 3 AS three", []]]},
        ],
    }
    result = handled(tmp_path, capsys, handler=FLOOR, event=event)
    expected = json.dumps([[{"one": 1, "two": "two"}], [{"three": 3}]])
    assert result["response"] == {"bytes": len(expected)}
    assert result["answer"][0] > 0


def test_a_floor_without_sql_never_connects(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    event = {"connect": {"host": "nowhere.invalid"}, "requests": []}
    result = handled(tmp_path, capsys, handler=FLOOR, event=event)
    assert result["response"] == {"bytes": len("[]")}
