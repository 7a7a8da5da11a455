"""The events of every API request the bench measures, signed for a bench database, and the
warm requests most phases time, each with its handler and the SQL it sends."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote

from wellapi.jsonapi.ids import new_id
from wellapi.store.sql import BoundStatement
from welldev.bench.config import PAGE_SIZE
from welldev.bench.databases import BenchDatabase, Dataset
from welldev.bench.harness import Handler, api_event, handler_for, invoke
from welldev.bench.raw_client import Captured, RawClient, captured_sql, replaced
from welldev.claims import claims

COMPANY_LEDGER_PATH = "/v1/company-workspace-connectors"
BOTH_INCLUDES = "include=company,workspace_connector"
ROW_TYPE = "company_workspace_connector"


@dataclass(frozen=True)
class Requests:
    """The events of every measured API request against one bench database."""

    data: Dataset
    member: dict[str, str]
    service: dict[str, str]

    @classmethod
    def signed(cls, bench: BenchDatabase) -> Requests:
        """With the claims of a member and a service key, their scope tokens freshly signed."""
        with bench.admin() as conn:
            data = bench.dataset
            member = claims(conn, data.member_person_id, data.member_workspace_id, "member")
            service = claims(conn, data.service_person_id, data.write_workspace_id, "service")
        return cls(data, member, service)

    def _item(
        self, method: str, row_id: str, who: dict[str, str], relationship: str = "", **kwargs: Any
    ) -> dict[str, Any]:
        """An event on one company ledger row (Retrieve, Update, Delete), or on the record its
        ``relationship`` points at."""
        params = {"id": row_id} | ({"relationship": relationship} if relationship else {})
        tail = "/{relationship}" if relationship else ""
        return api_event(
            method,
            f"{COMPANY_LEDGER_PATH}/{row_id}{tail.format(**params)}",
            route=COMPANY_LEDGER_PATH + "/{id}" + tail,
            claims=who,
            path_parameters=params,
            **kwargs,
        )

    def retrieve(self, row_id: str | None = None, query: str = "") -> dict[str, Any]:
        return self._item("GET", row_id or self.data.warm_row_ids[0], self.member, query=query)

    def related(self) -> dict[str, Any]:
        return self._item("GET", self.data.warm_row_ids[0], self.member, "company")

    def collection(self, query: str) -> dict[str, Any]:
        path = COMPANY_LEDGER_PATH
        return api_event("GET", path, route=path, claims=self.member, query=query)

    def deep_list(self) -> dict[str, Any]:
        """The sync-status query: connector X, its window, a cursor deep inside it."""
        d = self.data
        query = (
            f"filter[workspace_connector]={d.scale_connector_id}"
            f"&filter[created_at][gte]={quote(d.window_start)}"
            f"&filter[created_at][lt]={quote(d.window_end)}"
            f"&page[size]={PAGE_SIZE}&page[after]={d.cursor}"
        )
        base = "/v1/account-workspace-connectors"
        return api_event("GET", base, route=base, claims=self.member, query=query)

    def create(self) -> dict[str, Any]:
        d = self.data
        body = {
            "data": {
                "type": ROW_TYPE,
                "attributes": {"direction": "input"},
                "relationships": {
                    "company": {"data": {"type": "company", "id": d.write_company_id}},
                    "workspace_connector": {
                        "data": {"type": "workspace_connector", "id": d.write_connector_id}
                    },
                },
            }
        }
        path = COMPANY_LEDGER_PATH
        return api_event("POST", path, route=path, claims=self.service, body=json.dumps(body))

    def update(self, row_id: str) -> dict[str, Any]:
        body = {"data": {"type": ROW_TYPE, "id": row_id, "attributes": {"direction": "input"}}}
        return self._item("PATCH", row_id, self.service, body=json.dumps(body))

    def delete(self, row_id: str) -> dict[str, Any]:
        return self._item("DELETE", row_id, self.service)


@dataclass(eq=False)
class Case:
    """A warm request: its handler, its event and the status of a correct answer."""

    name: str
    handler: Handler
    event: dict[str, Any]
    status: int

    def call(self) -> dict[str, Any]:
        return invoke(self.handler, self.event, self.status)

    @cached_property
    def captured(self) -> tuple[Captured, dict[str, Any]]:
        """The request the handler sends once its environment is warm, and its answer."""
        self.call()  # connect, compile, cache
        return captured_sql(self.handler, self.event, self.status)

    @property
    def sent(self) -> Captured:
        return self.captured[0]

    @cached_property
    def created_id(self) -> str | None:
        """A Create's new row id, bound to its SQL: each replay binds another (``fresh``)."""
        answer = self.captured[1]
        return str(json.loads(answer["body"])["data"]["id"]) if self.status == 201 else None

    def replay(self, raw: RawClient) -> str:
        """Its SQL by hand on ``raw``, a fresh proof for its own transaction (as the handler
        makes one for each request), and its rows after the scope's (a create's one row holds
        its outcome and the row it wrote) dumped as the document's JSON."""
        names, rows = raw.proven_rows(self.sent, self.fresh())
        documents = [dict(zip(names, row, strict=False)) for row in rows[1:]]
        return json.dumps(documents, default=str)

    def fresh(self) -> tuple[BoundStatement, ...]:
        """Its statements to send again: a Create's with a new row id, as the handler makes."""
        statements, made = self.sent.statements, self.created_id
        return statements if made is None else replaced(statements, made, new_id())


def warm_cases(bench: BenchDatabase, names: Collection[str] | None = None) -> list[Case]:
    """The warm requests (or those of ``names``): a Retrieve, its related read, the default
    List, a List of 100 with both includes, a Create; scope tokens freshly signed."""
    requests = Requests.signed(bench)

    def case(name: str, operation: str, event: dict[str, Any]) -> Case:
        handler = handler_for("company_workspace_connectors", operation)
        return Case(name, handler, event, 201 if operation == "create" else 200)

    cases = [
        case("retrieve", "retrieve", requests.retrieve()),
        case("related", "related", requests.related()),
        case("list_default", "list", requests.collection("")),
        case("list", "list", requests.collection(f"page[size]=100&{BOTH_INCLUDES}")),
        case("create", "create", requests.create()),
    ]
    return [c for c in cases if names is None or c.name in names]
