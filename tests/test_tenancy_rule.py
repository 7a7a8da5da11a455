"""The tenancy rule, written three times, says the same thing on the same data.

The engine's queries (``wellapi.queries.scope_condition`` and the compiled statements built
with it), the row-level-security policies (revisions 0004, 0007, 0014) and the sync writer's
own SQL (``wellapi.sync.writer``) each decide which rows a principal may touch. On one dataset
(``tests/support/tenancy_world.py``: four workspaces, one of them deleted; members of one and
of two workspaces, pending and revoked memberships, a service key; groups whose memberships
and enrolments cross workspaces; live and soft-deleted rows of every kind), for every
resource and every principal, the API's answer, the query's condition alone and RLS alone
must admit the same rows; for every (connector, record) link the data allows to ask for,
the writer and the policies must put it in the same workspace, or refuse it, and the API's
create (``wellapi.checks``) must take the links the writer takes; every enrolment and
provider selection a principal may ask for, the API's create and the policies admit alike.

The last tests alter one writing at a time, on purpose, and show that the comparison then
fails: it is a comparison, not three lists that happen to be empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pg8000.native
import pytest
from sqlalchemy import ColumnElement

from tests.support import sync as sy
from tests.support import tenancy_views as tv
from tests.support import tenancy_world as tw
from wellapi import db
from wellapi.queries import scope_condition, scope_workspace_pk
from wellapi.resources import Resource
from wellapi.roles import API_ROLE
from wellapi.sync import sweeper, writer
from wellapi.sync.messages import parse_message
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

CHECK_VIOLATION = "23514"
# A member who sees enrolments of other workspaces through a group only.
GROUP_MEMBER = "w3's owner (a member of a group without w3) in w3"


@pytest.fixture(scope="module")
def owner(database: local_db.LocalDatabase) -> Iterator[pg8000.native.Connection]:
    conn = local_db.admin_connection(database.admin_url)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(scope="module")
def api_role(database: local_db.LocalDatabase) -> Iterator[tv.LoginRole]:
    conn = local_db.admin_connection(database.url_for(API_ROLE))
    try:
        yield tv.LoginRole(conn)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def world(owner: pg8000.native.Connection) -> tw.World:
    return tw.build(owner)


@pytest.fixture(scope="module")
def scopes(owner: pg8000.native.Connection, world: tw.World) -> dict[str, tv.Scope]:
    return {p.label: tv.sign(owner, p) for p in world.principals}


def compare_reads(
    owner: pg8000.native.Connection,
    role: tv.ApiRole,
    world: tw.World,
    scopes: dict[str, tv.Scope],
    resource: str,
) -> list[str]:
    probe = tw.universe(owner, world, resource)
    found: list[str] = []
    for scope in scopes.values():
        api = tv.api_rows(resource, scope, probe)
        query = tv.query_rows(owner, resource, scope)
        rls = tv.rls_rows(role, resource, scope)
        found += tv.disagreements(resource, scope, api, query, rls, probe)
    return found


# ---- reads: the API, the query's condition and RLS ----------------------------------------


@pytest.mark.parametrize("resource", tw.RESOURCE_KEYS)
def test_the_api_the_query_condition_and_rls_admit_the_same_rows_for_every_principal(
    owner, api_role, world, scopes, resource
):
    assert compare_reads(owner, api_role, world, scopes, resource) == []


def test_the_dataset_gives_every_rule_something_to_decide(owner, api_role, world, scopes):
    """Not vacuous: every resolved scope sees rows and misses rows of every resource, and a
    member sees an enrolment of a workspace that is not theirs through a group."""
    for resource in tw.RESOURCE_KEYS:
        probe = tw.universe(owner, world, resource)
        for scope in scopes.values():
            seen = tv.live(tv.rls_rows(api_role, resource, scope)) & set(probe)
            if scope.principal.resolves and scope.principal.kind == "member":
                assert seen, (resource, scope.principal.label)
                assert tv.live(probe) - seen, (resource, scope.principal.label)
    # The group arm of the enrolment rule has rows to decide: w3's person sees enrolments of
    # other workspaces through g2.
    through_group = scopes[GROUP_MEMBER]
    enrolments = tv.rls_rows(api_role, "workspace_group_workspaces", through_group)
    of_w3 = owner.run(
        "SELECT workspace_group_workspace_id FROM core_api.workspace_group_workspaces "
        "WHERE workspace_pk = :w",
        w=world.workspaces["w3"][0],
    )
    assert set(enrolments) - {row[0] for row in of_w3}


# ---- ledger links: the sync writer and the policies --------------------------------------


def link_verdicts(
    owner: pg8000.native.Connection,
    role: tv.ApiRole,
    world: tw.World,
    scopes: dict[str, Any],
    ledger: str,
) -> list[str]:
    record_type = tw.LEDGERS[ledger]
    # An unlink is judged on tenancy alone (a soft-deleted connector or record may still be
    # unlinked); the workspace it acts in is its connector's.
    plans = tv.writer_verdicts(world, record_type, "provenance.unlinked")
    writer_workspace = {pair: plan and plan.workspace_pk for pair, plan in plans.items()}
    rls_admits: dict[str, set[tv.Pair]] = {}
    for label in world.live_workspaces:
        scope = scopes[world.member_of_workspace[label].label]
        rls_admits[label] = {
            pair
            for pair in world.pairs(record_type)
            if role.attempt(scope, tv.link_insert(world, ledger, record_type, pair))
            != tv.POLICY_REFUSED
        }
    schema_admits = {
        pair
        for pair in world.pairs(record_type)
        if tv.owner_attempt(owner, tv.link_insert(world, ledger, record_type, pair))
        != CHECK_VIOLATION
    }
    return tv.link_disagreements(world, record_type, writer_workspace, rls_admits, schema_admits)


@pytest.mark.parametrize("ledger", tw.LEDGERS)
def test_the_sync_writer_and_the_policies_put_every_link_in_the_same_workspace(
    owner, api_role, world, scopes, ledger
):
    assert link_verdicts(owner, api_role, world, scopes, ledger) == []


@pytest.mark.parametrize("ledger", tw.LEDGERS)
def test_the_writer_links_what_it_may_unlink_when_both_parents_are_live(world, ledger):
    record_type = tw.LEDGERS[ledger]
    linking = tv.writer_verdicts(world, record_type, "provenance.linked")
    unlinking = tv.writer_verdicts(world, record_type, "provenance.unlinked")
    live = {
        (c, r)
        for c, r in world.pairs(record_type)
        if c not in world.deleted_connectors and r not in world.deleted_records
    }
    taken = {pair for pair, plan in linking.items() if plan is not None}
    assert taken == {pair for pair, plan in unlinking.items() if plan is not None} & live
    assert taken  # not vacuous


SERVICE = "a service key in w2"


@pytest.mark.parametrize("ledger", tw.LEDGERS)
def test_a_service_key_over_http_creates_exactly_the_links_the_writer_takes(
    owner, world, scopes, ledger
):
    """The ledgers' other writer: the API's create, whose rules are ``wellapi.checks``'."""
    record_type = tw.LEDGERS[ledger]
    linking = tv.writer_verdicts(world, record_type, "provenance.linked")
    before = set(tw.universe(owner, world, ledger))
    answers = tv.api_link_verdicts(world, ledger, scopes[SERVICE])
    created = {pair for pair, status in answers.items() if status == 201}
    assert created == {pair for pair, plan in linking.items() if plan is not None}
    # A crossed link is the rule's refusal (422), not a parent the service could not see.
    crossed = {
        (c, r)
        for c, r in world.pairs(record_type)
        if c.split("/")[0] != r.split("/")[0]
        and c not in world.deleted_connectors
        and r not in world.deleted_records
    }
    assert {answers[pair] for pair in crossed} == {422}
    assert len(set(tw.universe(owner, world, ledger)) - before) == len(created)


