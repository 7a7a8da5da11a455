"""Races the write suite does not run yet: select against remove, and PATCH against PATCH.

Each request runs in a thread of its own with its own database connection, all let go at once
(``tests.support.writes.race``), like separate Lambda environments. Racing selects alone,
creates alone, deletes against updates, and sync batches against each other are in
``test_write_races.py`` and ``test_sync_concurrency.py``.

Whatever the interleaving:

- a (workspace, provider) pair never has more than one live row;
- a selected row is always matched, and a removed row is never selected;
- every answer is one the request could get alone, before or after the others: select 201 or
  200, remove 204 or 404, PATCH 200 or the rule's 422; never a 409 or a 500;
- a PATCH is never lost: the row ends as some serial order of the accepted PATCHes leaves it.
"""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import writes as w
from tests.support.api import Reply

pytestmark = pytest.mark.usefixtures("api_database")

ROUNDS = 6
RACERS_PER_KIND = 4


def pair_rows(admin: pg8000.native.Connection, t: f.Tenant, provider_pk: int) -> list[w.Json]:
    rows = admin.run(
        "SELECT workspace_provider_id, is_selected, is_matched, deleted_at "
        "FROM core_api.workspace_providers WHERE workspace_pk = :w AND provider_pk = :p",
        w=t.workspace_pk,
        p=provider_pk,
    )
    return [
        {"id": str(r[0]), "is_selected": r[1], "is_matched": r[2], "live": r[3] is None}
        for r in rows
    ]


def pair_rows_of(admin: pg8000.native.Connection, row_id: UUID) -> list[w.Json]:
    """Every row, live or removed, of the pair ``row_id`` belongs to."""
    row = w.db_row(admin, "workspace_providers", row_id)
    rows = admin.run(
        "SELECT workspace_provider_id, is_selected, is_matched, deleted_at "
        "FROM core_api.workspace_providers WHERE workspace_pk = :w AND provider_pk = :p",
        w=row["workspace_pk"],
        p=row["provider_pk"],
    )
    return [
        {"id": str(r[0]), "is_selected": r[1], "is_matched": r[2], "live": r[3] is None}
        for r in rows
    ]


def broken_invariants(rows: list[w.Json]) -> list[str]:
    problems = []
    live = [r for r in rows if r["live"]]
    if len(live) > 1:
        problems.append(f"{len(live)} live rows for one pair")
    problems += [
        f"{r['id']} is selected but not matched"
        for r in rows
        if r["is_selected"] and not r["is_matched"]
    ]
    problems += [
        f"{r['id']} is removed but still selected"
        for r in rows
        if not r["live"] and r["is_selected"]
    ]
    return problems


