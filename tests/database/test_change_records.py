"""The transactional outbox (docs/changes.md): every change leaves its change record in its
own transaction, and nothing else does.

Through the API's handlers: every write kind of every resource leaves exactly its record, a
write that writes nothing leaves none, a request that fails after its write statement leaves
neither the row nor the record. Through the sync function and the sweeper: a message of
5,000 records writes 5 records, a revocation one, each sweep step its own, and a writer that
dies before commit leaves nothing. Row-level security shows a scope its own workspace's
records only, and the API role cannot record a change it did not make. An update records its
rows alike whether its recorder runs the statement kept for the session or one planned for its
size. The order readers walk: test_change_record_order.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support import writes as w
from tests.support.api import Lambda
from tests.support.proven import SignedScope
from wellapi.domain import CHANGE_IDS
from wellapi.errors import sqlstate_of
from wellapi.handlers.sync import sync_handler
from wellapi.operations import conditional_write
from wellapi.resources import RESOURCES
from wellapi.store import connections as db
from wellapi.store.sql import BoundStatement, fixed
from wellapi.sync import batches
from wellapi.sync.messages import parse_message
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

sync = sync_handler()
INSUFFICIENT_PRIVILEGE = "42501"
COLUMNS = (
    "resource_type, change, ids::text[], record_ids::text[], detail, workspace_pk, actor_kind, "
    "actor_person_pk, sync_run_id, message_key, occurred_at = recorded_at, sent_at, "
    "xid::text::numeric"
)


@dataclass(frozen=True)
class Change:
    resource_type: str
    change: str
    ids: list[str]
    record_ids: list[str] | None
    detail: dict[str, Any]
    workspace_pk: int
    actor_kind: str
    actor_person_pk: int | None
    sync_run_id: str | None
    message_key: str | None
    occurred_now: bool
    sent_at: Any
    xid: int


def changes(admin: pg8000.native.Connection, workspace_pk: int) -> list[Change]:
    """The workspace's change records, in the order a reader walks them, but the system's:
    the rows a test arranges as the owner are recorded too, as ``system``."""
    rows = admin.run(
        f"SELECT {COLUMNS} FROM core_api.change_records WHERE workspace_pk = :w "
        "AND actor_kind <> 'system' ORDER BY xid, pk",
        w=workspace_pk,
    )
    return [Change(*r[:-1], int(r[-1])) for r in rows]


def all_changes(admin: pg8000.native.Connection) -> int:
    return int(admin.run("SELECT count(*) FROM core_api.change_records")[0][0])


def xmin_of(admin: pg8000.native.Connection, resource: str, row_id: UUID | str) -> int:
    id_column = f"{resource[:-1]}_id"
    rows = admin.run(
        f"SELECT xmin::text::numeric FROM core_api.{resource} WHERE {id_column} = :id",
        id=str(row_id),
    )
    return int(rows[0][0])


def api_record(
    t: f.Tenant, kind: str, resource: str, change: str, row_id: UUID | str
) -> dict[str, Any]:
    """What every API write's record says of who and where."""
    return {
        "resource_type": resource[:-1],
        "change": change,
        "ids": [str(row_id)],
        "workspace_pk": t.workspace_pk,
        "actor_kind": kind,
        "actor_person_pk": t.person_pk,
        "sync_run_id": None,
        "message_key": None,
        "occurred_now": True,
        "sent_at": None,
    }


SAID = (
    "resource_type",
    "change",
    "ids",
    "workspace_pk",
    "actor_kind",
    "actor_person_pk",
    "sync_run_id",
    "message_key",
    "occurred_now",
    "sent_at",
)


def said(record: Change) -> dict[str, Any]:
    """What ``api_record`` describes of a record."""
    return {k: getattr(record, k) for k in SAID}


CREATED = {
    "account_workspace_connectors": "linked",
    "company_workspace_connectors": "linked",
    "people_workspace_connectors": "linked",
    "workspace_group_workspaces": "enrolled",
    "workspace_providers": "selected",
}
DELETED = {
    "account_workspace_connectors": "unlinked",
    "company_workspace_connectors": "unlinked",
    "people_workspace_connectors": "unlinked",
    "workspace_group_workspaces": "unenrolled",
    "workspace_providers": "removed",
}


# --- every API write leaves its record ----------------------------------------------------------


