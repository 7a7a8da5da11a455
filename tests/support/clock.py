"""Clocks for tests of code that measures or waits for time: no test waits for real seconds.

``ManualClock`` moves only when the test advances it; ``PassingTime`` also stands in for the
code's waits, letting the time asked for pass at once and recording it, so that a test asserts
on the delays the code asked for, never on how long something took.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class ManualClock:
    """A monotonic clock that moves only when the test advances it.

    ``read`` is set at every reading, so that a test can wait until the code under test has
    looked at the clock (clear it first).
    """

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.read = threading.Event()

    def __call__(self) -> float:
        self.read.set()
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class PassingTime(ManualClock):
    """A clock on which every wait passes at once: the wait's whole time goes by, recorded.

    ``wait`` has the shape of ``threading.Condition.wait`` (called with the condition held,
    it is never notified); ``on_wait`` runs at each wait, after the clock has moved.
    """

    def __init__(
        self, now: float = 1000.0, on_wait: Callable[[float], object] | None = None
    ) -> None:
        super().__init__(now)
        self.waits: list[float] = []
        self.on_wait = on_wait

    def wait(self, condition: threading.Condition, seconds: float) -> bool:
        self.waits.append(seconds)
        self.advance(seconds)
        if self.on_wait is not None:
            self.on_wait(seconds)
        return False