@pytest.mark.parametrize("ledger", tw.LEDGERS)
def test_the_rows_the_writer_links_are_seen_through_every_wall_by_their_workspace_only(
    owner, api_role, world, scopes, ledger
):
    record_type = tw.LEDGERS[ledger]
    plans = tv.writer_verdicts(world, record_type, "provenance.linked")
    taken = [plan for plan in plans.values() if plan is not None]
    before = set(tw.universe(owner, world, ledger))
    applied = writer.apply(taken, pool=db.get_pool("sync"))
    assert all(a.applied and a.rows == 1 for a in applied)
    written = set(tw.universe(owner, world, ledger)) - before
    assert len(written) == len(taken)

    assert compare_reads(owner, api_role, world, scopes, ledger) == []
    # Each new row, in the workspace the writer acted in for its (connector, record).
    acted_in = {(p.connector_pk, p.record_ids[0]): p.workspace_pk for p in taken}
    workspace_of = {
        UUID(str(row_id)): acted_in[(int(connector_pk), UUID(str(record_id)))]
        for row_id, connector_pk, record_id in owner.run(
            f"SELECT t.{ledger[:-1]}_id, t.workspace_connector_pk, r.{tw.RECORD_ID[record_type]} "
            f"FROM core_api.{ledger} t JOIN core_api.{tw.RECORD_TABLE[record_type]} r "
            f"ON r.pk = t.{record_type}_pk WHERE t.{ledger[:-1]}_id = ANY(CAST(:ids AS uuid[]))",
            ids=[str(i) for i in written],
        )
    }
    assert workspace_of.keys() == written
    for scope in scopes.values():
        seen = set(tv.rls_rows(api_role, ledger, scope)) & written
        p = scope.principal
        if not p.resolves:
            expected = set()
        elif p.kind == "service":
            expected = written
        else:
            expected = {row for row, ws in workspace_of.items() if ws == p.workspace[0]}
        assert seen == expected, p.label


