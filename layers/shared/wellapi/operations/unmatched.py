"""What API Gateway's ``$default`` route answers: every request no route of the API serves.

API Gateway sends a request here when no route takes its method and path, so that a JSON:API
client never reads API Gateway's own ``{"message":"Not Found"}``. The answer, as
docs/api.md says under "Unmatched routes":

- a path that differs from a served route only by how it spells its collection segments
  (kebab, snake, camel or Pascal case; the plural or the type's singular, as each resource's
  ``path`` and ``type`` give them: the spellings a write's ``type`` may use, by one rule,
  ``wellapi.jsonapi.body.accepted_types``), by a trailing slash, or by a missing ``/v1``, when
  the canonical path serves the method: ``308 Permanent Redirect`` to the canonical path, its ids
  and query string kept (308 keeps the method and the body, so a write follows too), with a
  JSON:API document whose ``meta`` names the canonical path;
- a path a route serves (under any of those spellings) but not with this method: 405
  ``METHOD_NOT_ALLOWED`` with ``Allow``; ``OPTIONS`` there is 204 with ``Allow`` (a browser's
  CORS preflight carries no key, so it is answered before credentials are read);
- anything else: 404 ``ROUTE_NOT_FOUND``.

Credentials come first, as on every route (``wellapi.http.request``): without a valid key the
answer is 401, whatever the path. What a client is told of a path never echoes it raw: it is
percent-encoded and cut to ``SHOWN_PATH`` characters.

The served routes are given by ``wellapi.operations.registry.served_routes`` (the handler reads
them once, at init); this module knows only how to match a path against them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from wellapi.errors import MethodNotAllowed, RouteNotFound
from wellapi.http.principal import principal_from_claims
from wellapi.http.request import Request
from wellapi.http.response import Response, document_response
from wellapi.jsonapi.body import accepted_types
from wellapi.jsonapi.document import JSONAPI
from wellapi.resources import FEEDS, PARENTS, RESOURCES, VIEWS, Parent, Resource

# API Gateway's name for the route that takes what no other route takes.
DEFAULT_ROUTE = "$default"
# The version segment every route starts with; a path without it is redirected under it.
VERSION = "v1"
# A longer path is never redirected (no route's path comes near it): 404.
MAX_PATH = 2048
# How much of a path an answer's text shows, percent-encoded.
SHOWN_PATH = 200
# The order methods are listed in (``Allow``, ``meta.allowed_methods``).
METHOD_ORDER = ("GET", "POST", "PATCH", "DELETE")
# What a path segment keeps as it is when it is written into a URL (RFC 3986 ``pchar``, and
# ``%``: rawPath keeps ``%25`` encoded, and an escape a client sent stays as it was sent).
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~%"
# What a query string keeps: the same, and its own delimiters and the brackets of
# ``page[size]`` (sent raw by many clients).
_QUERY_SAFE = _SEGMENT_SAFE + "/?[]"
_METHOD = re.compile(r"[A-Z]{1,16}")

Kind = Literal["served", "redirect", "method", "missing"]


def collections() -> dict[str, frozenset[str]]:
    """Each collection's path (plural, kebab case) and every spelling of it a path may use:
    those a write's ``type`` may use for it (``wellapi.jsonapi.body.accepted_types``: snake,
    kebab, camel or Pascal case, singular or plural), for every resource, view, feed and parent
    the API describes."""
    described: tuple[Resource | Parent, ...] = (
        *RESOURCES.values(),
        *VIEWS.values(),
        *FEEDS.values(),
        *PARENTS.values(),
    )
    found: dict[str, frozenset[str]] = {}
    for d in described:
        found[d.path] = found.get(d.path, frozenset()) | frozenset(accepted_types(d))
    return found


@dataclass(frozen=True)
class ServedPath:
    """A served path (``/v1/workspace-providers/{id}``) and the methods its routes serve."""

    path: str
    segments: tuple[str, ...]
    methods: tuple[str, ...]

    @staticmethod
    def is_variable(segment: str) -> bool:
        return segment.startswith("{")


@dataclass(frozen=True)
class Found:
    """What a request's method and path are to the served routes.

    ``served``: a route serves both as sent (API Gateway should not have sent it here);
    ``redirect``: the canonical path serves the method; ``method``: the path, under some
    spelling, is served but not with this method; ``missing``: no route has the path.
    """

    kind: Kind
    # The canonical path, its ids percent-encoded as a URL carries them; None when missing.
    canonical: str | None = None
    allowed: tuple[str, ...] = ()
    # Whether the path as sent differs from the canonical one (spelling, slash, /v1).
    moved: bool = False


class RouteTable:
    """The served routes, grouped by path, and every spelling of their literal segments."""

    def __init__(
        self, routes: Iterable[tuple[str, str]], spellings: Mapping[str, frozenset[str]]
    ) -> None:
        methods: dict[str, set[str]] = {}
        for method, path in routes:
            methods.setdefault(path, set()).add(method)
        self.templates = tuple(
            ServedPath(path, tuple(path.split("/")[1:]), _ordered(found))
            for path, found in methods.items()
        )
        # A literal that names no collection (``v1``, ``relationships``) is only itself.
        self._spellings = {
            segment: spellings.get(segment, frozenset()) | {segment}
            for template in self.templates
            for segment in template.segments
            if not ServedPath.is_variable(segment)
        }

    def resolve(self, method: str, path: str) -> Found:
        if len(path) > MAX_PATH:
            return Found("missing")
        parts = path.split("/")[1:]
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        if parts[:1] != [VERSION]:
            parts.insert(0, VERSION)
        best: tuple[tuple[int, ...], ServedPath] | None = None
        for candidate in self.templates:
            rank = self._rank(candidate, parts)
            if rank is not None and (best is None or rank > best[0]):
                best = (rank, candidate)
        if best is None:
            return Found("missing")
        template = best[1]
        pairs = list(zip(template.segments, parts, strict=True))
        raw = "/" + "/".join(part if ServedPath.is_variable(s) else s for s, part in pairs)
        canonical = "/" + "/".join(
            quote(part, safe=_SEGMENT_SAFE) if ServedPath.is_variable(s) else s for s, part in pairs
        )
        moved = raw != path
        if method not in template.methods:
            return Found("method", canonical, template.methods, moved)
        return Found("redirect" if moved else "served", canonical, template.methods, moved)

    def _rank(self, template: ServedPath, parts: list[str]) -> tuple[int, ...] | None:
        """How closely ``parts`` match a template, segment by segment as API Gateway prefers:
        a literal as written (3) over a literal spelled otherwise (2) over a variable (1);
        None when they do not match."""
        if len(parts) != len(template.segments):
            return None
        rank = []
        for segment, part in zip(template.segments, parts, strict=True):
            if ServedPath.is_variable(segment):
                if not part:
                    return None
                rank.append(1)
            elif part == segment:
                rank.append(3)
            elif part in self._spellings[segment]:
                rank.append(2)
            else:
                return None
        return tuple(rank)


def _ordered(methods: Iterable[str]) -> tuple[str, ...]:
    found = set(methods)
    return tuple(m for m in METHOD_ORDER if m in found) + tuple(sorted(found - {*METHOD_ORDER}))


def shown_path(path: str) -> str:
    """A path as an answer's text may show it: percent-encoded, at most ``SHOWN_PATH`` long."""
    encoded = quote(path, safe="/" + _SEGMENT_SAFE)
    return encoded if len(encoded) <= SHOWN_PATH else encoded[:SHOWN_PATH] + "…"


