"""Phase ``round_trips``: statements, round trips and transactions per request."""

from __future__ import annotations

import json
from typing import Any

from welldev.bench.api_requests import Requests
from welldev.bench.databases import BenchDatabase, remove_created_rows
from welldev.bench.harness import Handler, handler_for, invoke, note
from welldev.bench.report import Report
from welldev.bench.wire import Wire, largest_message, recording

# A request is one transaction of two messages: its opening, which asks the proof's context,
# then the proof, its statements and COMMIT (revision 0023, docs/tenancy.md).
ROUND_TRIPS = 2


def _count(report: Report, name: str, wire: Wire, *, read: bool, counted: bool = False) -> None:
    """A read is one statement, and a List (``counted``) one more for its ``meta.total``: all
    in the request's one transaction of two round trips."""
    statements = len(wire.operation_statements)
    report.figure(f"round_trips.{name}", [wire.round_trips], "round trips")
    report.figure(f"statements.{name}", [statements], "statements")
    report.figure(f"transactions.{name}", [wire.transactions], "transactions")
    report.ratio(f"round_trips.{name}", wire.round_trips, ROUND_TRIPS)
    report.ratio(f"transactions.{name}", wire.transactions, 1)
    largest_message(report, name, wire)
    if read:
        report.ratio(f"statements.{name}", statements, 2 if counted else 1)


def _wire_of(handler: Handler, event: dict[str, Any], status: int) -> tuple[Wire, dict[str, Any]]:
    with recording() as wire:
        response = invoke(handler, event, status)
    return wire, response


def measure_round_trips(report: Report, bench: BenchDatabase) -> None:
    requests = Requests.signed(bench)
    retrieve = handler_for("company_workspace_connectors", "retrieve")
    listing = handler_for("company_workspace_connectors", "list")
    both = "include=company,workspace_connector"
    reads = {
        "retrieve": (retrieve, requests.retrieve()),
        "retrieve_include": (retrieve, requests.retrieve(query=both)),
        "related": (handler_for("company_workspace_connectors", "related"), requests.related()),
        "list_size_1": (listing, requests.collection("page[size]=1")),
        "list_size_100_include": (listing, requests.collection(f"page[size]=100&{both}")),
        "list_deep_cursor": (
            handler_for("account_workspace_connectors", "list"),
            requests.deep_list(),
        ),
    }
    invoke(retrieve, requests.retrieve(), 200)  # connect before counting
    wires = {}
    for name, (handler, event) in reads.items():
        wires[name], _ = _wire_of(handler, event, 200)
        _count(report, name, wires[name], read=True, counted=name.startswith("list"))
    small, large = wires["list_size_1"], wires["list_size_100_include"]
    report.ratio(
        "round_trips.growth_with_page_size_and_include", large.round_trips / small.round_trips, 1.0
    )
    report.ratio(
        "statements.growth_with_page_size_and_include",
        len(large.statements) / len(small.statements),
        1.0,
    )
    try:
        _count_writes(report, requests)
    finally:
        remove_created_rows(bench)
    note(
        ", ".join(
            f"{n}: {int(report.figures['round_trips.' + n].median)}"
            for n in [*reads, "create", "update", "delete"]
        )
        + " round trip(s)"
    )


def _count_writes(report: Report, requests: Requests) -> None:
    create = handler_for("company_workspace_connectors", "create")
    wire, response = _wire_of(create, requests.create(), 201)
    _count(report, "create", wire, read=False)
    row_id = json.loads(response["body"])["data"]["id"]
    update = handler_for("company_workspace_connectors", "update")
    wire, _ = _wire_of(update, requests.update(row_id), 200)
    _count(report, "update", wire, read=False)
    delete = handler_for("company_workspace_connectors", "delete")
    wire, _ = _wire_of(delete, requests.delete(row_id), 204)
    _count(report, "delete", wire, read=False)
