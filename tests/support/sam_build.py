"""The SAM build (``make build``: ``.aws-sam/build``) the system tests read, as a fixture.

A plugin of the test session (tests/conftest.py), so every system module that reads the build
shares one definition; the unit tier may not ask for it (``build`` is a slow fixture there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from welldev.bench.sandbox import built_function_code

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
BUILT_TEMPLATE = BUILD / "template.yaml"
REBUILD_HINT = "if sources changed since the last build, run `make build` (sam build)"


@dataclass(frozen=True)
class Build:
    functions: dict[str, tuple[Path, str]]  # logical id -> (code directory, handler)
    layer: Path  # the layer's python/ directory, /opt/python in Lambda

    def code_dir(self, function_id: str) -> Path:
        return self.functions[function_id][0]

    @property
    def api_code_dirs(self) -> list[Path]:
        """The code directories built from functions/: the API, the authorizer, sync, sweep."""
        return [d for f, (d, _) in self.functions.items() if f != "MigrationFunction"]


@pytest.fixture(scope="session")
def build() -> Build:
    if not BUILT_TEMPLATE.is_file():
        pytest.fail(
            f"{BUILT_TEMPLATE.relative_to(ROOT)} is missing: run `make build` (sam build) "
            "before these tests; `make test` does",
            pytrace=False,
        )
    if BUILT_TEMPLATE.stat().st_mtime < (ROOT / "template.yaml").stat().st_mtime:
        pytest.fail(
            f"template.yaml changed after the last sam build: {REBUILD_HINT}", pytrace=False
        )
    resources = yaml.safe_load(BUILT_TEMPLATE.read_text())["Resources"]
    # The functions of the template and of its nested stacks (one per resource).
    functions = built_function_code(BUILT_TEMPLATE)
    layer = BUILD / resources["SharedLayer"]["Properties"]["ContentUri"] / "python"
    return Build(functions=functions, layer=layer)
