"""Every link of every answer the test suite receives, followed at once with the caller's claims.

``tests.support.api.invoke`` hands each successful JSON:API answer (and its ``Location``) to
``WALKER``, which resolves every link to the route this API serves for it and asks that route
with the same claims and ``Accept``. Anything but 200 with a valid JSON:API document fails the
test that received the answer, naming the link and where it came from.

One hop: the answers to followed links are checked, not walked again (their links are of the
kinds the suite's own requests already walk). A link is followed once per caller: the same
link seen again with the same claims is not asked twice. Answers received on other threads
(the race tests) are not walked: the walker's own requests would join the race.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from wellapi.operations import OPERATIONS
from wellapi.resources import RESOURCES

JSONAPI = "application/vnd.api+json"


@dataclass(frozen=True)
class Route:
    resource: str
    operation: str
    template: str
    pattern: re.Pattern[str]

    @property
    def literals(self) -> int:
        return sum(1 for part in self.template.split("/") if part and not part.startswith("{"))


def _route(resource: str, operation: str) -> Route:
    template = OPERATIONS[operation].path(RESOURCES[resource])
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return Route(resource, operation, template, re.compile(f"^{regex}$"))


# Every GET route; a literal segment wins over a variable one, as on API Gateway.
ROUTES = sorted(
    (
        _route(resource, name)
        for resource in RESOURCES
        for name, op in OPERATIONS.items()
        if op.method == "GET" and (op.route is None or resource == "workspace_providers")
    ),
    key=lambda r: -r.literals,
)


def route_of(path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            return route, match.groupdict()
    return None


def links_of(document: Any) -> Iterator[tuple[str, str]]:
    """(where, URL) of every link in a JSON:API document: top level, resources, relationships."""
    if not isinstance(document, dict):
        return
    yield from _links(document.get("links"), "/links")
    for key in ("data", "included"):
        value = document.get(key)
        objects = value if isinstance(value, list) else [value]
        for i, obj in enumerate(objects):
            if not isinstance(obj, dict):
                continue
            where = f"/{key}/{i}" if isinstance(value, list) else f"/{key}"
            yield from _links(obj.get("links"), f"{where}/links")
            for name, rel in (obj.get("relationships") or {}).items():
                yield from _links(rel.get("links"), f"{where}/relationships/{name}/links")


def _links(links: Any, where: str) -> Iterator[tuple[str, str]]:
    if not isinstance(links, dict):
        return
    for name, link in links.items():
        href = link.get("href") if isinstance(link, dict) else link
        if isinstance(href, str):
            yield f"{where}/{name}", href


def _claims_key(claims: Any) -> str:
    return hashlib.sha256(json.dumps(claims, sort_keys=True, default=str).encode()).hexdigest()


Invoke = Callable[[str, str, dict[str, Any]], Any]


class LinkWalker:
    def __init__(self) -> None:
        self.walking = False
        self.followed = 0
        self._seen: set[tuple[str, str]] = set()

    def walk(self, event: dict[str, Any], reply: Any, invoke: Invoke, build_event: Any) -> None:
        """Follow every link of ``reply``, the answer to ``event``; fail on one that breaks."""
        if self.walking or threading.current_thread() is not threading.main_thread():
            return
        if reply.status not in (200, 201) or not reply.body:
            return
        context = event.get("requestContext") or {}
        claims = (context.get("authorizer") or {}).get("lambda")
        asked = event.get("rawPath", "") + (
            f"?{event['rawQueryString']}" if event.get("rawQueryString") else ""
        )
        found = list(links_of(reply.json))
        if "Location" in reply.headers:
            found.append(("Location header", reply.headers["Location"]))
        who = _claims_key(claims)
        self.walking = True
        try:
            for where, link in found:
                url = urlsplit(link)
                target = url.path + (f"?{url.query}" if url.query else "")
                # The answer to this very request is the one being walked.
                if event.get("routeKey", "").startswith("GET ") and target == asked:
                    continue
                if (target, who) in self._seen:
                    continue
                self._seen.add((target, who))
                self._follow(event, claims, where, link, invoke, build_event)
        finally:
            self.walking = False

    def _follow(
        self,
        event: dict[str, Any],
        claims: Any,
        where: str,
        link: str,
        invoke: Invoke,
        build_event: Any,
    ) -> None:
        origin = f"{event.get('routeKey')} ({event.get('rawPath')}) {where}"
        url = urlsplit(link)
        resolved = route_of(url.path)
        assert resolved is not None, f"{origin}: {link} is not a route this API serves"
        route, parameters = resolved
        for pair in parse_qsl(url.query, keep_blank_values=True):
            assert pair[0], f"{origin}: {link} has an empty query parameter"
        headers = {"host": url.netloc} if url.netloc else {}
        reply = invoke(
            route.resource,
            route.operation,
            build_event(
                "GET",
                url.path,
                query=url.query,
                claims=claims,
                path_parameters=parameters,
                headers=headers,
                route=route.template,
            ),
        )
        self.followed += 1
        assert reply.status == 200, f"{origin}: GET {link} answered {reply.status}: {reply.body}"
        assert reply.headers.get("Content-Type", "").startswith(JSONAPI), (origin, link)
        assert isinstance(reply.json.get("data", ...), (dict, list, type(None))), (origin, link)


WALKER = LinkWalker()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.section("Link walker")
    terminalreporter.write_line(
        f"{WALKER.followed} links followed, each answered 200 with a JSON:API document."
    )