@pytest.mark.parametrize("resource", w.ALL)
def test_a_create_records_the_row_it_wrote_in_its_own_transaction(admin, resource):
    arranged = w.arrange_create(admin, resource)
    t = arranged.tenant

    data = w.created(w.post(resource, arranged.claims, arranged.document))

    (record,) = changes(admin, t.workspace_pk)
    kind = arranged.claims["principal_kind"]
    assert said(record) == api_record(t, kind, resource, CREATED[resource], data["id"])
    # The transaction that wrote the row wrote the record.
    assert record.xid % 2**32 == xmin_of(admin, resource, data["id"])
    relationships = data["relationships"]
    if resource in w.PROVENANCE:
        record_name = w.RECORD[resource]
        assert record.record_ids == [relationships[record_name]["data"]["id"]]
        assert record.detail == {
            "record_type": record_name,
            "workspace_connector": str(t.workspace_connector_id),
            "direction": "input",
        }
    else:
        assert record.record_ids is None
        expected = {
            name: relationships[name]["data"]["id"]
            for name in relationships
            if name != "created_by"
        }
        attributes = data["attributes"]
        expected |= {n: attributes[n] for n in ("is_selected", "is_matched") if n in attributes}
        assert record.detail == expected


@pytest.mark.parametrize("resource", w.ALL)
def test_a_delete_records_the_row_it_removed(admin, resource):
    arranged, row_id = w.arrange_row(admin, resource)
    t = arranged.tenant

    assert w.delete(resource, arranged.claims, row_id).status == 204

    (record,) = changes(admin, t.workspace_pk)
    kind = arranged.claims["principal_kind"]
    assert said(record) == api_record(t, kind, resource, DELETED[resource], row_id)


def test_an_update_records_the_values_it_wrote_and_one_that_changes_nothing_records_nothing(
    admin,
):
    arranged, row_id = w.arrange_row(admin, "workspace_providers")
    t = arranged.tenant
    document = w.document("workspace_provider", row_id=row_id, attributes={"is_matched": True})

    assert w.patch("workspace_providers", arranged.claims, row_id, document).status == 200
    with w.writes_nothing(admin):
        assert w.patch("workspace_providers", arranged.claims, row_id, document).status == 200

    (record,) = changes(admin, t.workspace_pk)
    assert said(record) == api_record(t, "member", "workspace_providers", "changed", row_id)
    assert record.detail["is_matched"] is True
    assert record.detail["is_selected"] is False


def test_the_nested_routes_record_select_remove_enrol_and_unenrol_and_a_reselect_nothing(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "owner")
    claims_ = t.claims()
    body = w.provider_document(None, provider_id)

    first = w.created(w.select(claims_, t.workspace_id, body))
    assert w.select(claims_, t.workspace_id, body).status == 200
    assert w.remove(claims_, t.workspace_id, provider_id).status == 204
    enrolled = w.created(w.enrol(claims_, group_id, w.enrolment_document(None, t.workspace_id)))
    assert w.unenrol(claims_, group_id, t.workspace_id).status == 204

    # Selected again, the live row changed nothing a reader sees: no record.
    records = changes(admin, t.workspace_pk)
    assert [(r.resource_type, r.change, r.ids) for r in records] == [
        ("workspace_provider", "selected", [first["id"]]),
        ("workspace_provider", "removed", [first["id"]]),
        ("workspace_group_workspace", "enrolled", [enrolled["id"]]),
        ("workspace_group_workspace", "unenrolled", [enrolled["id"]]),
    ]
    assert records[1].detail["is_selected"] is False
    assert {r.actor_person_pk for r in records} == {t.person_pk}


def test_a_refused_or_conflicting_write_records_nothing(admin):
    t = f.tenant(admin)
    other = f.tenant(admin)
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "member")  # not an admin: 403
    _, provider_id = f.provider(admin)
    f.workspace_provider(admin, t.workspace_pk, f.provider(admin)[0], selected=True, matched=True)
    taken = admin.run(
        "SELECT p.provider_id FROM core_api.workspace_providers wp "
        "JOIN core_api.providers p ON p.pk = wp.provider_pk WHERE wp.workspace_pk = :w",
        w=t.workspace_pk,
    )[0][0]

    with w.writes_nothing(admin):
        w.error(w.enrol(t.claims(), group_id, w.enrolment_document(None, t.workspace_id)), 403)
        w.error(
            w.post("workspace_providers", t.claims(), w.provider_document(t.workspace_id, taken)),
            409,
        )
        # Another tenant's workspace: not found, before any write.
        w.error(
            w.select(t.claims(), other.workspace_id, w.provider_document(None, provider_id)), 404
        )

    assert changes(admin, t.workspace_pk) == []
    assert changes(admin, other.workspace_pk) == []


