"""The tenancy rule, written three times, says the same thing on the same data, and the
policies allow exactly the writes the API allows.

The engine's queries (``wellapi.sqltext.reads.scope_condition`` and the composed statements
built with it), the row-level-security policies (each table's ``<table>_api`` and its
restrictive ``<table>_api_insert`` and ``<table>_api_update``) and the sync writer's own SQL
(``wellapi.sync.batches``) each decide which rows a principal may touch. On one dataset
(``tests/support/tenancy_world.py``: four workspaces, one of them deleted; members of one and of
two workspaces in every workspace and group role, pending and revoked memberships, a service
key; groups whose memberships and enrolments cross workspaces; live and soft-deleted rows of
every kind):

- reads: for every resource and every principal, the API's answer, the query's condition
  alone and RLS alone admit the same rows;
- ledger links: for every (connector, record) link the data allows to ask for, the writer
  takes exactly the links the policies let a service scope insert, each in its connector's
  workspace, and the API's create takes the links the writer takes;
- every write: for every create, update and removal of every resource, asked of every row of
  the dataset by every principal, the API (through its handlers) and the policies (the same
  write as the API role's SQL) admit the same; and the writes the API never makes (a row
  inserted removed or dated in the past, another author, a removal undone, a link for a
  revoked connector, ...) are refused to everyone.

The tests after those alter one writing at a time, on purpose, and show that the comparison
then fails: it is a comparison, not lists that happen to be empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pg8000.native
import pytest

from tests.support import sync as sy
from tests.support import tenancy_views as tv
from tests.support import tenancy_world as tw
from wellapi.resources import RESOURCES, Resource
from wellapi.resources.conditions import SCOPE_WORKSPACE_PK
from wellapi.roles import API_ROLE
from wellapi.sqltext.reads import scope_condition
from wellapi.store import connections as db
from wellapi.sync import batches as writer
from wellapi.sync import sweeper
from wellapi.sync.messages import parse_message
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

CHECK_VIOLATION = "23514"
# A member who sees enrolments of other workspaces through a group only.
GROUP_MEMBER = "w3's owner (a member of a group without w3) in w3"
ENROLMENTS = "workspace_group_workspaces"


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


# The module's world is never written to: every test compares on it as it was built, whichever
# ran before. A test that writes (links, revokes) does so in a world of its own.


@pytest.fixture
def own_world(owner: pg8000.native.Connection) -> tw.World:
    return tw.build(owner)


@pytest.fixture
def own_scopes(owner: pg8000.native.Connection, own_world: tw.World) -> dict[str, tv.Scope]:
    return {p.label: tv.sign(owner, p) for p in own_world.principals}


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
        query = tv.query_rows(owner, resource, scope, within=probe)
        rls = tv.rls_rows(role, resource, scope, probe)
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
            seen = tv.live(tv.rls_rows(api_role, resource, scope, probe))
            if scope.principal.resolves and scope.principal.kind == "member":
                assert seen, (resource, scope.principal.label)
                assert tv.live(probe) - seen, (resource, scope.principal.label)
    # The group arm of the enrolment rule has rows to decide: w3's person sees enrolments of
    # other workspaces through g2.
    groups = "workspace_group_workspaces"
    enrolments = tv.rls_rows(
        api_role, groups, scopes[GROUP_MEMBER], tw.universe(owner, world, groups)
    )
    of_w3 = owner.run(
        f"SELECT {groups[:-1]}_id FROM core_api.{groups} WHERE workspace_pk = :w",
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
    unlinks = tv.writer_verdicts(world, record_type, "provenance.unlinked")
    links = tv.writer_verdicts(world, record_type, "provenance.linked")
    rls_admits = {
        pair
        for pair in world.pairs(record_type)
        if role.attempt(scopes[SERVICE], tv.link_insert(world, ledger, record_type, pair))
        in tv.RLS_ADMITS
    }
    schema_admits = {
        pair
        for pair in world.pairs(record_type)
        if tv.owner_attempt(owner, tv.link_insert(world, ledger, record_type, pair))
        != CHECK_VIOLATION
    }
    return tv.link_disagreements(
        world,
        record_type,
        {pair: plan and plan.workspace_pk for pair, plan in unlinks.items()},
        {pair for pair, plan in links.items() if plan is not None},
        rls_admits,
        schema_admits,
    )


SERVICE = "a service key in w2"


@pytest.mark.parametrize("ledger", tw.LEDGERS)
def test_the_sync_writer_and_the_policies_take_the_same_links_each_in_its_connectors_workspace(
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


@pytest.mark.parametrize("ledger", tw.LEDGERS)
def test_a_service_key_over_http_creates_exactly_the_links_the_writer_takes(
    owner, own_world, own_scopes, ledger
):
    """The ledgers' other writer: the API's create, whose rules are the ledgers' conditions
    (``wellapi.resources.ledgers_sql``)."""
    world, scopes = own_world, own_scopes
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
    owner, api_role, own_world, own_scopes, ledger
):
    world, scopes = own_world, own_scopes
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
        seen = set(tv.rls_rows(api_role, ledger, scope, written))
        p = scope.principal
        if not p.resolves:
            expected = set()
        elif p.kind == "service":
            expected = written
        else:
            expected = {row for row, ws in workspace_of.items() if ws == p.workspace[0]}
        assert seen == expected, p.label


def test_a_revocation_soft_deletes_only_rows_its_connectors_workspace_sees(
    owner, api_role, own_world, own_scopes
):
    """The writer's revocation names a connector and no workspace, and so does the sweeper
    that soft-deletes its rows: every row they touch must be one that the connector's
    workspace, and no other, sees through the policies."""
    world, scopes = own_world, own_scopes
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
            seen = set(tv.rls_rows(api_role, ledger, scope, rows))
            in_w2 = p.resolves and (p.kind == "service" or p.workspace == world.workspaces["w2"])
            assert seen == (rows if in_w2 else set()), (ledger, p.label)


# ---- every write: the API's rules and the policies ---------------------------------------

# The links every principal asks to create: a connector and a record of the same workspace or
# of two, live or soft-deleted, of the deleted workspace too (the writer's comparison above
# asks for every pair).
LINKED_CONNECTORS = ("w1/c", "w1/c-deleted", "w2/c", "w4/c")
LINKED_RECORDS = ("w1/r1", "w1/r-deleted", "w2/r1", "w4/r1")
# What each update asks, per resource: (what, the attributes sent, the SET it makes).
UPDATES = {
    **dict.fromkeys(
        tw.LEDGERS,
        # One of the two is the row's own (a PATCH that changes nothing), the other a change
        # the API refuses: the direction is set on create only.
        tuple(
            (f"set {d} on", {"direction": d}, f"direction = '{d}', updated_at = now()")
            for d in ("input", "output")
        ),
    ),
    "workspace_group_workspaces": (("modify", {}, "updated_at = now()"),),
    "workspace_providers": (
        ("unselect", {"is_selected": False}, "is_selected = false, updated_at = now()"),
        ("unmatch", {"is_matched": False}, "is_matched = false, updated_at = now()"),
        ("select", {"is_selected": True}, "is_selected = true, is_matched = true"),
    ),
}
# What a removal sets (the API's ``Checks.delete_values`` beside ``deleted_at``).
REMOVALS = {
    **dict.fromkeys(tw.LEDGERS, "deleted_at = now()"),
    "workspace_group_workspaces": "deleted_at = now()",
    "workspace_providers": "deleted_at = now(), is_selected = false",
}


def _parent(world: tw.World, kind: str, label: str) -> tuple[str, UUID]:
    refs = {
        "workspace_connector": world.connectors,
        "workspace": world.workspaces,
        "workspace_group": world.groups,
        "provider": world.providers,
    }
    return kind, (refs[kind] if kind in refs else world.records[kind])[label][1]


def _creates(world: tw.World) -> list[tv.Write]:
    writes = []
    for ledger, record_type in tw.LEDGERS.items():
        for pair in [(c, r) for c in LINKED_CONNECTORS for r in LINKED_RECORDS]:
            writes.append(
                tv.Write(
                    ledger,
                    f"create {ledger} {pair}",
                    "POST",
                    lambda scope, ledger=ledger, record_type=record_type, pair=pair: tv.link_insert(
                        world, ledger, record_type, pair
                    ),
                    body=tv.document(
                        ledger,
                        {
                            name: _parent(world, name, pair[i])
                            for i, name in ((1, record_type), (0, "workspace_connector"))
                        },
                        {"direction": "output"},
                    ),
                )
            )
    for group, workspace in world.enrolments():
        group_pk, workspace_pk = world.groups[group][0], world.workspaces[workspace][0]
        writes.append(
            tv.Write(
                "workspace_group_workspaces",
                f"enrol {workspace} in {group}",
                "POST",
                lambda scope, g=group_pk, w=workspace_pk: (
                    "INSERT INTO core_api.workspace_group_workspaces (workspace_group_pk, "
                    f"workspace_pk, created_by_pk) VALUES ({g}, {w}, {scope.principal.person[0]}) "
                    "RETURNING 1"
                ),
                body=tv.document(
                    "workspace_group_workspaces",
                    {
                        "workspace_group": _parent(world, "workspace_group", group),
                        "workspace": _parent(world, "workspace", workspace),
                    },
                ),
            )
        )
    for workspace, provider in world.selections():
        workspace_pk, provider_pk = world.workspaces[workspace][0], world.providers[provider][0]
        writes.append(
            tv.Write(
                "workspace_providers",
                f"select {provider} for {workspace}",
                "POST",
                lambda scope, w=workspace_pk, p=provider_pk: (
                    "INSERT INTO core_api.workspace_providers (workspace_pk, provider_pk, "
                    f"is_selected, is_matched) VALUES ({w}, {p}, true, true) "
                    "ON CONFLICT (workspace_pk, provider_pk) WHERE deleted_at IS NULL DO UPDATE "
                    "SET is_selected = excluded.is_selected, is_matched = excluded.is_matched "
                    "RETURNING 1"
                ),
                body=tv.document(
                    "workspace_providers",
                    {
                        "workspace": _parent(world, "workspace", workspace),
                        "provider": _parent(world, "provider", provider),
                    },
                    {"is_selected": True, "is_matched": True},
                ),
                # The create is an upsert: on a live selection it is an update.
                changes=(
                    f"workspace_pk = {workspace_pk} AND provider_pk = {provider_pk} "
                    "AND deleted_at IS NULL"
                ),
            )
        )
    return writes


def _updates_and_removals(world: tw.World) -> list[tv.Write]:
    writes = []
    for resource, rows in world.built.items():
        r = RESOURCES[resource]
        for row_id in rows:
            where = f"{r.id_column} = '{row_id}'"
            changes = [
                (f"{what} {resource} {row_id}", "PATCH", attributes, sets)
                for what, attributes, sets in UPDATES[resource]
            ]
            changes.append((f"remove {resource} {row_id}", "DELETE", None, REMOVALS[resource]))
            for what, method, attributes, sets in changes:
                writes.append(
                    tv.Write(
                        resource,
                        what,
                        method,
                        lambda scope, sets=sets, where=where, table=r.table.name: (
                            f"UPDATE core_api.{table} SET {sets} WHERE {where} RETURNING 1"
                        ),
                        row_id=row_id,
                        body=None
                        if attributes is None
                        else tv.document(resource, {}, attributes, row_id),
                        changes=where,
                    )
                )
    return writes


@pytest.fixture(scope="module")
def every_write(owner, world, scopes) -> tuple[list[tv.Write], dict[tuple[str, int], bool]]:
    """Every write of every resource, and whether the API admits each for each principal
    (asked first: its writes commit, each undone, and a policy altered on purpose, never
    committed, would lock the tables it asks)."""
    writes = _creates(world) + _updates_and_removals(world)
    return writes, tv.api_verdicts(owner, list(scopes.values()), writes)


def test_the_api_and_the_policies_admit_the_same_writes_for_every_principal(
    api_role, scopes, every_write
):
    writes, api = every_write
    rls = tv.rls_verdicts(api_role, list(scopes.values()), writes)
    assert tv.write_disagreements(writes, api, rls) == []


def test_every_write_is_admitted_for_someone_and_refused_to_someone(scopes, every_write):
    """Not vacuous: each resource's creates, updates and removals are admitted for some
    principal and refused to another, and a member's own provider selections are admitted."""
    writes, api = every_write
    for resource in tw.RESOURCE_KEYS:
        for method in ("POST", "PATCH", "DELETE"):
            verdicts = {
                admitted
                for (label, index), admitted in api.items()
                if writes[index].resource == resource and writes[index].method == method
            }
            expected = (
                {False}
                if (resource, method) == ("workspace_group_workspaces", "PATCH")
                else {True, False}
            )
            assert verdicts == expected, (resource, method)


