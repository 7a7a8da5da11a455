"""Choosing the route of a request as API Gateway's HTTP API does.

Literal segments beat variables, variables beat a greedy ``{proxy+}`` tail, a named method
beats ``ANY``, and ``$default`` answers only when nothing else matches. A path that matches
with the wrong method is no match at all (API Gateway answers 404, not 405).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from welldev.stack import Authorizer, StackError

# A route only the local server has: it takes the 2.0 event and answers like a function.
LocalHandler = Callable[[dict[str, Any]], Any]
_VARIABLE = re.compile(r"\{(\w+)(\+?)\}")


class PathTemplate:
    """``/v1/things/{id}`` or ``/files/{proxy+}``: literal segments, variables, a greedy tail."""

    def __init__(self, path: str) -> None:
        self.path = path
        segments = path.split("/")[1:]
        pattern = ""
        rank: list[int] = []
        for index, segment in enumerate(segments):
            variable = _VARIABLE.fullmatch(segment)
            if variable is None:
                pattern += "/" + re.escape(segment)
                rank.append(2)
            elif not variable[2]:
                pattern += f"/(?P<{variable[1]}>[^/]+)"
                rank.append(1)
            elif index == len(segments) - 1:
                pattern += f"/(?P<{variable[1]}>.+)"
                rank.append(0)
            else:
                raise StackError(f"{path}: a greedy variable must be the last segment")
        # API Gateway prefers literal segments to variables, and both to a greedy tail.
        self.specificity = tuple(rank)
        self._pattern = re.compile(pattern)

    def match(self, path: str) -> dict[str, str] | None:
        matched = self._pattern.fullmatch(path)
        return None if matched is None else matched.groupdict()


@dataclass(frozen=True)
class RouteTarget:
    """Where a route leads: a template function (maybe behind an authorizer), or a local one."""

    route_key: str
    method: str
    path: PathTemplate | None  # None for $default
    function_id: str | None = None
    authorizer: Authorizer | None = None
    local: LocalHandler | None = None

    @property
    def name(self) -> str:
        return self.function_id or f"local {self.route_key}"


class Router:
    def __init__(self, targets: Sequence[RouteTarget]) -> None:
        self.targets = list(targets)
        keys = [t.route_key for t in self.targets]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise StackError(f"routes declared twice: {duplicates}")

    def match(self, method: str, path: str) -> tuple[RouteTarget, dict[str, str]] | None:
        best: tuple[tuple[tuple[int, ...], int], RouteTarget, dict[str, str]] | None = None
        fallback: RouteTarget | None = None
        for target in self.targets:
            if target.path is None:
                fallback = fallback or target
                continue
            if target.method not in (method, "ANY"):
                continue
            values = target.path.match(path)
            if values is None:
                continue
            rank = (target.path.specificity, 0 if target.method == "ANY" else 1)
            if best is None or rank > best[0]:
                best = (rank, target, values)
        if best is not None:
            return best[1], best[2]
        return (fallback, {}) if fallback is not None else None
