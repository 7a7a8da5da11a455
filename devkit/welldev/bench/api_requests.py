"""The events of every API request the bench measures, signed for a bench database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from welldev.bench.config import PAGE_SIZE
from welldev.bench.databases import BenchDatabase, Dataset
from welldev.bench.harness import Handler, api_event, handler_for
from welldev.claims import claims

COMPANY_LEDGER_PATH = "/v1/company-workspace-connectors"


@dataclass(frozen=True)
class Requests:
    """The events of every measured API request against one bench database."""

    data: Dataset
    member: dict[str, str]
    service: dict[str, str]

    @classmethod
    def signed(cls, bench: BenchDatabase) -> Requests:
        """With the claims of a member and a service key, their scope tokens freshly signed."""
        conn = bench.admin()
        try:
            data = bench.dataset
            member = claims(conn, data.member_person_id, data.member_workspace_id, "member")
            service = claims(conn, data.service_person_id, data.write_workspace_id, "service")
        finally:
            conn.close()
        return cls(data, member, service)

    def _item(self, method: str, row_id: str, who: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        """An event on one company ledger row (Retrieve, Update, Delete)."""
        return api_event(
            method,
            f"{COMPANY_LEDGER_PATH}/{row_id}",
            route=COMPANY_LEDGER_PATH + "/{id}",
            claims=who,
            path_parameters={"id": row_id},
            **kwargs,
        )

    def retrieve(self, row_id: str | None = None, query: str = "") -> dict[str, Any]:
        return self._item("GET", row_id or self.data.warm_row_ids[0], self.member, query=query)

    def related(self, relationship: str = "company") -> dict[str, Any]:
        """The record a row's relationship points at, through the relationship's link."""
        row_id = self.data.warm_row_ids[0]
        return api_event(
            "GET",
            f"{COMPANY_LEDGER_PATH}/{row_id}/{relationship}",
            route=COMPANY_LEDGER_PATH + "/{id}/{relationship}",
            claims=self.member,
            path_parameters={"id": row_id, "relationship": relationship},
        )

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
                "type": "company_workspace_connector",
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
        body = {
            "data": {
                "type": "company_workspace_connector",
                "id": row_id,
                "attributes": {"direction": "input"},
            }
        }
        return self._item("PATCH", row_id, self.service, body=json.dumps(body))

    def delete(self, row_id: str) -> dict[str, Any]:
        return self._item("DELETE", row_id, self.service)


@dataclass(frozen=True)
class WarmCase:
    name: str
    handler: Handler
    event: dict[str, Any]
    status: int
    skip: int  # leading statements whose rows are not the document (scope, write outcome)
    fresh_id: bool  # the SQL carries a new row id each time (Create)


def warm_cases(requests: Requests) -> list[WarmCase]:
    def case(name: str, operation: str, event: dict[str, Any]) -> WarmCase:
        handler = handler_for("company_workspace_connectors", operation)
        if operation == "create":  # its scope and its write's outcome, then the document
            return WarmCase(name, handler, event, 201, skip=2, fresh_id=True)
        return WarmCase(name, handler, event, 200, skip=1, fresh_id=False)

    return [
        case("retrieve", "retrieve", requests.retrieve()),
        case("related", "related", requests.related()),
        case("list_default", "list", requests.collection("")),
        case(
            "list",
            "list",
            requests.collection("page[size]=100&include=company,workspace_connector"),
        ),
        case("create", "create", requests.create()),
    ]