def test_a_revocation_soft_deletes_only_rows_its_connectors_workspace_sees(
    owner, api_role, world, scopes
):
    """The writer's revocation names a connector and no workspace, and so does the sweeper
    that soft-deletes its rows: every row they touch must be one that the connector's
    workspace, and no other, sees through the policies."""
    connector = "w2/c-second"
    live_before = {ledger: tv.live(tw.universe(owner, world, ledger)) for ledger in tw.LEDGERS}
    message = parse_message(json.dumps(sy.revoked(world.connectors[connector][1])))
    resolution = writer.resolve([message], pool=db.get_pool("sync"))
    plan = writer.check(message, resolution)
    assert plan.workspace_pk == world.workspaces["w2"][0]
    [applied] = writer.apply([plan], pool=db.get_pool("sync"))
    assert applied.applied
    swept = 0
    for part in sweeper.pending_parts(pool=db.get_pool("sync")):
        if part.workspace_connector_pk == plan.connector_pk:
            while not (step := sweeper.run_step(part, pool=db.get_pool("sync"), rows=1)).part_done:
                swept += step.rows
            swept += step.rows
    touched = {
        ledger: before - tv.live(tw.universe(owner, world, ledger))
        for ledger, before in live_before.items()
    }
    assert swept == sum(len(rows) for rows in touched.values()) > 0
    for ledger, rows in touched.items():
        for scope in scopes.values():
            p = scope.principal
            seen = set(tv.rls_rows(api_role, ledger, scope)) & rows
            in_w2 = p.resolves and (p.kind == "service" or p.workspace == world.workspaces["w2"])
            assert seen == (rows if in_w2 else set()), (ledger, p.label)


# ---- creates of the other junctions: the API's rules and the policies -------------------

CREATES = {
    "workspace_group_workspaces": (
        tw.World.enrolments,
        tv.enrolment_request,
        tv.enrolment_insert,
        {},
    ),
    "workspace_providers": (
        tw.World.selections,
        tv.selection_request,
        tv.selection_insert,
        {"is_selected": True, "is_matched": True},
    ),
}
# The API's create admits a row when it writes it, or when it finds the same live row there
# (409: the policy admitted the insert, the unique index refused it).
ADMITTED = {201, 409}


@pytest.mark.parametrize("resource", CREATES)
def test_the_api_and_the_policies_let_every_principal_create_the_same_rows(
    api_role, world, scopes, resource
):
    candidates_of, request, insert, attributes = CREATES[resource]
    found = []
    for scope in scopes.values():
        p = scope.principal
        candidates = candidates_of(world)
        if p.kind == "service":
            # A service may write in any workspace (RLS: the service arm); the API also wants
            # the workspace live, which is not the tenancy rule's business.
            candidates = [c for c in candidates if "w4" not in c]
        # The policies first: the API's creates commit.
        rls = {
            c for c in candidates if api_role.attempt(scope, insert(world, c)) != tv.POLICY_REFUSED
        }
        api = {
            c
            for c in candidates
            if tv.api_create(resource, scope, request(world, c), attributes) in ADMITTED
        }
        if rls != api:
            found.append(f"{p.label}: RLS admits {sorted(rls - api)}, the API {sorted(api - rls)}")
        if p.resolves and p.kind == "member" and resource == "workspace_providers":
            assert rls, p.label  # not vacuous: a member selects for its own workspace
    assert found == []


# ---- the comparison fails when one writing changes ---------------------------------------


def group_member_disagreements(owner, world, scopes, *, alter_policy: bool) -> list[str]:
    """What the comparison finds for the group member's enrolments, read with the API role's
    policy as the owner assumes it; ``alter_policy`` makes the policy forget group members
    first (uncommitted, so the API and the query are read before it locks the table)."""
    resource = "workspace_group_workspaces"
    scope = scopes[GROUP_MEMBER]
    probe = tw.universe(owner, world, resource)
    api = tv.api_rows(resource, scope, probe)
    query = tv.query_rows(owner, resource, scope)
    owner.run("BEGIN")
    try:
        if alter_policy:
            owner.run(
                f"ALTER POLICY {resource}_api ON core_api.{resource} "
                "USING (workspace_pk = (SELECT core_api.verified_workspace_pk()))"
            )
        rls = tv.rls_rows(tv.AssumedRole(owner), resource, scope)
    finally:
        owner.run("ROLLBACK")
    return tv.disagreements(resource, scope, api, query, rls, probe)