# ---- the comparison fails when one writing changes ---------------------------------------


def policy_disagreements(owner, world, scope, resource: str, using: str | None) -> list[str]:
    """What the comparison finds for ``scope`` on ``resource``, read with the API role's policy
    as the owner assumes it; ``using`` replaces the policy's condition first (uncommitted, so
    the API and the query are read before it locks the table)."""
    probe = tw.universe(owner, world, resource)
    api = tv.api_rows(resource, scope, probe)
    query = tv.query_rows(owner, resource, scope, within=probe)
    owner.run("BEGIN")
    try:
        if using:
            owner.run(f"ALTER POLICY {resource}_api ON core_api.{resource} USING ({using})")
        rls = tv.rls_rows(tv.AssumedRole(owner), resource, scope, probe)
    finally:
        owner.run("ROLLBACK")
    return tv.disagreements(resource, scope, api, query, rls, probe)


def test_a_policy_altered_to_forget_group_members_is_caught(owner, world, scopes):
    forgets = "workspace_pk = (SELECT core_api.verified_workspace_pk())"
    found = policy_disagreements(owner, world, scopes[GROUP_MEMBER], ENROLMENTS, forgets)

    assert any("query (left) vs RLS (right)" in line for line in found), found
    assert any("API List (left) vs RLS (right)" in line for line in found), found


