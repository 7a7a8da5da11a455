"""Where a warm request's time goes (``split.<case>.<part>``): the database, the driver's
decoding of the rows, the document, and the rest of the handler (parsing, logging, metrics).

The query calls and the decoding inside them are timed at the pg8000 connection
(``welldev.bench.wire.recording``), the document functions where the operations call them.
The database's part is the query call less the decoding: the server's work and the network,
which no Python of ours can shorten.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

from welldev.bench.report import Report
from welldev.bench.wire import recording, timed

# Where the operations call the document functions (``wellapi.jsonapi.document``).
DOCUMENT_CALLS = (
    ("wellapi.operations.read", "resource_document"),
    ("wellapi.operations.read", "collection_document"),
    ("wellapi.operations.related", "related_document"),
    ("wellapi.operations.related", "relationship_document"),
    ("wellapi.operations.conditional_write", "resource_document"),
)
# No goal: issue #50 trades the database's share of a request for the function's (the
# documents are the function's); ``warm.*`` and ``db_cpu.<case>.own`` hold the function.
PARTS = ("database", "decoding", "document", "handler")


@contextlib.contextmanager
def _documents_timed(spent: list[float]) -> Iterator[None]:
    """The document functions timed where the operations call them, into ``spent``."""
    with contextlib.ExitStack() as stack:
        for module, name in DOCUMENT_CALLS:
            owner = importlib.import_module(module)
            made = timed(getattr(owner, name), spent.append)
            stack.enter_context(mock.patch.object(owner, name, made))
        yield


def parts(call: Callable[[], Any]) -> dict[str, float]:
    """Milliseconds of one call: each part's, and the whole (``total``)."""
    documents: list[float] = []
    with _documents_timed(documents), recording() as wire:
        started = time.perf_counter()
        call()
        total = time.perf_counter() - started
    return {
        "database": (wire.seconds - wire.decoding_seconds) * 1000,
        "decoding": wire.decoding_seconds * 1000,
        "document": sum(documents) * 1000,
        "handler": (total - wire.seconds - sum(documents)) * 1000,
        "total": total * 1000,
    }


def report_split(report: Report, name: str, samples: list[dict[str, float]]) -> None:
    """Each part's figure (``split.<name>.<part>``) of samples of ``parts``."""
    for part in (*PARTS, "total"):
        report.figure(f"split.{name}.{part}", [s[part] for s in samples], "ms")
