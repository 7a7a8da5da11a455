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


class PathTemplate:
    """``/v1/things/{id}`` or ``/files/{proxy+}``: literal segments, variables, a greedy tail."""

    _VARIABLE = re.compile(r"\{([A-Za-z0-9_.-]+)(\+?)\}")

    def __init__(self, path: str) -> None:
        self.path = path
        self._segments: list[tuple[str, str]] = []  # (kind, literal text or variable name)
        parts = path.split("/")[1:]
        for index, part in enumerate(parts):
            match = self._VARIABLE.fullmatch(part)
            if match is None:
                self._segments.append(("literal", part))
            elif match.group(2):
                if index != len(parts) - 1:
                    raise StackError(f"{path}: a greedy variable must be the last segment")
                self._segments.append(("greedy", match.group(1)))
            else:
                self._segments.append(("variable", match.group(1)))

    @property
    def specificity(self) -> tuple[int, ...]:
        # API Gateway prefers literal segments to variables, and both to a greedy tail.
        rank = {"literal": 2, "variable": 1, "greedy": 0}
        return tuple(rank[kind] for kind, _ in self._segments)

    def match(self, path: str) -> dict[str, str] | None:
        parts = path.split("/")[1:]
        values: dict[str, str] = {}
        for index, (kind, text) in enumerate(self._segments):
            if kind == "greedy":
                rest = "/".join(parts[index:])
                if not rest:
                    return None
                values[text] = rest
                return values
            if index >= len(parts):
                return None
            if kind == "literal" and parts[index] != text:
                return None
            if kind == "variable":
                if not parts[index]:
                    return None
                values[text] = parts[index]
        return values if len(parts) == len(self._segments) else None


@dataclass(frozen=True)
class RouteTarget:
    """Where a route leads: a template function (maybe behind an authorizer), or a local one."""

    route_key: str
    method: str
    path: PathTemplate | None  # None for $default
    api_id: str
    function_id: str | None = None
    authorizer: Authorizer | None = None
    local: LocalHandler | None = None

    @property
    def name(self) -> str:
        return self.function_id or f"local {self.route_key}"


class Router:
    def __init__(self, targets: Sequence[RouteTarget]) -> None:
        self._targets = list(targets)
        keys = [(t.api_id, t.route_key) for t in self._targets]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise StackError(f"routes declared twice: {duplicates}")

    @property
    def targets(self) -> list[RouteTarget]:
        return list(self._targets)

    def match(self, method: str, path: str) -> tuple[RouteTarget, dict[str, str]] | None:
        best: tuple[tuple[tuple[int, ...], int], RouteTarget, dict[str, str]] | None = None
        fallback: RouteTarget | None = None
        for target in self._targets:
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