def test_the_unaltered_policy_seen_the_same_way_agrees(owner, world, scopes):
    """The control of the test above: the same path, without the ALTER, finds nothing."""
    assert policy_disagreements(owner, world, scopes[GROUP_MEMBER], ENROLMENTS, None) == []


def test_a_read_policy_opened_to_other_tenants_is_caught_by_the_rows_counted_elsewhere(
    owner, world, scopes, own_world
):
    """The rows outside the probed workspaces (here another world's) are counted, not sent:
    a policy that lets a member read them is still caught."""
    scope = scopes["w1's owner in w1"]
    found = policy_disagreements(owner, world, scope, "account_workspace_connectors", "true")
    assert any("rows of no probed workspace" in line for line in found), found
    assert any("unprobed rows, 0 by the query" in line for line in found), found


def test_a_query_condition_altered_to_forget_group_members_is_caught(
    owner, api_role, world, scopes
):
    def workspace_only(resource: Resource, alias: str, *, service: bool = False) -> str:
        if resource.scope != "group_enrolment" or service:
            return scope_condition(resource, alias, service=service)
        return f"{alias}.workspace_pk = {SCOPE_WORKSPACE_PK}"

    resource = "workspace_group_workspaces"
    scope = scopes[GROUP_MEMBER]
    probe = tw.universe(owner, world, resource)
    api = tv.api_rows(resource, scope, probe)
    query = tv.query_rows(owner, resource, scope, workspace_only, within=probe)
    rls = tv.rls_rows(api_role, resource, scope, probe)
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


