"""Imports in the shipped package and in the benchmark go one way; wellapi never imports welldev.

The contracts are pyproject.toml's ``[tool.importlinter]`` (docs/code.md's "The layers of
`wellapi`" lists the packages): the packages' layers, no SQLAlchemy on a request's path, no SQL
package in the JSON:API package, the resources' and the sync package's own layers;
import-linter reads every import, those inside functions and under ``TYPE_CHECKING`` too, so a
lazy import must follow the layers as well.
No database: this runs in a second.
"""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import wellapi
import wellapi.handlers
from wellapi import resources, sync
from welldev import bench

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return config["tool"]["importlinter"]


def _contract(contract_id: str) -> dict[str, Any]:
    (contract,) = (c for c in _config()["contracts"] if c["id"] == contract_id)
    return contract


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _ini(contracts: list[dict[str, Any]]) -> str:
    """The contracts in import-linter's INI form (the standard library writes no TOML)."""
    lines = ["[importlinter]", "root_packages =", *(f"    {p}" for p in _config()["root_packages"])]
    lines.append(f"include_external_packages = {_config()['include_external_packages']}")
    for contract in contracts:
        lines.append(f"[importlinter:contract:{contract['id']}]")
        for key, value in contract.items():
            if key == "id":
                continue
            if isinstance(value, list):
                lines.extend([f"{key} =", *(f"    {v}" for v in value)])
            else:
                lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def test_the_shipped_package_keeps_its_layers_and_never_imports_the_toolkit():
    result = _lint(ROOT / "pyproject.toml")

    assert result.returncode == 0, result.stdout + result.stderr
    for contract in _config()["contracts"]:
        assert f"{contract['name']} KEPT" in result.stdout
    assert f"Contracts: {len(_config()['contracts'])} kept, 0 broken." in result.stdout


def _layered(contract_id: str) -> set[str]:
    return {
        name.strip()
        for layer in _contract(contract_id)["layers"]
        for name in re.split(r"[|:]", layer)
    }


# The base modules: the only modules of wellapi outside a package, imported by every package.
BASE_MODULES = {"domain", "errors", "settings", "roles"}


def test_every_module_of_the_shipped_package_belongs_to_a_layer():
    # A module in no layer would be held to nothing: each must be placed on purpose. Every
    # top-level name is a package in a layer, or one of the base modules.
    top = list(pkgutil.iter_modules(wellapi.__path__))
    packages = {m.name for m in top if m.ispkg}

    assert {m.name for m in top if not m.ispkg} == BASE_MODULES
    assert packages == {
        *("handlers", "operations", "sync", "http", "sqltext", "store", "jsonapi", "resources")
    }
    assert packages | BASE_MODULES == _layered("wellapi-layers")


def test_the_request_path_is_every_package_a_request_or_a_sync_message_loads():
    # The packages a request never reaches SQLAlchemy through: every one, the composer of its SQL
    # included, and of the entry points every one but the migration function's.
    sources = set(_contract("request-path-without-sqlalchemy")["source_modules"])
    handlers = {
        f"wellapi.handlers.{m.name}" for m in pkgutil.iter_modules(wellapi.handlers.__path__)
    }
    family_modules = {
        f"wellapi.resources.{m.name}"
        for m in pkgutil.iter_modules(resources.__path__)
        if m.name
        not in _layered("resources-layers") - _below("resources-layers", "conditions | tables")
    }

    assert handlers - sources == {"wellapi.handlers.migration"}
    assert {"wellapi.operations", "wellapi.sync", "wellapi.http", "wellapi.store"} <= sources
    assert "wellapi.jsonapi" in sources
    assert family_modules <= sources
    assert "wellapi.sqltext" in sources


def _below(contract_id: str, layer: str) -> set[str]:
    """The names of the layers below ``layer`` (a line of the contract's layers)."""
    layers = _contract(contract_id)["layers"]
    return {name.strip() for line in layers[layers.index(layer) + 1 :] for name in line.split("|")}


def test_every_module_of_the_sync_package_has_a_layer():
    modules = {m.name for m in pkgutil.iter_modules(sync.__path__)}

    assert {"sweeper", "batches", "messages", "ledgers"} <= modules
    assert modules == _layered("sync-layers")


def test_every_module_of_the_resources_package_has_a_layer():
    # A resource module's SQL conditions (``*_sql``) sit above every module the request path loads.
    modules = {m.name for m in pkgutil.iter_modules(resources.__path__)}

    assert {"description", "rules", "conditions", "tables", "ledgers", "ledgers_sql"} <= modules
    assert modules == _layered("resources-layers")


def test_every_module_of_the_bench_has_a_layer_or_is_a_child_program():
    # The child programs run alone in a fresh interpreter: tests/system/test_bench_children.py holds
    # them to the standard library, pg8000 and awslambdaric.
    modules = {m.name for m in pkgutil.iter_modules(bench.__path__)} | {"__main__"}
    children = {m for m in modules if m.startswith("child_")}

    assert children
    assert modules - children == _layered("bench-layers")


def test_imports_against_the_contracts_are_caught(tmp_path):
    # The same packages, held to the layers upside down, to a toolkit that may not import the
    # shipped package, to a request path that takes in the tables (SQLAlchemy) and to a JSON:API
    # package that may not import the model: every real import breaks them, so the check is
    # not vacuous.
    layers = _contract("wellapi-layers")
    upside_down = {
        **layers,
        "id": "upside-down",
        "layers": layers["layers"][::-1],
        "ignore_imports": [],
    }
    request_path = _contract("request-path-without-sqlalchemy")
    with_tables = [*request_path["source_modules"], "wellapi.resources.tables"]
    tables_on_path = {**request_path, "id": "tables-on-path", "source_modules": with_tables}
    apart = _contract("jsonapi-apart-from-sql")
    jsonapi_without_model = {**apart, "id": "no-model", "forbidden_modules": ["wellapi.resources"]}
    families = _contract("resources-layers")
    families_upside_down = {
        **families,
        "id": "families-upside-down",
        "layers": families["layers"][::-1],
    }
    toolkit = _contract("toolkit-apart")
    reversed_toolkit = {
        **toolkit,
        "id": "toolkit-reversed",
        "source_modules": toolkit["forbidden_modules"],
        "forbidden_modules": toolkit["source_modules"],
    }
    config = tmp_path / "contracts.ini"
    contracts = [upside_down, families_upside_down, reversed_toolkit, tables_on_path]
    config.write_text(_ini([*contracts, jsonapi_without_model]), "utf-8")

    result = _lint(config)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 5 broken." in result.stdout
    # The report names an import that goes the wrong way, with its line.
    assert re.search(r"- wellapi\.handlers\.api -> wellapi\.operations \(l\.\d+\)", result.stdout)
    # The tables are SQLAlchemy's: on the request path, they would bring it in.
    assert re.search(r"wellapi\.resources\.tables -> sqlalchemy \(l\.\d+", result.stdout)
    # A resource module's conditions import its check names: upside down, that import is the
    # wrong way.
    assert re.search(
        r"- wellapi\.resources\.ledgers_sql -> wellapi\.resources\.ledgers \(l\.\d+\)",
        result.stdout,
    )
