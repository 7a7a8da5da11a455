"""Phase ``round_trips``: statements, round trips and transactions per request."""

from __future__ import annotations

import json
from typing import Any

from welldev.bench.api_requests import BOTH_INCLUDES, Requests
from welldev.bench.databases import BenchDatabase
from welldev.bench.errors import BenchError
from welldev.bench.harness import handler_for, invoke, note
from welldev.bench.report import Report
from welldev.bench.wire import Wire, largest_message, recording

# A request is one transaction of one message: BEGIN, the transaction's settings, a proof made
# for the moment (core_api.prove_scope), its statements and COMMIT (docs/tenancy.md).
ROUND_TRIPS = 1
LEDGER = "company_workspace_connectors"


def _counted(
    report: Report, name: str, operation: str, event: dict[str, Any], status: int = 200
) -> tuple[Wire, dict[str, Any]]:
    """The request's round trips, statements and transactions: a read's is one statement, and
    a List's one more for its ``meta.total``, all in one transaction of one round trip."""
    resource = "account_workspace_connectors" if name == "list_deep_cursor" else LEDGER
    with recording() as wire:
        response = invoke(handler_for(resource, operation), event, status)
    if wire.round_trips < 1:
        # Every request reads an answer: none counted is a reader the recording does not see.
        raise BenchError(f"{name}: the recording saw no round trip")
    statements = len(wire.operation_statements)
    report.figure(f"round_trips.{name}", [wire.round_trips], "round trips")
    report.figure(f"statements.{name}", [statements], "statements")
    report.figure(f"transactions.{name}", [wire.transactions], "transactions")
    report.ratio(f"round_trips.{name}", wire.round_trips, ROUND_TRIPS)
    report.ratio(f"transactions.{name}", wire.transactions, 1)
    largest_message(report, name, wire)
    if operation in ("retrieve", "related", "list"):
        report.ratio(f"statements.{name}", statements, 2 if operation == "list" else 1)
    return wire, response


def measure_round_trips(report: Report, bench: BenchDatabase) -> None:
    requests = Requests.signed(bench)
    reads = {
        "retrieve": ("retrieve", requests.retrieve()),
        "retrieve_include": ("retrieve", requests.retrieve(query=BOTH_INCLUDES)),
        "related": ("related", requests.related()),
        "list_size_1": ("list", requests.collection("page[size]=1")),
        "list_size_100_include": ("list", requests.collection(f"page[size]=100&{BOTH_INCLUDES}")),
        "list_deep_cursor": ("list", requests.deep_list()),
    }
    invoke(handler_for(LEDGER, "retrieve"), requests.retrieve(), 200)  # connect before counting
    wires = {name: _counted(report, name, *read)[0] for name, read in reads.items()}
    small, large = wires["list_size_1"], wires["list_size_100_include"]
    growth = "growth_with_page_size_and_include"
    report.ratio(f"round_trips.{growth}", large.round_trips / small.round_trips, 1.0)
    report.ratio(f"statements.{growth}", len(large.statements) / len(small.statements), 1.0)
    response = _counted(report, "create", "create", requests.create(), 201)[1]
    row_id = json.loads(response["body"])["data"]["id"]
    _counted(report, "update", "update", requests.update(row_id))
    _counted(report, "delete", "delete", requests.delete(row_id), 204)
    note(report.summary("round_trips"))
