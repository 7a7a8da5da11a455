"""welldev.bench.harness.taking_turns: the sides measured take turns, one call a turn or a run of
them back to back, and each side gets exactly the measures asked for."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from welldev.bench.harness import taking_turns


def _recording(order: list[str]) -> dict[str, Callable[[], Any]]:
    return {side: functools.partial(order.append, side) for side in ("a", "b")}


def _measured(order: list[str]) -> Callable[[Callable[[], Any]], int]:
    def measure(call: Callable[[], Any]) -> int:
        call()
        return len(order)

    return measure


def test_one_call_a_turn_alternates_the_sides_after_the_warmup() -> None:
    order: list[str] = []
    samples = taking_turns(_recording(order), 3, 1, _measured(order))
    assert order == ["a", "b"] * 4
    assert samples == {"a": [3, 5, 7], "b": [4, 6, 8]}


@pytest.mark.parametrize(
    ("iterations", "run", "measured"),
    [(6, 3, "aaabbbaaabbb"), (7, 3, "aaabbbaaabbbab"), (2, 5, "aabb")],
)
def test_a_run_measures_one_side_back_to_back_and_each_side_gets_every_measure(
    iterations: int, run: int, measured: str
) -> None:
    order: list[str] = []
    samples = taking_turns(_recording(order), iterations, 0, _measured(order), run)
    assert "".join(order) == measured
    assert [len(s) for s in samples.values()] == [iterations, iterations]