def loosened(owner, scopes, every_write, resource: str, *alterations: str) -> list[str]:
    """What the comparison finds for ``resource``'s writes with its policies altered first
    (uncommitted, read through the owner's transaction), against the API's verdicts."""
    writes, api = every_write
    asked = [i for i, write in enumerate(writes) if write.resource == resource]
    owner.run("BEGIN")
    try:
        for alteration in alterations:
            owner.run(alteration)
        rls = tv.rls_verdicts(tv.AssumedRole(owner), list(scopes.values()), writes, asked)
    finally:
        owner.run("ROLLBACK")
    return tv.write_disagreements(writes, api, rls)


def test_a_ledger_policy_loosened_to_let_a_member_link_and_unlink_is_caught(
    owner, world, scopes, every_write
):
    ledger = "company_workspace_connectors"
    found = loosened(
        owner,
        scopes,
        every_write,
        ledger,
        f"ALTER POLICY {ledger}_api ON core_api.{ledger} WITH CHECK (true)",
        f"ALTER POLICY {ledger}_api_insert ON core_api.{ledger} WITH CHECK (true)",
        f"ALTER POLICY {ledger}_api_update ON core_api.{ledger} USING (true) WITH CHECK (true)",
    )
    owner_of_w1 = "w1's owner in w1"
    assert any(
        line.startswith(f"{owner_of_w1}: create {ledger} ('w1/c', 'w1/r1')") for line in found
    ), found
    assert any(line.startswith(f"{owner_of_w1}: remove {ledger}") for line in found), found
    assert all("the API refuses, the policies admits" in line for line in found), found