def test_a_replayed_create_records_nothing_again(admin):
    arranged = w.arrange_create(admin, "workspace_providers")
    headers = {"Idempotency-Key": "outbox-replay-1"}

    first = w.post("workspace_providers", arranged.claims, arranged.document, headers=headers)
    again = w.post("workspace_providers", arranged.claims, arranged.document, headers=headers)

    assert (first.status, again.status) == (201, 201)
    assert again.headers.get(conditional_write.REPLAYED_HEADER) == "true"
    assert len(changes(admin, arranged.tenant.workspace_pk)) == 1


@pytest.mark.parametrize("resource", w.ALL)
def test_a_request_that_fails_after_its_write_leaves_neither_row_nor_record(
    admin, monkeypatch, resource
):
    """The write statement ran and wrote both; the transaction then failed before its commit."""
    arranged = w.arrange_create(admin, resource)
    real = db.execute

    def then_fail(statements: Sequence[BoundStatement], **kw: Any) -> Any:
        return real([*statements, fixed("SELECT 1/0")], **kw)

    monkeypatch.setattr(conditional_write.connections, "execute", then_fail)
    with w.writes_nothing(admin):
        reply = w.post(resource, arranged.claims, arranged.document)

    assert reply.status == 500


# --- the sync writer and the sweeper ------------------------------------------------------------


def deliver(*bodies: dict[str, Any]) -> list[str]:
    return sqs.failed_ids(sync(sqs.event(*bodies), Lambda(remaining_ms=120_000)))


def ledger_ids(admin: pg8000.native.Connection, connector_pk: int, *, live: bool) -> dict[str, str]:
    """ledger row id -> its account's id, of the connector's live (or removed) rows."""
    rows = admin.run(
        "SELECT l.account_workspace_connector_id::text, a.account_id::text "
        "FROM core_api.account_workspace_connectors l JOIN core_api.accounts a "
        "ON a.pk = l.account_pk WHERE l.workspace_connector_pk = :c "
        "AND (l.deleted_at IS NULL) = :live",
        c=connector_pk,
        live=live,
    )
    return dict(rows)