def test_selects_and_removes_of_one_pair_racing_keep_one_live_row_and_sane_answers(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    claims = t.claims()
    select = w.select_event(claims, t.workspace_id, w.provider_document(None, provider_id))
    remove = w.remove_event(claims, t.workspace_id, provider_id)
    seen: set[tuple[str, int]] = set()

    for round_number in range(ROUNDS):
        # Alternate which kind is submitted first, so both orders reach the database first.
        kinds = ["select", "remove"] if round_number % 2 == 0 else ["remove", "select"]
        batch = [
            ("workspace_providers", kind, select if kind == "select" else remove)
            for _ in range(RACERS_PER_KIND)
            for kind in kinds
        ]
        replies = w.race(batch)

        for (_, kind, _), reply in zip(batch, replies, strict=True):
            seen.add((kind, reply.status))
            allowed = {"select": (200, 201), "remove": (204, 404)}[kind]
            assert reply.status in allowed, (round_number, kind, reply.status, reply.body)
            if kind == "select":
                attributes = reply.json["data"]["attributes"]
                assert (attributes["is_selected"], attributes["is_matched"]) == (True, True)
        rows = pair_rows(admin, t, provider_pk)
        assert broken_invariants(rows) == [], (round_number, rows)

    # Both kinds did real work in this run (not only no-ops): rows made, rows removed.
    assert {("select", 201), ("remove", 204)} <= seen, seen
    # Whatever happened, the pair is usable afterwards.
    assert w.select(claims, t.workspace_id, w.provider_document(None, provider_id)).status in (
        200,
        201,
    )
    assert broken_invariants(pair_rows(admin, t, provider_pk)) == []


# The three states a row may be in (selected implies matched).
STATES = ((True, True), (False, True), (False, False))


def state_of(reply: Reply) -> tuple[bool, bool]:
    attributes = reply.json["data"]["attributes"]
    return attributes["is_selected"], attributes["is_matched"]


def provider_row(
    admin: pg8000.native.Connection, selected: bool, matched: bool
) -> tuple[f.Tenant, UUID]:
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    return t, f.workspace_provider(
        admin, t.workspace_pk, provider_pk, selected=selected, matched=matched
    )


def row_state(admin: pg8000.native.Connection, row_id: UUID) -> tuple[bool, bool]:
    row = w.db_row(admin, "workspace_providers", row_id)
    return row["is_selected"], row["is_matched"]


def patch_event(t: f.Tenant, row_id: UUID, attributes: dict[str, Any]) -> w.Json:
    body = w.document("workspace_provider", row_id=row_id, attributes=attributes)
    return w.update_event("workspace_providers", t.claims(), row_id, body)


@pytest.mark.parametrize("start", STATES, ids=lambda s: f"from-{s[0]}-{s[1]}")
def test_racing_patches_of_both_flags_leave_exactly_one_of_the_requested_states(admin, start):
    t, row_id = provider_row(admin, *start)
    wanted = [state for state in STATES for _ in range(3)]
    batch = [
        (
            "workspace_providers",
            "update",
            patch_event(t, row_id, {"is_selected": s, "is_matched": m}),
        )
        for s, m in wanted
    ]

    replies = w.race(batch)

    assert w.statuses(replies) == [200] * len(batch), [r.body for r in replies]
    # Each answer shows the row as its own request left it, and the row ends as one of them
    # (the last to commit, whole), never one request's is_selected with another's is_matched.
    assert [state_of(r) for r in replies] == wanted
    assert row_state(admin, row_id) in set(wanted)
    assert broken_invariants(pair_rows_of(admin, row_id)) == []


def serial_outcomes(
    start: tuple[bool, bool], patches: list[dict[str, bool]]
) -> set[tuple[tuple[bool, bool], tuple[int, ...]]]:
    """Every (final state, statuses) some serial order of ``patches`` can produce.

    The rules, as the API applies them to one PATCH: is_selected true forces is_matched true;
    is_matched false on a row that stays selected is a 422 that changes nothing.
    """
    outcomes = set()
    for order in itertools.permutations(range(len(patches))):
        selected, matched = start
        statuses = [0] * len(patches)
        for index in order:
            patch = patches[index]
            new_selected = patch.get("is_selected", selected)
            new_matched = patch.get("is_matched", matched)
            if new_selected and patch.get("is_selected") is True:
                new_matched = True
            if new_selected and not new_matched:
                statuses[index] = 422
                continue
            selected, matched = new_selected, new_matched
            statuses[index] = 200
        outcomes.add(((selected, matched), tuple(statuses)))
    return outcomes


PARTIAL_RACES = {
    "select-vs-unmatch": ((False, True), [{"is_selected": True}, {"is_matched": False}]),
    "unselect-vs-unmatch": ((True, True), [{"is_selected": False}, {"is_matched": False}]),
    "unselect-vs-select": ((True, True), [{"is_selected": False}, {"is_selected": True}]),
    "match-vs-unmatch": ((False, False), [{"is_matched": True}, {"is_matched": False}]),
    "three-way": (
        (False, True),
        [{"is_selected": True}, {"is_matched": False}, {"is_selected": False}],
    ),
}


@pytest.mark.parametrize(("start", "patches"), PARTIAL_RACES.values(), ids=PARTIAL_RACES)
def test_racing_partial_patches_end_as_some_serial_order_of_them(admin, start, patches):
    possible = serial_outcomes(start, patches)
    for _ in range(3):  # a few interleavings of the same race
        t, row_id = provider_row(admin, *start)
        batch = [("workspace_providers", "update", patch_event(t, row_id, p)) for p in patches]

        replies = w.race(batch)

        statuses = tuple(r.status for r in replies)
        outcome = (row_state(admin, row_id), statuses)
        assert outcome in possible, (outcome, sorted(possible), [r.body for r in replies])
        assert broken_invariants(pair_rows_of(admin, row_id)) == []
        for reply in replies:
            if reply.status == 422:
                assert w.error(reply, 422)["code"] == "SELECTED_IMPLIES_MATCHED"


def test_an_unmatch_waiting_on_a_select_that_commits_gets_the_rules_422_and_changes_nothing(
    admin, locker
):
    # The PATCH reads the row unselected (its rule holds), then waits for the row; meanwhile
    # the row is selected. The table's constraint stops the write: the answer is the rule's.
    t, row_id = provider_row(admin, False, True)

    unmatched = w.waiting_on_a_lock(
        admin,
        locker,
        "UPDATE core_api.workspace_providers SET is_selected = true "
        "WHERE workspace_provider_id = CAST(:i AS uuid)",
        ("workspace_providers", "update", patch_event(t, row_id, {"is_matched": False})),
        i=str(row_id),
    )

    obj = w.error(unmatched, 422)
    assert obj["code"] == "SELECTED_IMPLIES_MATCHED"
    assert obj["source"] == {"pointer": "/data/attributes/is_matched"}
    assert row_state(admin, row_id) == (True, True)


@pytest.mark.parametrize("resource", w.ALL)
def test_updated_at_never_goes_back_when_an_older_transaction_writes_last(admin, locker, resource):
    # A sync batch's transaction starts, an API write to the same row commits, then the
    # batch writes the row: the row's updated_at must move forward, not to the batch's start.
    _, row_id = w.arrange_row(admin, resource)
    where = f"WHERE {w.type_of(resource)}_id = CAST(:i AS uuid)"
    locker.run("BEGIN")
    locker.run("SELECT now()")
    admin.run("SELECT pg_sleep(0.01)")
    admin.run(f"UPDATE core_api.{resource} SET updated_at = NULL {where}", i=str(row_id))
    committed = w.db_row(admin, resource, row_id)["updated_at"]
    locker.run(f"UPDATE core_api.{resource} SET updated_at = NULL {where}", i=str(row_id))
    locker.run("COMMIT")
    assert w.db_row(admin, resource, row_id)["updated_at"] > committed