def test_a_selection_policy_loosened_to_touch_removed_rows_is_caught(owner, scopes, every_write):
    resource = "workspace_providers"
    found = loosened(
        owner,
        scopes,
        every_write,
        resource,
        f"ALTER POLICY {resource}_api_update ON core_api.{resource} USING (true) WITH CHECK (true)",
    )
    # w3's owner may select in w3, where one selection was removed: the API finds no such row.
    assert any(
        line.startswith("w3's owner (a member of a group without w3) in w3: unselect")
        for line in found
    ), found


def test_an_enrolment_policy_loosened_to_let_any_group_member_enrol_is_caught(
    owner, scopes, every_write
):
    resource = "workspace_group_workspaces"
    found = loosened(
        owner,
        scopes,
        every_write,
        resource,
        f"ALTER POLICY {resource}_api_insert ON core_api.{resource} WITH CHECK (true)",
    )
    # A plain member of g2, active in w3, may not enrol w3 in g2.
    assert f"{GROUP_MEMBER}: enrol w3 in g2: the API refuses, the policies admits" in found, found


def test_the_unaltered_write_policies_seen_the_same_way_agree(owner, scopes, every_write):
    """The control of the three tests above: the same path, without the ALTER, finds nothing."""
    for resource in tw.RESOURCE_KEYS:
        assert loosened(owner, scopes, every_write, resource) == [], resource


# ---- what the API never writes, refused to every principal ------------------------------


def _id_of(owner, table: str, where: str, *, newest: bool = False) -> str:
    """The condition naming one row: the dataset's own (the first written), or the newest."""
    id_column = RESOURCES[table].id_column
    order = "DESC" if newest else "ASC"
    [[row_id]] = owner.run(
        f"SELECT {id_column} FROM core_api.{table} WHERE {where} "
        f"ORDER BY created_at {order}, pk {order} LIMIT 1"
    )
    return f"{id_column} = '{row_id}'"


