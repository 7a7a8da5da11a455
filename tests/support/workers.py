"""What a session-wide check learns in pytest-xdist's worker processes, summed in the controller.

A plugin that checks the whole run (the key audit, the link walker) keeps its figures in the
process that runs the tests. Under ``pytest -n``, that is each worker: at the end of its session
a worker hands its figures to the controller (xdist's ``workeroutput``), which adds them up
before it reports and decides the exit status. Without xdist, the one process is both.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

# What the controller has received, by check, summed over the workers that are done.
RECEIVED: dict[str, Counter[str]] = {}
LISTS: dict[str, list[str]] = {}


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workeroutput")


def from_worker(report: Any) -> bool:
    """A test report the controller received from a worker (the worker checked it already)."""
    return hasattr(report, "node")


def hand_over(config: pytest.Config, check: str, counts: dict[str, int], items: list[str]) -> None:
    """In a worker: give the controller this check's figures and findings."""
    if is_worker(config):
        config.workeroutput[check] = {"counts": counts, "items": items}  # type: ignore[attr-defined]


def received(check: str) -> tuple[Counter[str], list[str]]:
    """In the controller: the sums of every finished worker's figures, and their findings."""
    return RECEIVED.get(check, Counter()), LISTS.get(check, [])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    for check, output in (getattr(node, "workeroutput", None) or {}).items():
        if isinstance(output, dict) and "counts" in output:
            RECEIVED.setdefault(check, Counter()).update(output["counts"])
            LISTS.setdefault(check, []).extend(output["items"])
