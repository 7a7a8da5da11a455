"""The bench's modules import one way: the command, the run, the phases, what they share.

Read from the source (every import, those inside functions too), so that a phase importing
another, or the report importing a phase back, fails here rather than growing a cycle. The
child programs import nothing of the toolkit at all (tests/test_bench_children.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from welldev import bench

PACKAGE = "welldev.bench"
BENCH = Path(bench.__file__).parent
# Top to bottom; a module imports only from the layers below its own, never beside it.
LAYERS = (
    {"__main__"},
    {"command_line"},
    {"runner"},
    {"cold_start", "first_request", "warm", "round_trips", "scale", "sync", "memory", "large"},
    {"api_requests", "raw_client", "sandbox", "runtime_api", "profiles", "machine", "large_tenant"},
    {"databases", "wire"},
    {"harness", "report"},
    {"config", "errors"},
)
CHILDREN = {p.stem for p in BENCH.glob("child_*.py")}


def layer_of(module: str) -> int:
    (index,) = (i for i, layer in enumerate(LAYERS) if module in layer)
    return index


def bench_imports(module: str | Path) -> set[str]:
    """The package's own modules that ``module`` imports, anywhere in its source."""
    path = module if isinstance(module, Path) else BENCH / f"{module}.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            names = [f"{PACKAGE}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        found |= {n.removeprefix(f"{PACKAGE}.") for n in names if n.startswith(f"{PACKAGE}.")}
    return found


def test_every_module_of_the_bench_has_a_layer_or_is_a_child_program():
    modules = {p.stem for p in BENCH.glob("*.py")} - {"__init__"}
    assert modules - CHILDREN == set().union(*LAYERS)
    assert CHILDREN


@pytest.mark.parametrize("module", sorted(set().union(*LAYERS)))
def test_a_bench_module_imports_only_from_the_layers_below_it(module: str):
    upward = {m for m in bench_imports(module) if layer_of(m) <= layer_of(module)}
    assert upward == set()


def test_the_report_imports_no_phase_and_nothing_it_would_print_from():
    assert bench_imports("report") == {"errors"}


def test_imports_inside_functions_and_of_the_package_are_read_too(tmp_path: Path):
    source = tmp_path / "phase.py"
    source.write_text(
        "import welldev.bench.wire\n"
        "from welldev.bench import large_tenant\n"
        "from welldev.cli import step\n"
        "def measure():\n"
        "    from welldev.bench.warm import measure_warm\n"
    )
    assert bench_imports(source) == {"wire", "large_tenant", "warm"}
