"""cProfile results as lines of the report's diagnostics."""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path


def profile_lines(profiler: cProfile.Profile, key: str, calls: int, top: int = 15) -> list[str]:
    """The top functions by ``key`` ("tottime" or "cumulative"), as 'µs per request  function
    (file:line)'."""
    stats = pstats.Stats(profiler, stream=io.StringIO()).sort_stats(key)
    column = 2 if key == "tottime" else 3  # of pstats' (calls, primitive, tottime, cumtime, ...)
    lines = []
    for function in stats.fcn_list[:top]:  # type: ignore[attr-defined]
        filename, line, name = function
        seconds = stats.stats[function][column]  # type: ignore[attr-defined]
        where = "/".join(Path(filename).parts[-2:])
        lines.append(f"{seconds / calls * 1e6:8.1f} us  {name} ({where}:{line})")
    return lines
