"""Writes that race: real concurrency, one thread and one database connection per request
(as separate Lambda environments would be), all let go at once.

Whatever the interleaving, a race never ends in a 500, a unique rule is never broken, and
each request gets the answer it would get alone, before or after the other.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.support import factories as f
from tests.support import writes as w

pytestmark = pytest.mark.usefixtures("api_database")
RACERS = 20


def enrolment_case(admin: Any) -> tuple[f.Tenant, int, UUID]:
    t = f.tenant(admin)
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "owner")
    return t, group_pk, group_id


def live_enrolments(admin: Any, group_pk: int, workspace_pk: int) -> list[w.Json]:
    return w.live_rows(
        admin,
        "workspace_group_workspaces",
        "workspace_group_pk = :g AND workspace_pk = :w",
        g=group_pk,
        w=workspace_pk,
    )


def live_providers(admin: Any, t: f.Tenant, provider_pk: int) -> list[w.Json]:
    return w.live_rows(
        admin,
        "workspace_providers",
        "workspace_pk = :w AND provider_pk = :p",
        w=t.workspace_pk,
        p=provider_pk,
    )


# --- one live row per pair ----------------------------------------------------------------------


def test_twenty_racing_enrolments_of_one_pair_make_one_row_and_nineteen_409s(admin):
    t, group_pk, group_id = enrolment_case(admin)
    doc = w.enrolment_document(group_id, t.workspace_id)
    request = ("workspace_group_workspaces", "create")

    replies = w.race(
        [(*request, w.create_event(request[0], t.claims(), doc)) for _ in range(RACERS)]
    )

    assert w.statuses(replies) == [201] + [409] * (RACERS - 1), [r.body for r in replies]
    conflicts = [r for r in replies if r.status == 409]
    assert {w.error(r, 409)["code"] for r in conflicts} == {
        "WORKSPACE_GROUP_WORKSPACE_ALREADY_EXISTS"
    }
    (winner,) = [w.created(r) for r in replies if r.status == 201]
    assert [r["id"] for r in live_enrolments(admin, group_pk, t.workspace_pk)] == [winner["id"]]


def test_twenty_racing_nested_enrolments_of_one_pair_make_one_row(admin):
    t, group_pk, group_id = enrolment_case(admin)
    doc = w.enrolment_document(None, t.workspace_id)

    replies = w.race(
        [
            ("workspace_group_workspaces", "enrol", w.enrol_event(t.claims(), group_id, doc))
            for _ in range(RACERS)
        ]
    )

    assert w.statuses(replies) == [201] + [409] * (RACERS - 1), [r.body for r in replies]
    assert len(live_enrolments(admin, group_pk, t.workspace_pk)) == 1


def test_twenty_racing_selects_of_one_pair_make_one_row_one_201_and_nineteen_200s(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    doc = w.provider_document(None, provider_id)

    replies = w.race(
        [
            ("workspace_providers", "select", w.select_event(t.claims(), t.workspace_id, doc))
            for _ in range(RACERS)
        ]
    )

    assert w.statuses(replies) == [200] * (RACERS - 1) + [201], [r.body for r in replies]
    (row,) = live_providers(admin, t, provider_pk)
    assert {r.json["data"]["id"] for r in replies} == {row["id"]}
    assert all(r.json["data"]["attributes"]["is_selected"] for r in replies)
    (winner,) = [r for r in replies if r.status == 201]
    assert winner.headers["Location"] == winner.json["data"]["links"]["self"]
    assert w.db_row(admin, "workspace_providers", row["id"])["is_matched"] is True


def test_twenty_racing_selects_of_an_existing_unselected_row_all_answer_200(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk, selected=False, matched=False)
    doc = w.provider_document(None, provider_id)

    replies = w.race(
        [
            ("workspace_providers", "select", w.select_event(t.claims(), t.workspace_id, doc))
            for _ in range(RACERS)
        ]
    )

    assert w.statuses(replies) == [200] * RACERS, [r.body for r in replies]
    assert [r["id"] for r in live_providers(admin, t, provider_pk)] == [str(row_id)]


def test_twenty_racing_generic_creates_of_one_provider_make_one_row(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    doc = w.provider_document(t.workspace_id, provider_id, is_selected=True)
    request = ("workspace_providers", "create")

    replies = w.race(
        [(*request, w.create_event(request[0], t.claims(), doc)) for _ in range(RACERS)]
    )

    assert w.statuses(replies) == [201] + [409] * (RACERS - 1), [r.body for r in replies]
    assert {r.error_codes()[0] for r in replies if r.status == 409} == {
        "WORKSPACE_PROVIDER_ALREADY_EXISTS"
    }
    assert len(live_providers(admin, t, provider_pk)) == 1


@pytest.mark.parametrize("resource", w.PROVENANCE)
def test_racing_provenance_creates_each_add_a_row(admin, resource):
    t = f.tenant(admin)
    record_pk, record_id = f.record_of(t, resource)
    doc = w.provenance_document(resource, record_id, t.workspace_connector_id)

    replies = w.race(
        [(resource, "create", w.create_event(resource, t.claims("service"), doc)) for _ in range(5)]
    )

    assert w.statuses(replies) == [201] * 5, [r.body for r in replies]
    rows = w.live_rows(admin, resource, f"{w.RECORD[resource]}_pk = :r", r=record_pk)
    assert sorted(r["id"] for r in rows) == sorted(r.json["data"]["id"] for r in replies)


# --- delete against update and delete -----------------------------------------------------------


@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_a_delete_racing_an_update_always_leaves_the_row_deleted(admin, resource):
    for _ in range(8):
        case, row_id = w.arrange_row(admin, resource)

        deleted, updated = w.race(
            [
                (resource, "delete", w.delete_event(resource, case.claims, row_id)),
                (resource, "update", w.update_event(resource, case.claims, row_id, case.document)),
            ]
        )

        assert deleted.status == 204, deleted.body
        assert updated.status in (200, 404), updated.body
        if updated.status == 200:
            # It was written before the delete: its answer shows the row live.
            assert updated.json["data"]["attributes"]["deleted_at"] is None
        else:
            assert w.error(updated, 404)["code"] == "NOT_FOUND"
        assert w.db_row(admin, resource, row_id)["deleted_at"] is not None


# Every update locks the row it compares, even one that then changes nothing (a ledger row's).
@pytest.mark.parametrize("resource", w.PATCHABLE)
def test_an_update_waiting_on_a_delete_that_commits_is_404(admin, locker, resource):
    case, row_id = w.arrange_row(admin, resource)

    updated = w.waiting_on_a_lock(
        admin,
        locker,
        f"UPDATE core_api.{resource} SET deleted_at = now() "
        f"WHERE {w.type_of(resource)}_id = CAST(:i AS uuid)",
        (resource, "update", w.update_event(resource, case.claims, row_id, case.document)),
        i=str(row_id),
    )

    assert w.error(updated, 404)["code"] == "NOT_FOUND"
    row = w.db_row(admin, resource, row_id)
    assert row["deleted_at"] is not None
    assert row["updated_at"] == row["deleted_at"]


@pytest.mark.parametrize("resource", w.ALL)
def test_a_delete_waiting_on_an_update_that_commits_deletes(admin, locker, resource):
    case, row_id = w.arrange_row(admin, resource)

    deleted = w.waiting_on_a_lock(
        admin,
        locker,
        f"UPDATE core_api.{resource} SET updated_at = now() "
        f"WHERE {w.type_of(resource)}_id = CAST(:i AS uuid)",
        (resource, "delete", w.delete_event(resource, case.claims, row_id)),
        i=str(row_id),
    )

    assert deleted.status == 204, deleted.body
    assert w.db_row(admin, resource, row_id)["deleted_at"] is not None


@pytest.mark.parametrize("resource", w.ALL)
def test_racing_deletes_of_one_row_delete_it_once(admin, resource):
    case, row_id = w.arrange_row(admin, resource)

    replies = w.race(
        [(resource, "delete", w.delete_event(resource, case.claims, row_id)) for _ in range(5)]
    )

    assert w.statuses(replies) == [204] + [404] * 4, [r.body for r in replies]
    assert w.db_row(admin, resource, row_id)["deleted_at"] is not None


def test_a_remove_waiting_on_a_select_that_commits_removes_the_selected_row(admin, locker):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk, selected=False, matched=False)

    removed = w.waiting_on_a_lock(
        admin,
        locker,
        "UPDATE core_api.workspace_providers SET is_selected = true, is_matched = true "
        "WHERE workspace_provider_id = CAST(:i AS uuid)",
        ("workspace_providers", "remove", w.remove_event(t.claims(), t.workspace_id, provider_id)),
        i=str(row_id),
    )

    assert removed.status == 204, removed.body
    row = w.db_row(admin, "workspace_providers", row_id)
    assert (row["is_selected"], row["deleted_at"] is not None) == (False, True)
