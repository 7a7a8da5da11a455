"""cProfile results as lines of the report's diagnostics."""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path
from typing import Any


def profile_lines(profiler: cProfile.Profile, key: str, calls: int, top: int = 15) -> list[str]:
    """The top functions, as 'µs per request  function (file:line)'."""
    stats = pstats.Stats(profiler, stream=io.StringIO())
    stats.sort_stats(key)
    lines = []
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(entries.items(), key=lambda kv: -kv[1][2 if key == "tottime" else 3])
    for (filename, line, name), (_, _, tottime, cumtime, _) in ranked[:top]:
        seconds = tottime if key == "tottime" else cumtime
        where = "/".join(Path(filename).parts[-2:])
        lines.append(f"{seconds / calls * 1e6:8.1f} us  {name} ({where}:{line})")
    return lines
