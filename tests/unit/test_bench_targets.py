"""welldev.bench.first_request: every function of the template is either measured, with a
handler the bench can build in process and an event of its own, or skipped with a reason."""

from __future__ import annotations

from pathlib import Path

from tests.support.template import FUNCTIONS
from wellapi.handlers.entry_points import binding_of
from wellapi.operations.registry import OPERATIONS
from welldev.bench.first_request import targets
from welldev.bench.sandbox import Function, Sandbox


def _sandbox() -> Sandbox:
    functions = {
        logical_id: Function(logical_id, Path("functions"), properties["Handler"])
        for logical_id, properties in FUNCTIONS.items()
    }
    return Sandbox(Path("layer"), Path("runtime"), functions)


def test_every_function_is_measured_or_skipped_with_a_reason():
    found, skipped = targets(_sandbox(), None)
    measured = {t.function.logical_id for t in found}
    assert measured | set(skipped) == set(FUNCTIONS)
    assert not measured & set(skipped)
    assert all(reason for reason in skipped.values())
    assert {"SweepFunction", "DrainFunction", "MigrationFunction"} <= set(skipped)


def test_every_measured_api_function_names_an_operation_the_bench_can_build():
    found, _ = targets(_sandbox(), None)
    for target in found:
        if target.kind == "api":
            binding = binding_of(target.function.handler)
            assert binding is not None, target.function.logical_id
            assert binding[1] in OPERATIONS, target.function.logical_id
