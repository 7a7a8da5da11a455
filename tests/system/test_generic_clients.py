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

import io
import json
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest

from tests.support import generic_clients as g
from welldev.database import admin_connection
from welldev.load import Served, serving

NPM = g.CLIENTS / "generic"
# Each npm client's scenario, in NPM.
NPM_SCENARIOS = {
    "jsona": "jsona.mjs",
    "json-api-normalizer": "normalizer.mjs",
    "devour-client": "devour.mjs",
}
# Each PyPI client's scenario, below.
PYPI_SCENARIOS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
# The clients that keep an error's title and not its code (devour-client's default errors).
TITLES_ONLY = ("devour-client",)
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
        assert (found["status"], found["type"]) == (201, types(ran, resource)[0])
        assert found["id"] not in plan.listed[resource]
        assert str(UUID(found["id"])) == found["id"]


@pytest.mark.parametrize("resource", ["ledger", "providers"])
def test_an_update_answers_200_with_the_attributes_sent(ran, resource):
    _, plan, _ = ran
    found = entry(ran, resource, "update")
    if found is not None:
        sent = next(r for r in plan.document["resources"] if r["name"] == resource)["update"]
        assert found == {"status": 200, "id": plan.listed[resource][1], **sent}


def test_an_update_of_an_enrolment_is_403_whatever_the_client(ran):
    # An enrolment has nothing a PATCH may change: the server stays strict.
    client, _, results = ran
    if "update" in UNADDRESSABLE.get(client, ()):
        assert "enrolments:update" not in results
        return
    found = results["enrolments:update"]
    said = "Forbidden" if client in TITLES_ONLY else "FORBIDDEN"
    assert (found["ok"], found["status"], found["codes"]) == (False, 403, [said])


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_delete_answers_204(ran, resource):
    found = entry(ran, resource, "delete")
    if found is not None:
        assert found == {"status": 204}
