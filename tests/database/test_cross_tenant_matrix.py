"""Nobody sees or touches another workspace's rows: every route, in process.

Tenant B's member (an active owner of its own workspace, owner of its own group) aims every
route at tenant A's rows and ids; see ``tests/support/cross_tenant_cases.py`` for the cases
and what each must answer. The handlers are invoked as API Gateway would invoke them, with the
claims the authorizer gives (and, for the revoked key, through the authorizer itself). After
every write attempt the whole ``core_api`` schema is compared byte for byte with what it was.
"""

from __future__ import annotations

import json

import pytest

from tests.support import cross_tenant as ct
from tests.support import tenancy as tn
from wellapi.operations.registry import OPERATIONS, ROUTES
from wellapi.resources import RESOURCES
from wellapi.resources.ledgers import LEDGER_RESOURCES

pytestmark = pytest.mark.usefixtures("api_database")


@pytest.fixture
def world(admin) -> tn.World:
    return tn.world(admin)


@pytest.fixture
def client(world, admin) -> ct.InProcessClient:
    return ct.in_process_client(admin, world)


# Each ledger's seven routes; the enrolments' nine, the providers' ten and the feed's.
ROUTE_COUNT = 7 * len(LEDGER_RESOURCES) + 9 + 10 + 1


def test_the_matrix_covers_every_route_the_api_serves():
    assert len(ROUTES) == ROUTE_COUNT
    assert len(set(ct.served_routes())) == ROUTE_COUNT


@pytest.mark.parametrize("route", ROUTES, ids=ct.route_id)
def test_another_tenants_member_gets_nothing_of_a_through(route, world, client, admin):
    failures = ct.run_route(route, world, client, lambda: tn.snapshot(admin))
    assert failures == []


RELATED_ROUTES = [route for route in ROUTES if route[1] in ("related", "relationship")]


@pytest.mark.parametrize("route", RELATED_ROUTES, ids=ct.route_id)
def test_another_tenants_row_behind_a_relationship_route_is_answered_as_a_missing_one(
    route, world, client
):
    """B asking for A's row's related record or linkage gets the very error a missing id
    gets, the id aside: nothing tells the row exists."""
    resource, operation = route
    base = OPERATIONS[operation].path(RESOURCES[resource])
    answers = {}
    for rel in RESOURCES[resource].relationships:
        for name, row_id in (("A's", str(world.a.row(resource)[1])), ("missing", ct.MISSING_ID)):
            path = base.format(id=row_id, relationship=rel.name)
            reply = client.send(
                ct.MEMBER_B,
                ct.Request(resource, operation, path, {"id": row_id, "relationship": rel.name}),
            )
            assert reply.status == 404, reply.body
            errors = reply.json["errors"]
            for error in errors:
                error["meta"].pop("trace_id")
            answers[(rel.name, name)] = json.loads(json.dumps(errors).replace(row_id, "<id>"))
        assert answers[(rel.name, "A's")] == answers[(rel.name, "missing")]
