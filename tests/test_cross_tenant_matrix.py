"""Nobody sees or touches another workspace's rows: every route, in process.

Tenant B's member (an active owner of its own workspace, owner of its own group) aims every
route at tenant A's rows and ids; see ``tests/support/cross_tenant.py`` for the cases and what
each must answer. The handlers are invoked as API Gateway would invoke them, with the claims the
authorizer gives (and, for the revoked key, through the authorizer itself). After every write
attempt the whole ``core_api`` schema is compared byte for byte with what it was.
"""

from __future__ import annotations

import pytest

from tests.support import cross_tenant as ct
from tests.support import tenancy as tn
from wellapi import keys
from wellapi.openapi import ROUTES

pytestmark = pytest.mark.usefixtures("api_database")


@pytest.fixture
def world(admin) -> tn.World:
    return tn.world(admin)


@pytest.fixture
def client(world, admin) -> ct.InProcessClient:
    a, b = world.a.tenant, world.b.tenant
    key_id, revoked = keys.create_key(
        admin, person_id=b.person_id, workspace_id=b.workspace_id, kind="member", name="revoked"
    )
    assert keys.revoke_key(admin, str(key_id))
    claims = {
        ct.MEMBER_B: b.claims("member"),
        ct.MEMBER_A: a.claims("member"),
        ct.SERVICE_A: a.claims("service"),
    }
    return ct.InProcessClient(claims, {ct.REVOKED_B: revoked})


def test_the_matrix_covers_every_route_the_api_serves():
    assert len(ROUTES) == 30
    assert len(set(ct.served_routes())) == 30


@pytest.mark.parametrize("route", ROUTES, ids=ct.route_id)
def test_another_tenants_member_gets_nothing_of_a_through(route, world, client, admin):
    failures = ct.run_route(route, world, client, lambda: tn.snapshot(admin))
    assert failures == []