def test_writes_the_api_never_makes_are_refused_to_every_principal(owner, world, scopes):
    """Each write below is one the API never makes, beside its fair twin, which the named
    principal may make: the policies refuse the first to everyone, for the reason it shows."""
    ws = {label: pk for label, (pk, _) in world.workspaces.items()}
    person = {p.label: p.person[0] for p in world.principals}
    w1_owner, w3_owner = "w1's owner in w1", GROUP_MEMBER
    ledger = "account_workspace_connectors"
    record = world.records["account"]["w2/r1"][0]
    connector = world.connectors["w2/c"][0]
    enrolments, selections = "workspace_group_workspaces", "workspace_providers"
    g1, shared, free = (
        world.groups["g1"][0],
        world.providers["shared"][0],
        world.providers["free"][0],
    )

    def link(connector_pk: int, extra: str = "", values: str = "") -> str:
        return (
            f"INSERT INTO core_api.{ledger} (account_pk, workspace_connector_pk, direction{extra}) "
            f"VALUES ({record}, {connector_pk}, 'output'{values}) RETURNING 1"
        )

    def enrol(author: int, extra: str = "", values: str = "") -> str:
        return (
            f"INSERT INTO core_api.{enrolments} (workspace_group_pk, workspace_pk, "
            f"created_by_pk{extra}) VALUES ({g1}, {ws['w2']}, {author}{values}) RETURNING 1"
        )

    def select(extra: str = "", values: str = "") -> str:
        return (
            f"INSERT INTO core_api.{selections} (workspace_pk, provider_pk, is_selected, "
            f"is_matched{extra}) VALUES ({ws['w1']}, {free}, true, true{values}) RETURNING 1"
        )

    def update(table: str, sets: str, where: str) -> str:
        return f"UPDATE core_api.{table} SET {sets} WHERE {where} RETURNING 1"

    removed, backdated = (", deleted_at", ", now()"), (", created_at", ", now() - interval '1 day'")
    day_ago = ", core_api.uuid_floor(now() - interval '1 day')"  # a ledger row's time is its id's
    owner.run("BEGIN")
    try:
        # A revoked connector of w2 with a live row, and a live row of a connector that is not.
        [[revoked]] = owner.run(
            "INSERT INTO core_api.workspace_connectors (workspace_pk, connector_pk, status) "
            "SELECT workspace_pk, connector_pk, status FROM core_api.workspace_connectors "
            f"WHERE pk = {connector} RETURNING pk"
        )
        owner.run(link(revoked))
        owner.run(link(connector))
        owner.run(
            "INSERT INTO core_api.connector_revocations (workspace_connector_pk, occurred_at) "
            f"VALUES ({revoked}, now())"
        )
        of_revoked = _id_of(owner, ledger, f"workspace_connector_pk = {revoked}")
        of_live = _id_of(
            owner,
            ledger,
            f"workspace_connector_pk = {connector} AND account_pk = {record} "
            "AND deleted_at IS NULL",
            newest=True,
        )
        removed_enrolment = _id_of(
            owner, enrolments, f"workspace_group_pk = {g1} AND workspace_pk = {ws['w2']}"
        )
        live_enrolment = _id_of(
            owner, enrolments, f"workspace_group_pk = {g1} AND workspace_pk = {ws['w1']}"
        )
        selected = _id_of(
            owner, selections, f"workspace_pk = {ws['w1']} AND provider_pk = {shared}"
        )
        unselected = _id_of(
            owner, selections, f"workspace_pk = {ws['w3']} AND provider_pk <> {shared}"
        )
        removed_selection = _id_of(
            owner, selections, f"workspace_pk = {ws['w3']} AND provider_pk = {shared}"
        )
        service = "a service key in w2"
        cases = {
            "a ledger row inserted removed": (link(connector, *removed), link(connector), service),
            "a ledger row dated in the past": (
                link(connector, f", {ledger[:-1]}_id", day_ago),
                link(connector),
                service,
            ),
            "a link for a revoked connector": (link(revoked), link(connector), service),
            "a revoked connector's row removed": (
                update(ledger, "deleted_at = now()", of_revoked),
                update(ledger, "deleted_at = now()", of_live),
                service,
            ),
            "a ledger row's direction changed": (
                update(ledger, "direction = 'input'", of_live),
                update(ledger, "direction = 'output'", of_live),
                service,
            ),
            "an enrolment by another author": (
                # w4's owner: a person every scope of whom is refused.
                enrol(person["w4's owner in w4, a deleted workspace"]),
                enrol(person[w1_owner]),
                w1_owner,
            ),
            "an enrolment inserted removed": (
                enrol(person[w1_owner], *removed),
                enrol(person[w1_owner]),
                w1_owner,
            ),
            "an enrolment dated in the past": (
                enrol(person[w1_owner], *backdated),
                enrol(person[w1_owner]),
                w1_owner,
            ),
            "a removed enrolment brought back": (
                update(enrolments, "deleted_at = NULL", removed_enrolment),
                update(enrolments, "deleted_at = now()", live_enrolment),
                w1_owner,
            ),
            "a selection removed and still selected": (
                update(selections, "deleted_at = now()", selected),
                update(selections, "deleted_at = now(), is_selected = false", selected),
                w1_owner,
            ),
            "a removed selection brought back": (
                update(selections, "deleted_at = NULL, is_selected = false", removed_selection),
                update(selections, "deleted_at = now(), is_selected = false", unselected),
                w3_owner,
            ),
            "a selection inserted removed": (select(*removed), select(), w1_owner),
            "a selection dated in the past": (select(*backdated), select(), w1_owner),
        }
        role = tv.AssumedRole(owner)
        found = []
        for what, (never, fair, who) in cases.items():
            if role.attempt(scopes[who], fair) not in tv.RLS_ADMITS:
                found.append(f"{what}: the fair twin is refused to {who}")
            found += [
                f"{what}: admitted for {label}"
                for label, scope in scopes.items()
                if role.attempt(scope, never) in tv.RLS_ADMITS
            ]
    finally:
        owner.run("ROLLBACK")
    assert found == []
