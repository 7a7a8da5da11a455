"""Every API function's code is ``functions/api.py``: its ``Handler`` names the resource and the
operation, and the entry module makes that handler, loading the operation's module alone."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from wellapi.handlers import entry_points
from wellapi.handlers.entry_points import OPERATION_MODULES, binding_of, handler_name
from wellapi.operations.registry import OPERATIONS, ROUTES
from wellapi.settings import get_settings

ENTRY = Path(__file__).resolve().parents[2] / "functions" / f"{entry_points.ENTRY_MODULE}.py"


@pytest.fixture
def entry(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """A fresh copy of the entry module, as Lambda's runtime imports it (nothing connects: the
    pool only connects at init when a DATABASE_URL is set and reachable, and none is here)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    get_settings.cache_clear()
    spec = importlib.util.spec_from_file_location("entry_under_test", ENTRY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    get_settings.cache_clear()


def test_each_operation_is_looked_up_in_the_module_that_declares_it():
    assert set(OPERATION_MODULES) == set(OPERATIONS)
    for name, operation in OPERATIONS.items():
        assert operation.run.__module__ == f"wellapi.operations.{OPERATION_MODULES[name]}", name
        module = sys.modules[operation.run.__module__]
        assert getattr(module, name.upper()) is operation, name


@pytest.mark.parametrize(("resource", "operation"), ROUTES)
def test_a_handler_name_says_its_resource_and_operation_back(resource, operation):
    assert binding_of(handler_name(resource, operation)) == (resource, operation)


@pytest.mark.parametrize(
    "handler",
    [
        "authorizer.handler",
        "wellapi.handlers.migration.handler",
        "api.account_workspace_connectors_list",
        "api.account_workspace_connectors__nope",
        "api.__path__",
        "other.account_workspace_connectors__list",
    ],
)
def test_any_other_handler_names_no_binding(handler):
    assert binding_of(handler) is None


def test_the_entry_module_makes_the_handler_a_name_asks_for_and_keeps_it(entry, monkeypatch):
    made: list[tuple[str, str]] = []

    def api_handler(resource: str, operation: object) -> object:
        made.append((resource, operation.name))  # type: ignore[attr-defined]
        return lambda event, context: {"statusCode": 200}

    monkeypatch.setattr("wellapi.handlers.api.api_handler", api_handler)
    first = entry.account_workspace_connectors__list
    again = entry.account_workspace_connectors__list
    assert first is again
    assert made == [("account_workspace_connectors", "list")]


@pytest.mark.parametrize("name", ["__path__", "handler", "nope__list", "changes__nope"])
def test_the_entry_module_has_no_other_attribute(entry, name):
    assert not hasattr(entry, name)
