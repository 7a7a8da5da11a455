"""Where a warm request's time goes: the database, the driver's decoding of the rows, the
document, and the rest of the handler (parsing the request, logging, metrics, the
response): phase ``warm`` times each of its calls so.

Each request is run with the pg8000 connection's query call timed (its
network wait and row decoding, ``welldev.bench.wire.recording``), the driver's decoding of
each row timed inside it (``CoreConnection.handle_DATA_ROW``), and the functions that make
the documents timed where the operations call them. The database's part is the query call
less the decoding: the server's work and the network, which no Python of ours can shorten.
"""

from __future__ import annotations

import contextlib
import importlib
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pg8000.core

from welldev.bench.harness import taking_turns
from welldev.bench.report import Report
from welldev.bench.wire import recording

# Where the operations call the document functions (``wellapi.jsonapi.document``).
DOCUMENT_CALLS = (
    ("wellapi.operations.read", "resource_document"),
    ("wellapi.operations.read", "collection_document"),
    ("wellapi.operations.related", "related_document"),
    ("wellapi.operations.related", "relationship_document"),
    ("wellapi.operations.conditional_write", "resource_document"),
)
PARTS = ("database", "decoding", "document", "handler")
# The handler's whole time against its statements' database time (issues #32, #41), both
# messages of a request counted: a List of 100 rows with two includes at most 2x, a Retrieve,
# a default List and a Create at most 1.5x.
GOALS = {"list": 2.0, "retrieve": 1.5, "list_default": 1.5, "create": 1.5}


def _timed(function: Callable[..., Any], spent: dict[str, float], part: str) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[part] += time.perf_counter() - started

    return timed


@contextlib.contextmanager
def _timing(spent: dict[str, float]) -> Iterator[None]:
    core = pg8000.core.CoreConnection
    handle_messages = core.handle_messages

    def decoding_timed(self: Any, context: Any) -> Any:
        # A connection dispatches on a table of its own bound methods, made when it opened.
        table = self.message_types
        table[pg8000.core.DATA_ROW] = _timed(self.handle_DATA_ROW, spent, "decoding")
        try:
            return handle_messages(self, context)
        finally:
            table[pg8000.core.DATA_ROW] = self.handle_DATA_ROW

    with contextlib.ExitStack() as stack:
        for module, name in DOCUMENT_CALLS:
            owner = importlib.import_module(module)
            timed = _timed(getattr(owner, name), spent, "document")
            stack.enter_context(mock.patch.object(owner, name, timed))
        stack.enter_context(mock.patch.object(core, "handle_messages", decoding_timed))
        yield


def parts(call: Callable[[], Any]) -> dict[str, float]:
    """Milliseconds of one call: each part's, and the whole (``total``)."""
    spent = {"decoding": 0.0, "document": 0.0}
    with _timing(spent), recording() as wire:
        started = time.perf_counter()
        call()
        total = time.perf_counter() - started
    return {
        "database": (wire.seconds - spent["decoding"]) * 1000,
        "decoding": spent["decoding"] * 1000,
        "document": spent["document"] * 1000,
        "handler": (total - wire.seconds - spent["document"]) * 1000,
        "total": total * 1000,
    }


def by_part(samples: list[dict[str, float]]) -> dict[str, list[float]]:
    """Samples of ``parts``, each part's own list."""
    return {part: [s[part] for s in samples] for part in (*PARTS, "total")}


def split_samples(call: Callable[[], Any], iterations: int) -> dict[str, list[float]]:
    """Milliseconds of each part of ``iterations`` calls (each part's own list)."""
    return by_part(taking_turns({"call": call}, iterations, 0, parts)["call"])


def report_split(
    report: Report, name: str, samples: dict[str, list[float]], goal: float | None
) -> None:
    """Each part's figure (``split.<name>.<part>``), and the handler against the database
    (``split.<name>``) where a goal is set."""
    for part, values in samples.items():
        report.figure(f"split.{name}.{part}", values, "ms")
    if goal is not None:
        ratio = statistics.median(samples["total"]) / statistics.median(samples["database"])
        report.ratio(f"split.{name}", ratio, goal)