def test_a_policy_altered_to_forget_group_members_is_caught(owner, world, scopes):
    found = group_member_disagreements(owner, world, scopes, alter_policy=True)

    assert any("query (left) vs RLS (right)" in line for line in found), found
    assert any("API List (left) vs RLS (right)" in line for line in found), found


def test_the_unaltered_policy_seen_the_same_way_agrees(owner, world, scopes):
    """The control of the test above: the same path, without the ALTER, finds nothing."""
    assert group_member_disagreements(owner, world, scopes, alter_policy=False) == []


def test_a_query_condition_altered_to_forget_group_members_is_caught(
    owner, api_role, world, scopes
):
    def workspace_only(
        resource: Resource, table: Any, parents: dict[str, Any], *, service: bool = False
    ) -> ColumnElement[bool]:
        if resource.scope != "group_enrolment" or service:
            return scope_condition(resource, table, parents, service=service)
        return table.c.workspace_pk == scope_workspace_pk()

    resource = "workspace_group_workspaces"
    scope = scopes[GROUP_MEMBER]
    probe = tw.universe(owner, world, resource)
    api = tv.api_rows(resource, scope, probe)
    query = tv.query_rows(owner, resource, scope, workspace_only)
    rls = tv.rls_rows(api_role, resource, scope)
    found = tv.disagreements(resource, scope, api, query, rls, probe)
    assert any("query (left) vs RLS (right)" in line for line in found), found


def test_a_writer_altered_to_skip_the_workspace_check_is_caught(
    owner, api_role, world, scopes, monkeypatch
):
    checked = writer.check

    def careless(message: Any, resolution: writer.Resolution) -> writer.Planned:
        missing_only = {k: p for k, p in resolution.problems.items() if p.workspace_pk is None}
        return checked(message, writer.Resolution(resolution.connectors, missing_only))

    monkeypatch.setattr(writer, "check", careless)
    found = link_verdicts(owner, api_role, world, scopes, "account_workspace_connectors")
    assert any("that RLS refuses" in line for line in found), found
    assert any("the schema refuses" in line for line in found), found


def test_a_ledger_policy_altered_to_check_the_connector_alone_is_caught(owner, world, scopes):
    ledger, record_type = "company_workspace_connectors", "company"
    plans = tv.writer_verdicts(world, record_type, "provenance.unlinked")
    writer_workspace = {pair: plan and plan.workspace_pk for pair, plan in plans.items()}
    schema_admits = {
        pair
        for pair in world.pairs(record_type)
        if tv.owner_attempt(owner, tv.link_insert(world, ledger, record_type, pair))
        != CHECK_VIOLATION
    }
    role = tv.AssumedRole(owner)
    owner.run("BEGIN")
    try:
        owner.run(
            f"ALTER POLICY {ledger}_api ON core_api.{ledger} WITH CHECK (workspace_connector_pk "
            "= ANY ((SELECT core_api.verified_workspace_connector_pks())::bigint[]))"
        )
        rls_admits = {
            label: {
                pair
                for pair in world.pairs(record_type)
                if role.attempt(
                    scopes[world.member_of_workspace[label].label],
                    tv.link_insert(world, ledger, record_type, pair),
                )
                != tv.POLICY_REFUSED
            }
            for label in world.live_workspaces
        }
    finally:
        owner.run("ROLLBACK")
    found = tv.link_disagreements(world, record_type, writer_workspace, rls_admits, schema_admits)
    assert any("RLS admits" in line for line in found), found


def test_an_enrolment_policy_altered_to_let_any_group_member_enrol_is_caught(owner, world, scopes):
    scope = scopes[GROUP_MEMBER]  # a plain member of g2, active in w3
    candidates = world.enrolments()
    # The API first: its creates commit, and the altered policy, uncommitted, locks the table.
    api = {
        c
        for c in candidates
        if tv.api_create("workspace_group_workspaces", scope, tv.enrolment_request(world, c))
        in ADMITTED
    }
    role = tv.AssumedRole(owner)
    owner.run("BEGIN")
    try:
        owner.run(
            "ALTER POLICY workspace_group_workspaces_api_insert "
            "ON core_api.workspace_group_workspaces WITH CHECK (true)"
        )
        rls = {
            c
            for c in candidates
            if role.attempt(scope, tv.enrolment_insert(world, c)) != tv.POLICY_REFUSED
        }
    finally:
        owner.run("ROLLBACK")
    assert ("g2", "w3") in rls - api