def _method(method: str) -> str:
    return method if _METHOD.fullmatch(method) else "this method"


def answer(table: RouteTable, request: Request, method: str) -> Response:
    """The answer to a request no route took (raises the errors it answers with)."""
    found = table.resolve(method, request.path)
    if method == "OPTIONS" and found.canonical is not None:
        # A CORS preflight carries no credentials; API Gateway adds the CORS headers.
        return Response(204, {"Allow": ", ".join(found.allowed)})
    principal_from_claims(request.claims)
    if found.kind == "redirect" and found.canonical is not None:
        return _redirect(request, method, found.canonical)
    if found.kind == "method" and found.canonical is not None:
        moved = {"canonical_path": found.canonical} if found.moved else {}
        raise MethodNotAllowed(
            f"{_method(method)} is not a method of {shown_path(found.canonical)}: it serves "
            f"{', '.join(found.allowed)}.",
            allowed=found.allowed,
            meta=moved,
        )
    if found.kind == "served":
        # API Gateway routes such a request to its route's function: the routes it knows are
        # not the registry's (a deploy out of step), which an alarm must tell.
        raise LookupError(f"$default took a served route: {_method(method)} {found.canonical}")
    shown = shown_path(request.path)
    raise RouteNotFound(f"No route of this API serves {_method(method)} {shown}.")


def _redirect(request: Request, method: str, canonical: str) -> Response:
    query = quote(request.raw_query, safe=_QUERY_SAFE)
    location = request.base_url + canonical + (f"?{query}" if query else "")
    shown = shown_path(request.path)
    document = {
        "jsonapi": JSONAPI,
        "meta": {
            "canonical_path": canonical,
            "detail": f"This API serves {_method(method)} {shown} at {canonical}: follow "
            "Location (308 keeps the method and the body).",
        },
    }
    return document_response(308, document, {"Location": location})