def carried(records: list[Change]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for record in records:
        assert record.record_ids is not None
        assert len(record.ids) == len(record.record_ids) <= CHANGE_IDS
        pairs |= dict(zip(record.ids, record.record_ids, strict=True))
    return pairs


def test_a_message_of_5000_records_writes_five_records_and_its_unlink_five_more(admin):
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", 5000)]
    link = s.linked(t.workspace_connector_id, accounts, sync_run_id="run-5000")

    assert deliver(link) == []

    linked = changes(admin, t.workspace_pk)
    assert len(linked) == 5
    assert {(r.resource_type, r.change, r.actor_kind, r.actor_person_pk) for r in linked} == {
        ("account_workspace_connector", "linked", "sync", None)
    }
    assert {(r.sync_run_id, r.message_key) for r in linked} == {
        ("run-5000", link["idempotency_key"])
    }
    assert {len({r.xid for r in linked})} == {1}
    assert carried(linked) == ledger_ids(admin, t.workspace_connector_pk, live=True)
    assert linked[0].detail == {
        "record_type": "account",
        "workspace_connector": str(t.workspace_connector_id),
        "direction": "input",
    }
    unlink = s.unlinked(t.workspace_connector_id, accounts, occurred_at=s.at(1))
    assert deliver(unlink) == []
    # Delivered again: a duplicate writes nothing, its records included.
    assert deliver(unlink) == []

    unlinked = changes(admin, t.workspace_pk)[5:]
    assert len(unlinked) == 5
    assert {r.change for r in unlinked} == {"unlinked"}
    assert carried(unlinked) == ledger_ids(admin, t.workspace_connector_pk, live=False)


def test_a_sync_change_occurred_when_its_message_says(admin):
    t = f.tenant(admin)
    (_, account_id), *_ = s.records(admin, t, "account", 1)
    link = s.linked(t.workspace_connector_id, [account_id])

    assert deliver(link) == []

    recorded = admin.run(
        # The row's created_at is its id's millisecond, made during the transaction.
        "SELECT occurred_at = CAST(:o AS timestamptz), ("
        "SELECT created_at FROM core_api.account_workspace_connectors "
        "WHERE workspace_connector_pk = :c) "
        "BETWEEN date_trunc('milliseconds', recorded_at) AND recorded_at + interval '1 minute' "
        "FROM core_api.change_records WHERE workspace_pk = :w",
        o=link["occurred_at"],
        c=t.workspace_connector_pk,
        w=t.workspace_pk,
    )
    assert recorded == [[True, True]]


def test_a_link_the_ledger_already_superseded_and_a_refused_message_record_nothing(admin):
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", 3)]
    assert deliver(s.unlinked(t.workspace_connector_id, accounts, occurred_at=s.at(5))) == []
    # The unlink found no live row: nothing changed, nothing recorded.
    assert changes(admin, t.workspace_pk) == []

    # Older than the unlink: written already soft-deleted, nobody ever saw it.
    assert deliver(s.linked(t.workspace_connector_id, accounts, occurred_at=s.at(1))) == []
    # Reusing a key with another content is refused.
    fresh = [pid for _, pid in s.records(admin, t, "account", 2)]
    used = s.key()
    assert deliver(s.linked(t.workspace_connector_id, fresh[:1], idempotency_key=used)) == []
    refused = s.linked(t.workspace_connector_id, fresh[1:], idempotency_key=used)
    assert len(deliver(refused)) == 1

    assert [(r.change, len(r.ids)) for r in changes(admin, t.workspace_pk)] == [("linked", 1)]


def test_a_revocation_records_itself_and_each_sweep_step_its_rows(admin):
    s.sweep_what_others_left()  # so that the sweep below is this revocation's alone
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", 2500)]
    assert deliver(s.linked(t.workspace_connector_id, accounts)) == []
    live = ledger_ids(admin, t.workspace_connector_pk, live=True)
    revocation = s.revoked(t.workspace_connector_id, occurred_at=s.at(1))

    assert deliver(revocation) == []
    report = s.sweep(rows=1000)

    records = changes(admin, t.workspace_pk)[3:]  # after the link's three
    revoked, *swept = records
    assert (revoked.resource_type, revoked.change, revoked.ids) == (
        "workspace_connector",
        "revoked",
        [str(t.workspace_connector_id)],
    )
    assert (revoked.actor_kind, revoked.message_key) == ("sync", revocation["idempotency_key"])
    # Three steps of this ledger and direction swept rows (1,000, 1,000, 500), one record each;
    # the other parts swept none and recorded nothing.
    assert report.rows == 2500
    assert [len(r.ids) for r in swept] == [1000, 1000, 500]
    assert {(r.change, r.actor_kind) for r in swept} == {("removed", "sweep")}
    assert len({r.xid for r in swept}) == 3
    assert carried(swept) == live
    assert swept[0].detail == {
        "record_type": "account",
        "workspace_connector": str(t.workspace_connector_id),
        "direction": "input",
    }


# Up to this many rows a recorder runs its kept statement (core_api.record_<table>()).
PLANNED_ROWS = 32


def test_each_recorder_keeps_its_statement_up_to_the_planned_rows(admin):
    bodies = admin.run(
        "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'core_api'::regnamespace "
        "AND proname LIKE 'record\\_%' AND prorettype = 'trigger'::regtype"
    )
    assert len(bodies) == len(RESOURCES)  # a recorder for each junction
    for name, body in bodies:
        assert f"FROM new_rows) <= {PLANNED_ROWS} THEN" in body, name


@pytest.mark.parametrize("rows", [1, PLANNED_ROWS, PLANNED_ROWS + 1, 1500])
def test_an_update_records_its_rows_alike_whether_planned_for_the_session_or_its_size(admin, rows):
    """Up to ``PLANNED_ROWS`` rows the recorder runs its kept statement, over
    that the same text planned at the statement's count; both record every row the same way."""
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", rows)]
    assert deliver(s.linked(t.workspace_connector_id, accounts)) == []
    live = ledger_ids(admin, t.workspace_connector_pk, live=True)
    ledger = "UPDATE core_api.account_workspace_connectors SET {} WHERE workspace_connector_pk = :c"
    # An update of no row first, as a sweep's first step may be.
    admin.run(ledger.format("deleted_at = now()") + " AND false", c=t.workspace_connector_pk)
    for change in ("deleted_at = now()", "deleted_at = NULL"):
        admin.run(ledger.format(change), c=t.workspace_connector_pk)

    records = admin.run(
        "SELECT change, ids::text[], record_ids::text[] "
        "FROM core_api.change_records WHERE workspace_pk = :w AND actor_kind = 'system' "
        "ORDER BY pk",
        w=t.workspace_pk,
    )
    per_change: dict[str, dict[str, str]] = {}
    for change, ids, record_ids in records:
        assert len(ids) == len(record_ids) <= CHANGE_IDS
        per_change.setdefault(change, {}).update(zip(ids, record_ids, strict=True))
    assert per_change == {"unlinked": live, "linked": live}
    each = -(-rows // CHANGE_IDS)  # one record per 1,000 rows of a change
    assert [change for change, *_ in records] == ["unlinked"] * each + ["linked"] * each


def test_a_batch_that_fails_before_its_commit_leaves_no_record(admin, monkeypatch):
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", 10)]
    real = db.execute_past_stalls

    def then_fail(statements: Sequence[BoundStatement], **kw: Any) -> Any:
        return real([*statements, fixed("SELECT 1/0")], **kw)

    # The batch's script (each transaction's opening before it, its COMMIT after).
    monkeypatch.setattr(batches.connections, "execute_past_stalls", then_fail)
    body = s.linked(t.workspace_connector_id, accounts)

    assert len(deliver(body)) == 1

    assert changes(admin, t.workspace_pk) == []
    assert ledger_ids(admin, t.workspace_connector_pk, live=True) == {}


def test_a_writer_that_dies_mid_transaction_leaves_no_record(admin, database):
    """The record exists inside the writer's transaction; the writer's connection then dies."""
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", 3)]
    message = parse_message(json.dumps(s.linked(t.workspace_connector_id, accounts)))
    planned = batches.check(message, batches.resolve([message], pool=db.get_pool("sync")))
    writer = local_db.admin_connection(database.url_for("well_sync"))
    try:
        writer.run("BEGIN")
        db.send(writer, [batches.receipts([planned]), batches.statement(planned)])
        # Inside: written (the sync role cannot read the records, the owner can't see them yet).
        assert writer.run(
            "SELECT count(*) FROM core_api.account_workspace_connectors "
            f"WHERE workspace_connector_pk = {t.workspace_connector_pk}"
        ) == [[3]]
        assert changes(admin, t.workspace_pk) == []
    finally:
        writer.close()  # no COMMIT: the backend rolls back

    assert changes(admin, t.workspace_pk) == []
    assert ledger_ids(admin, t.workspace_connector_pk, live=True) == {}


# --- tenancy --------------------------------------------------------------------------------------


def scoped(t: f.Tenant, kind: str, *statements: str) -> list[list[Any]]:
    """``statements`` (SQL written by hand) in a request's transaction, after its scope."""
    signed = SignedScope.of(t.claims(kind))
    rows = db.execute([signed.statement, *map(fixed, statements)], prove=signed.prove)
    assert rows[0][0] == t.workspace_pk, "the scope did not resolve"
    return rows[1:]


@pytest.fixture
def two_tenants(admin) -> tuple[f.Tenant, f.Tenant]:
    tenants = []
    for _ in range(2):
        arranged = w.arrange_create(admin, "workspace_providers")
        w.created(w.post("workspace_providers", arranged.claims, arranged.document))
        tenants.append(arranged.tenant)
    return tenants[0], tenants[1]


def test_a_member_scope_reads_its_workspaces_records_only(admin, two_tenants):
    a, b = two_tenants
    mine = {
        int(r[0]) for r in scoped(a, "member", "SELECT workspace_pk FROM core_api.change_records")
    }

    assert mine == {a.workspace_pk}
    assert b.workspace_pk in {
        int(r[0]) for r in admin.run("SELECT workspace_pk FROM core_api.change_records")
    }


def test_without_a_scope_no_record_is_readable_and_a_service_reads_every_workspace(
    admin, two_tenants
):
    a, b = two_tenants

    assert db.execute([fixed("SELECT count(*) FROM core_api.change_records")]) == [[0]]
    service = {
        int(r[0]) for r in scoped(a, "service", "SELECT workspace_pk FROM core_api.change_records")
    }
    assert {a.workspace_pk, b.workspace_pk} <= service


def _providers_of(admin: Any, a: f.Tenant, b: f.Tenant) -> tuple[list[Any], list[Any]]:
    """The one workspace provider of ``a`` (id, pk) and of ``b`` (id)."""
    (mine,) = admin.run(
        "SELECT workspace_provider_id::text, pk FROM core_api.workspace_providers "
        "WHERE workspace_pk = :w",
        w=a.workspace_pk,
    )
    (theirs,) = admin.run(
        "SELECT workspace_provider_id::text FROM core_api.workspace_providers "
        "WHERE workspace_pk = :w",
        w=b.workspace_pk,
    )
    return mine, theirs


def _insert(t: f.Tenant, kind: str, row_id: UUID | str, *, workspace_pk: int | None = None) -> str:
    return (
        "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, detail, "
        "occurred_at, actor_kind, actor_person_pk) VALUES "
        f"({workspace_pk or t.workspace_pk}, 'workspace_provider', 'changed', "
        f"ARRAY['{row_id}']::uuid[], '{{}}', now(), '{kind}', {t.person_pk})"
    )


def test_the_api_role_writes_no_record_and_every_change_it_makes_is_recorded(admin, two_tenants):
    """The database records each change of a junction row, whatever the SQL; the API role may
    not insert a record."""
    a, b = two_tenants
    mine, theirs = _providers_of(admin, a, b)
    before = all_changes(admin)
    forged = {
        "a row it did not write": _insert(a, "member", mine[0]),
        "another tenant's row": _insert(a, "member", theirs[0], workspace_pk=b.workspace_pk),
        "as a service it is not": _insert(a, "service", mine[0]),
        "its own place in the order": (
            "INSERT INTO core_api.change_records (xid, workspace_pk, resource_type, change, ids, "
            "occurred_at, actor_kind, actor_person_pk) VALUES ('1', 1, 'workspace_provider', "
            "'changed', ARRAY[gen_random_uuid()], now(), 'member', 1)"
        ),
    }
    for name, statement in forged.items():
        with pytest.raises(pg8000.native.DatabaseError) as raised:
            scoped(a, "member", statement)
        assert sqlstate_of(raised.value) == INSUFFICIENT_PRIVILEGE, name

    # A change made by hand, without the API's statement, is recorded all the same: once,
    # by the scope's principal, with the values it wrote.
    scoped(
        a,
        "member",
        "UPDATE core_api.workspace_providers SET is_matched = true, updated_at = now() "
        f"WHERE pk = {mine[1]}",
    )
    assert all_changes(admin) == before + 1
    record = changes(admin, a.workspace_pk)[-1]
    assert said(record) == api_record(a, "member", "workspace_providers", "changed", mine[0])
    assert record.detail["is_matched"] is True
    assert record.xid % 2**32 == xmin_of(admin, "workspace_providers", mine[0])
    # Written again with the values it has, the row changed nothing a reader sees.
    scoped(
        a,
        "member",
        f"UPDATE core_api.workspace_providers SET is_matched = true WHERE pk = {mine[1]}",
    )
    assert all_changes(admin) == before + 1


def test_a_removal_by_hand_is_recorded_and_without_a_scope_the_api_role_changes_nothing(
    admin, two_tenants
):
    a, b = two_tenants
    mine, _ = _providers_of(admin, a, b)
    before = all_changes(admin)
    # Without a verified scope the API role's policies show it no row to change.
    db.execute(
        [
            fixed(
                "UPDATE core_api.workspace_providers SET deleted_at = now(), is_selected = false "
                f"WHERE workspace_provider_id = '{mine[0]}'"
            )
        ]
    )
    assert all_changes(admin) == before

    # The bypass: the row removed with the member's own proven scope, no function
    # called. The database records the removal.
    scoped(
        a,
        "member",
        "UPDATE core_api.workspace_providers SET deleted_at = now(), is_selected = false "
        f"WHERE pk = {mine[1]}",
    )
    record = changes(admin, a.workspace_pk)[-1]
    assert said(record) == api_record(a, "member", "workspace_providers", "removed", mine[0])
    assert all_changes(admin) == before + 1


@pytest.mark.parametrize("actor", ["sync", "sweep", "system", "member"])
def test_a_junction_record_the_sync_role_inserts_itself_is_refused(admin, sync_conn, actor):
    """The database records every junction change (the recorders' triggers); the sync role
    inserts a connector's revocation alone, so a junction record of its own making, whatever
    actor it names, is refused, never kept beside the database's."""
    t = f.tenant(admin)
    before = all_changes(admin)
    with pytest.raises(pg8000.native.DatabaseError) as refused:
        sync_conn.run(
            "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
            "occurred_at, actor_kind) VALUES (:w, 'account_workspace_connector', 'linked', "
            "ARRAY[gen_random_uuid()], now(), :actor)",
            w=t.workspace_pk,
            actor=actor,
        )
    assert refused.value.args[0]["C"] == "42501"  # the policy's refusal
    assert all_changes(admin) == before
