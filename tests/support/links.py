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
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support import workers
from wellapi.operations.registry import OPERATIONS
from wellapi.operations.registry import ROUTES as API_ROUTES
from wellapi.resources import resource_named
from welldev.gateway import PathTemplate

JSONAPI = "application/vnd.api+json"


@dataclass(frozen=True)
class Route:
    resource: str
    operation: str
    # Matched as the local gateway matches it (``welldev.gateway``), as API Gateway does.
    path: PathTemplate

    @property
    def template(self) -> str:
        return self.path.path


# Every GET route, the most specific first: a literal segment wins over a variable one.
ROUTES = sorted(
    (
        Route(resource, name, PathTemplate(OPERATIONS[name].path(resource_named(resource))))
        for resource, name in API_ROUTES
        if OPERATIONS[name].method == "GET"
    ),
    key=lambda r: r.path.specificity,
    reverse=True,
)


def route_of(path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        parameters = route.path.match(path)
        if parameters is not None:
            return route, parameters
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


def caller_key(caller: Any) -> str:
    """Who asked (claims, or a key), as a digest: a link is followed once per caller."""
    return hashlib.sha256(json.dumps(caller, sort_keys=True, default=str).encode()).hexdigest()


# Asks for one link as the caller that received it, and answers (status, headers, body).
Follow = Callable[[str], Any]


class LinkWalker:
    def __init__(self) -> None:
        self.walking = False
        self.followed = 0
        self._seen: set[tuple[str, str]] = set()

    def walk(self, asked: str, reply: Any, caller: str, follow: Follow) -> None:
        """Follow every link of ``reply``, the answer to GET or write ``asked``.

        ``asked`` is the request's method and path with its query; ``follow`` asks a link as
        ``caller`` asked. A link that does not answer 200 with a JSON:API document fails.
        """
        if self.walking or threading.current_thread() is not threading.main_thread():
            return
        if reply.status not in (200, 201) or not reply.body:
            return
        found = list(links_of(reply.json))
        location = next((v for k, v in reply.headers.items() if k.lower() == "location"), None)
        if location is not None:
            found.append(("Location header", location))
        self.walking = True
        try:
            for where, link in found:
                url = urlsplit(link)
                target = url.path + (f"?{url.query}" if url.query else "")
                # The answer to this very request is the one being walked.
                if asked == f"GET {target}" or (target, caller) in self._seen:
                    continue
                self._seen.add((target, caller))
                self._check(f"{asked} {where}", link, follow)
        finally:
            self.walking = False

    def _check(self, origin: str, link: str, follow: Follow) -> None:
        url = urlsplit(link)
        assert route_of(url.path) is not None, f"{origin}: {link} is no route this API serves"
        for name, _ in parse_qsl(url.query, keep_blank_values=True):
            assert name, f"{origin}: {link} has an empty query parameter"
        reply = follow(link)
        self.followed += 1
        assert reply.status == 200, f"{origin}: GET {link} answered {reply.status}: {reply.body}"
        content_type = next(
            (v for k, v in reply.headers.items() if k.lower() == "content-type"), ""
        )
        assert content_type.startswith(JSONAPI), (origin, link, content_type)
        assert "data" in reply.json, (origin, link, reply.body)


WALKER = LinkWalker()


def _followed() -> int:
    """Links followed here and in every xdist worker this process ran."""
    return WALKER.followed + workers.received(__name__)[0].get("followed", 0)


def pytest_sessionfinish(session: Any) -> None:
    workers.hand_over(session.config, __name__, {"followed": _followed()}, [])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.section("Link walker")
    terminalreporter.write_line(
        f"{_followed()} links followed, each answered 200 with a JSON:API document."
    )
