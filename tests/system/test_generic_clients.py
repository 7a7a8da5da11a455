"""Generic JSON:API clients the project did not write, each with its defaults, against the
local server (as ``make run`` builds it).

Every client runs one plan (``tests.support.generic_clients``): on a ledger with the service
key, and on the providers and the enrolments with the member key, it lists with an include,
follows ``links.next`` to the last page, fetches by id, creates, updates and deletes, as far as
the client can address them. The npm clients share one pinned install
(``tests/system/clients/generic/``: ``package.json`` and ``package-lock.json``, every package
with its integrity hash) and one scenario a client there; the PyPI clients are in the
development lock and run here. Every client's entries are asserted by the same tests below;
what a client cannot do, or needs, is in ``NEEDS`` and in docs/generic-client.md. kitsu has its
own, longer test (``test_kitsu_client.py``); so has jsonapi-client's asyncio mode
(``test_jsonapi_client.py``).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import jsonapi_requests
import pytest
import requests
from jsonapi_client import Modifier, Session
from jsonapi_client.exceptions import DocumentError
from jsonapi_requests.data import JsonApiObject
from jsonapi_requests.request_factory import ApiClientError

from tests.support import generic_clients as g
from welldev.database import admin_connection
from welldev.serving import Served, serving

NPM = g.CLIENTS / "generic"
# Each npm client's scenario, in NPM.
NPM_SCENARIOS = {
    "jsona": "jsona.mjs",
    "json-api-normalizer": "normalizer.mjs",
    "devour-client": "devour.mjs",
    "spraypaint": "spraypaint.mjs",
    "@orbit/jsonapi": "orbit.mjs",
}


class Bearer(requests.auth.AuthBase):
    """The API key, as jsonapi-requests takes credentials: a requests auth (its AUTH setting)."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


class JsonapiRequests:
    """jsonapi-requests 0.8 with its defaults (a trailing slash on every path, which the server
    answers with a 308 that requests follows; one second's timeout; three tries on a 5xx)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def api(self, resource: dict[str, Any], **settings: Any) -> Any:
        config = {"API_ROOT": self.base, "AUTH": Bearer(resource["key"]), **settings}
        return jsonapi_requests.Api.config(config)

    def call(
        self,
        resource: dict[str, Any],
        path: str,
        method: str,
        *,
        settings: Any = None,
        **kwargs: Any,
    ) -> Any:
        endpoint = self.api(resource, **(settings or {})).endpoint(path)
        try:
            return getattr(endpoint, method)(**kwargs)
        except ApiClientError as error:
            errors = json.loads(error.content).get("errors", [])
            raise g.ClientFailure(
                error.status_code, [e["code"] for e in errors], str(error)
            ) from error

    def list(self, resource: dict[str, Any]) -> dict[str, Any]:
        params = {"include": resource["include"], "page[size]": resource["page_size"]}
        answer = self.call(resource, resource["path"], "get", params=params)
        included = {(r.type, r.id) for r in answer.content.included}
        linked = [row.relationships[resource["include"]].data for row in answer.data]
        return {
            "ids": [row.id for row in answer.data],
            "included": [link.type for link in linked if (link.type, link.id) in included],
            "next": bool(answer.payload["links"].get("next")),
        }

    def pages(self, resource: dict[str, Any]) -> dict[str, Any]:
        ids: list[str] = []
        url: str | None = f"{resource['path']}?page[size]={resource['page_size']}"
        pages = 0
        while url:
            # Its default trailing slash goes after a link's query string too (`page[size]=3/`,
            # 400 INVALID_PAGE_PARAMETER): a link is followed with APPEND_SLASH off.
            answer = self.call(resource, url, "get", settings={"APPEND_SLASH": False})
            ids += [row.id for row in answer.data]
            pages += 1
            url = answer.payload["links"].get("next")
        return {"ids": ids, "pages": pages}

    def fetch(self, resource: dict[str, Any]) -> dict[str, Any]:
        row = self.call(resource, f"{resource['path']}/{resource['fetch_id']}", "get").data
        return {"id": row.id, "type": row.type}

    def create(self, resource: dict[str, Any]) -> dict[str, Any]:
        relationships = resource["create"]["relationships"]
        sent = JsonApiObject.from_data(
            {
                "type": resource["type"],
                "attributes": resource["create"]["attributes"],
                "relationships": {name: {"data": link} for name, link in relationships.items()},
            }
        )
        answer = self.call(resource, resource["path"], "post", object=sent)
        return {"status": answer.status_code, "id": answer.data.id, "type": answer.data.type}

    def update(self, resource: dict[str, Any]) -> dict[str, Any]:
        attributes = resource["update"]["attributes"]
        sent = JsonApiObject.from_data(
            {"type": resource["type"], "id": resource["update_id"], "attributes": attributes}
        )
        path = f"{resource['path']}/{resource['update_id']}"
        answer = self.call(resource, path, "patch", object=sent)
        row = answer.data
        return {
            "status": answer.status_code,
            "id": row.id,
            "attributes": {k: row.attributes[k] for k in attributes},
        }

    def delete(self, resource: dict[str, Any]) -> dict[str, Any]:
        path = f"{resource['path']}/{resource['delete_id']}"
        return {"status": self.call(resource, path, "delete").status_code}


def schema(resource: dict[str, Any]) -> dict[str, Any]:
    """What jsonapi-client needs to create ``resource``: its members, relationships marked."""
    relationships = resource["create"]["relationships"]
    return {
        resource["type"]: {
            "properties": {
                **{name: {} for name in resource["create"]["attributes"]},
                **{
                    name: {"relation": "to-one", "resource": [link["type"]]}
                    for name, link in relationships.items()
                },
            }
        }
    }


class JsonapiClient:
    """jsonapi-client 0.9 in its default, blocking mode. Its create needs a schema of the type
    (its own rule: without one, a relationship is sent as an attribute, which the server
    refuses); its blocking DELETE reads the 204's empty body as JSON and fails, so the delete
    runs in its asyncio mode (``enable_async=True``)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def session(self, resource: dict[str, Any], **settings: Any) -> Session:
        headers = {"Authorization": f"Bearer {resource['key']}"}
        return Session(self.base, request_kwargs={"headers": headers}, **settings)

    @staticmethod
    def failing(error: DocumentError) -> g.ClientFailure:
        errors = error.response.json().get("errors", []) if error.response is not None else []
        status = error.errors.get("status_code")
        return g.ClientFailure(status, [e["code"] for e in errors], str(error))

    def list(self, resource: dict[str, Any]) -> dict[str, Any]:
        query = f"include={resource['include']}&page[size]={resource['page_size']}"
        with self.session(resource) as s:
            document = s.get(resource["path"], Modifier(query))
            included = {(r.type, r.id) for r in document.included}
            include = resource["include"]
            linked = [
                r.relationships[include].as_json_resource_identifiers for r in document.resources
            ]
            return {
                "ids": [r.id for r in document.resources],
                "included": [i["type"] for i in linked if (i["type"], i["id"]) in included],
                "next": document.links.next is not None and bool(document.links.next.url),
            }

    def pages(self, resource: dict[str, Any]) -> dict[str, Any]:
        with self.session(resource) as s:
            pages = s.iterate(resource["path"], Modifier(f"page[size]={resource['page_size']}"))
            ids = [r.id for r in pages]
        return {"ids": ids, "pages": -(-len(ids) // resource["page_size"])}

    def fetch(self, resource: dict[str, Any]) -> dict[str, Any]:
        with self.session(resource) as s:
            row = s.get(resource["path"], resource["fetch_id"]).resource
            return {"id": row.id, "type": row.type}

    def create(self, resource: dict[str, Any]) -> dict[str, Any]:
        fields = {
            **resource["create"]["attributes"],
            **{n: link["id"] for n, link in resource["create"]["relationships"].items()},
        }
        with self.session(resource, schema=schema(resource)) as s:
            created = s.create(resource["type"], fields=fields)
            try:
                created.commit()
            except DocumentError as error:
                raise self.failing(error) from error
            # Its commit answers nothing (not the status): the id is the one the server chose.
            return {"status": None, "id": created.id, "type": created.type}

    def update(self, resource: dict[str, Any]) -> dict[str, Any]:
        attributes = resource["update"]["attributes"]
        with self.session(resource) as s:
            row = s.get(resource["path"], resource["update_id"]).resource
            for name, value in attributes.items():
                row[name] = value
            try:
                row.commit()
            except DocumentError as error:
                raise self.failing(error) from error
            # Its commit answers nothing (not the status): the row fetched again says.
            s.invalidate()
            again = s.get(resource["path"], resource["update_id"]).resource
            return {
                "status": None,
                "id": again.id,
                "attributes": {k: again.json["attributes"][k] for k in attributes},
            }

    def delete(self, resource: dict[str, Any]) -> dict[str, Any]:
        async def deleted() -> dict[str, Any]:
            async with self.session(resource, enable_async=True) as s:
                row = (await s.get(resource["path"], resource["delete_id"])).resource
                row.delete()
                # Its delete answers nothing (not the status): the row fetched again says.
                await row.commit()
                s.invalidate()
                try:
                    await s.get(resource["path"], resource["delete_id"])
                except DocumentError as error:
                    return {"status": None, "after": error.errors["status_code"]}
                return {"status": None, "after": 200}

        return asyncio.run(deleted())


PYPI_SCENARIOS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "jsonapi-requests": lambda plan: g.run_python(JsonapiRequests(plan["base"]), plan),
    "jsonapi-client": lambda plan: g.run_python(JsonapiClient(plan["base"]), plan),
}
# What a client keeps of a 403's errors, where it is not their codes: devour-client keeps
# their titles; spraypaint reads a 4xx other than 422 as "invalid json" and keeps nothing.
FORBIDDEN_SAID = {"devour-client": ["Forbidden"], "spraypaint": []}
# The clients that do not tell a write's status: their scenario fetches the row again.
NO_STATUS = ("jsonapi-client", "spraypaint")
# The operations a client cannot address at all (docs/generic-client.md says why).
UNADDRESSABLE = {
    "json-api-normalizer": ("create", "update", "delete"),
}


@pytest.fixture(scope="module")
def running(api_database) -> Iterator[Served]:
    with serving(api_database, processes=0, log=io.StringIO()) as served:
        yield served


@pytest.fixture(scope="module", params=[*NPM_SCENARIOS, *PYPI_SCENARIOS])
def ran(request, running: Served, api_database) -> tuple[str, g.Plan, dict[str, Any]]:
    """(the client, its plan, what its scenario reported)."""
    client = request.param
    admin = admin_connection(api_database.admin_url)
    try:
        plan = g.make_plan(admin, f"{running.server.url}/v1")
    finally:
        admin.close()
    if client in NPM_SCENARIOS:
        node = g.npm_installed(NPM)
        environment = {"WELLAPI_PLAN": json.dumps(plan.document)}
        return client, plan, g.run_node(node, NPM, NPM_SCENARIOS[client], environment)
    return client, plan, PYPI_SCENARIOS[client](plan.document)


def entry(ran: tuple[str, g.Plan, dict[str, Any]], resource: str, operation: str) -> Any:
    """The operation's value, asserting it succeeded; None when the client cannot address it."""
    client, _, results = ran
    name = f"{resource}:{operation}"
    if operation in UNADDRESSABLE.get(client, ()):
        assert name not in results
        return None
    found = results[name]
    assert found["ok"], found
    return found["value"]


RESOURCES = ("ledger", "providers", "enrolments")


def camel(type_name: str) -> str:
    head, *rest = type_name.split("_")
    return head + "".join(word.capitalize() for word in rest)


# How a client spells a type it read, by default (json-api-normalizer's store camel-cases it).
SPELLING: dict[str, Callable[[str], str]] = {"json-api-normalizer": camel}


def types(ran: tuple[str, g.Plan, dict[str, Any]], resource: str) -> tuple[str, str]:
    """The resource's type and its include's, as the client spells a type it read."""
    client, plan, _ = ran
    spell = SPELLING.get(client, str)
    own, included = plan.types[resource]
    return spell(own), spell(included)


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_list_with_an_include_answers_a_page_and_the_included_records(ran, resource):
    _, plan, _ = ran
    listed = entry(ran, resource, "list")
    assert len(listed["ids"]) == g.PAGE_SIZE
    assert set(listed["ids"]) <= set(plan.listed[resource])
    assert listed["included"] == [types(ran, resource)[1]] * g.PAGE_SIZE
    assert listed["next"] is True


@pytest.mark.parametrize("resource", RESOURCES)
def test_the_next_links_lead_through_every_row_once(ran, resource):
    _, plan, _ = ran
    found = entry(ran, resource, "pages")
    if found is not None:
        assert sorted(found["ids"]) == sorted(plan.listed[resource])
        assert found["pages"] == -(-g.LISTED // g.PAGE_SIZE)


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_fetch_by_id_answers_the_row(ran, resource):
    _, plan, _ = ran
    found = entry(ran, resource, "fetch")
    assert found == {"id": plan.listed[resource][0], "type": types(ran, resource)[0]}


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_create_answers_201_with_the_new_row(ran, resource):
    _, plan, _ = ran
    found = entry(ran, resource, "create")
    if found is not None:
        assert found["status"] == (None if ran[0] in NO_STATUS else 201)
        assert found["type"] == types(ran, resource)[0]
        assert found["id"] not in plan.listed[resource]
        assert str(UUID(found["id"])) == found["id"]
        # The server's own ids are version 7, and so are those a client makes and sends
        # (Orbit's schema generates them: a ledger's id carries its row's time).
        assert UUID(found["id"]).version == 7


@pytest.mark.parametrize("resource", ["ledger", "providers"])
def test_an_update_answers_200_with_the_attributes_sent(ran, resource):
    _, plan, _ = ran
    found = entry(ran, resource, "update")
    if found is not None:
        sent = next(r for r in plan.document["resources"] if r["name"] == resource)["update"]
        status = None if ran[0] in NO_STATUS else 200
        assert found == {"status": status, "id": plan.listed[resource][1], **sent}


def test_an_update_of_an_enrolment_is_403_whatever_the_client(ran):
    # An enrolment has nothing a PATCH may change: the server stays strict.
    client, _, results = ran
    if "update" in UNADDRESSABLE.get(client, ()):
        assert "enrolments:update" not in results
        return
    found = results["enrolments:update"]
    said = FORBIDDEN_SAID.get(client, ["FORBIDDEN"])
    assert (found["ok"], found["status"], found["codes"]) == (False, 403, said)


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_delete_answers_204(ran, resource):
    found = entry(ran, resource, "delete")
    if found is not None:
        # A client that does not tell the status fetches the row again: 404.
        told = {"status": None, "after": 404} if ran[0] in NO_STATUS else {"status": 204}
        assert found == told
