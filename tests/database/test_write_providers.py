"""Workspace providers: one live row per (workspace, provider); selecting upserts it with
is_selected (hence is_matched); removing soft-deletes it and clears is_selected. The generic
routes, the platform's nested routes, and the catalog as one workspace sees it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import pytest

from tests.support import factories as f
from tests.support import writes as w
from tests.support.api import Reply

pytestmark = pytest.mark.usefixtures("api_database")
RESOURCE = "workspace_providers"
CONFLICT = "WORKSPACE_PROVIDER_ALREADY_EXISTS"


def flags(data: w.Json) -> tuple[bool, bool]:
    return data["attributes"]["is_selected"], data["attributes"]["is_matched"]


def live(admin: Any, t: f.Tenant, provider_pk: int) -> list[w.Json]:
    return w.live_rows(
        admin, RESOURCE, "workspace_pk = :w AND provider_pk = :p", w=t.workspace_pk, p=provider_pk
    )


def db_flags(admin: Any, row_id: UUID | str) -> tuple[bool, bool]:
    row = w.db_row(admin, RESOURCE, row_id)
    return row["is_selected"], row["is_matched"]


def patch_flags(t: f.Tenant, row_id: UUID, **attributes: bool) -> Reply:
    doc = w.document("workspace_provider", row_id=row_id, attributes=attributes)
    return w.patch(RESOURCE, t.claims(), row_id, doc)


# --- the generic create -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({}, (False, False)),
        ({"is_matched": True}, (False, True)),
        ({"is_selected": False, "is_matched": False}, (False, False)),
        ({"is_selected": True}, (True, True)),
        ({"is_selected": True, "is_matched": True}, (True, True)),
    ],
)
def test_post_creates_a_row_and_selected_forces_matched(admin, attributes, expected):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)

    reply = w.post(
        RESOURCE, t.claims(), w.provider_document(t.workspace_id, provider_id, **attributes)
    )

    data = w.created(reply)
    assert flags(data) == expected
    assert w.related_id(data, "provider") == str(provider_id)
    assert w.related_id(data, "workspace") == str(t.workspace_id)
    assert db_flags(admin, data["id"]) == expected
    assert [r["id"] for r in live(admin, t, provider_pk)] == [data["id"]]


def test_post_selected_but_not_matched_is_422(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(t.workspace_id, provider_id, is_selected=True, is_matched=False)

    with w.writes_nothing(admin):
        obj = w.error(w.post(RESOURCE, t.claims(), doc), 422)

    assert obj["source"] == {"pointer": "/data/attributes/is_matched"}


def test_a_second_live_row_for_the_pair_is_409(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    existing = f.workspace_provider(admin, t.workspace_pk, provider_pk)

    with w.writes_nothing(admin):
        obj = w.error(
            w.post(RESOURCE, t.claims(), w.provider_document(t.workspace_id, provider_id)), 409
        )

    assert obj["code"] == CONFLICT
    assert [r["id"] for r in live(admin, t, provider_pk)] == [str(existing)]


def test_post_after_a_soft_delete_creates_a_new_row(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    old = f.workspace_provider(admin, t.workspace_pk, provider_pk, deleted=True)

    data = w.created(w.post(RESOURCE, t.claims(), w.provider_document(t.workspace_id, provider_id)))

    assert data["id"] != str(old)


def test_the_same_provider_may_be_live_in_two_workspaces(admin):
    a, b = f.tenant(admin), f.tenant(admin)
    _, provider_id = f.provider(admin)

    w.created(w.post(RESOURCE, a.claims(), w.provider_document(a.workspace_id, provider_id)))
    w.created(w.post(RESOURCE, b.claims(), w.provider_document(b.workspace_id, provider_id)))


def test_a_member_may_not_create_a_row_for_another_workspace(admin):
    a, b = f.tenant(admin), f.tenant(admin)
    _, provider_id = f.provider(admin)

    with w.writes_nothing(admin):
        obj = w.error(
            w.post(RESOURCE, a.claims(), w.provider_document(b.workspace_id, provider_id)), 404
        )

    assert obj["source"] == {"pointer": "/data/relationships/workspace"}


def test_a_member_writes_in_another_of_their_workspaces_by_naming_it(admin):
    home, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, home.person_pk, other)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(other.workspace_id, provider_id)

    with w.writes_nothing(admin):
        assert w.post(RESOURCE, home.claims(), doc).status == 404
    reply = w.post(RESOURCE, home.claims(), doc, query=f"workspace_id={other.workspace_id}")

    assert w.related_id(w.created(reply), "workspace") == str(other.workspace_id)


@pytest.mark.parametrize("state", ["missing", "soft-deleted"])
def test_a_missing_or_deleted_provider_is_404_with_the_pointer(admin, state):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    if state == "missing":
        provider_id = uuid4()
    else:
        admin.run("UPDATE core_api.providers SET deleted_at = now() WHERE pk = :p", p=provider_pk)

    with w.writes_nothing(admin):
        obj = w.error(
            w.post(RESOURCE, t.claims(), w.provider_document(t.workspace_id, provider_id)), 404
        )

    assert obj["source"] == {"pointer": "/data/relationships/provider"}


def test_a_soft_deleted_workspace_is_404(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    gone = f.tenant(admin)
    f.join_workspace(admin, t.person_pk, gone)
    admin.run(
        "UPDATE core_api.workspaces SET deleted_at = now() WHERE pk = :w", w=gone.workspace_pk
    )

    with w.writes_nothing(admin):
        reply = w.post(RESOURCE, t.claims(), w.provider_document(gone.workspace_id, provider_id))

    assert w.error(reply, 404)["source"] == {"pointer": "/data/relationships/workspace"}


# --- PATCH --------------------------------------------------------------------------------------


def test_patch_unselects_and_keeps_matched(admin):
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)

    reply = patch_flags(t, row_id, is_selected=False)

    assert reply.status == 200, reply.body
    assert flags(reply.json["data"]) == (False, True)
    assert db_flags(admin, row_id) == (False, True)


def test_patch_selecting_also_matches(admin):
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk, selected=False, matched=False)

    reply = patch_flags(t, row_id, is_selected=True)

    assert flags(reply.json["data"]) == (True, True)
    assert db_flags(admin, row_id) == (True, True)


@pytest.mark.parametrize(("selected", "matched"), [(False, False), (False, True), (True, True)])
def test_patch_sets_both_flags_together_when_consistent(admin, selected, matched):
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(
        admin, t.workspace_pk, provider_pk, selected=not matched, matched=not selected
    )

    reply = patch_flags(t, row_id, is_selected=selected, is_matched=matched)

    assert reply.status == 200, reply.body
    assert db_flags(admin, row_id) == (selected, matched)


@pytest.mark.parametrize("currently_selected", [True, False])
def test_patch_selected_but_not_matched_in_one_request_is_422(admin, currently_selected):
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(
        admin, t.workspace_pk, provider_pk, selected=currently_selected, matched=currently_selected
    )

    with w.writes_nothing(admin):
        obj = w.error(patch_flags(t, row_id, is_selected=True, is_matched=False), 422)

    assert obj["source"] == {"pointer": "/data/attributes/is_matched"}


def test_unmatching_a_selected_row_is_422(admin):
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)

    with w.writes_nothing(admin):
        obj = w.error(patch_flags(t, row_id, is_matched=False), 422)

    assert obj["source"] == {"pointer": "/data/attributes/is_matched"}
    assert db_flags(admin, row_id) == (True, True)


def test_unmatching_an_unselected_row_is_fine(admin):
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk, selected=False, matched=True)

    reply = patch_flags(t, row_id, is_matched=False)

    assert flags(reply.json["data"]) == (False, False)


def test_the_parents_of_a_row_cannot_change(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    _, other_provider = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)
    same = w.document(
        "workspace_provider",
        row_id=row_id,
        relationships={
            "provider": ("provider", provider_id),
            "workspace": ("workspace", t.workspace_id),
        },
    )
    other = w.document(
        "workspace_provider",
        row_id=row_id,
        relationships={"provider": ("provider", other_provider)},
    )

    assert w.patch(RESOURCE, t.claims(), row_id, same).status == 200
    with w.writes_nothing(admin):
        obj = w.error(w.patch(RESOURCE, t.claims(), row_id, other), 403)
    assert obj["source"] == {"pointer": "/data/relationships/provider"}


def test_another_workspaces_row_is_404_on_patch_and_delete(admin):
    owner, stranger = f.tenant(admin), f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(admin, owner.workspace_pk, provider_pk)

    with w.writes_nothing(admin):
        patched = patch_flags(stranger, row_id, is_selected=False)
        deleted = w.delete(RESOURCE, stranger.claims(), row_id)

    assert w.error(patched, 404)["code"] == "NOT_FOUND"
    assert w.error(deleted, 404)["code"] == "NOT_FOUND"


# --- DELETE -------------------------------------------------------------------------------------


def test_delete_soft_deletes_and_unselects(admin):
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)

    assert w.delete(RESOURCE, t.claims(), row_id).status == 204

    row = w.db_row(admin, RESOURCE, row_id)
    assert row["deleted_at"] is not None
    assert row["is_selected"] is False
    assert live(admin, t, provider_pk) == []


# --- select: POST /v1/workspaces/{workspace_id}/providers --------------------------------------


def select_document(provider_id: UUID, **attributes: bool) -> w.Json:
    return w.provider_document(None, provider_id, **attributes)


def test_select_creates_the_row_selected_and_matched(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)

    reply = w.select(t.claims(), t.workspace_id, select_document(provider_id))
    data = w.created(reply)

    assert flags(data) == (True, True)
    assert w.related_id(data, "workspace") == str(t.workspace_id)
    # The workspace the path named rides along on every link, the Location header's too.
    here = f"https://api.test/v1/workspace-providers/{data['id']}"
    suffix = f"?workspace_id={t.workspace_id}"
    assert reply.headers["Location"] == data["links"]["self"] == here + suffix
    assert data["relationships"]["provider"]["links"] == {
        "self": f"{here}/relationships/provider{suffix}",
        "related": f"{here}/provider{suffix}",
    }
    assert [r["id"] for r in live(admin, t, provider_pk)] == [data["id"]]
    assert db_flags(admin, data["id"]) == (True, True)


def test_selecting_again_answers_200_with_the_same_row(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    first = w.created(w.select(t.claims(), t.workspace_id, select_document(provider_id)))

    again = w.select(t.claims(), t.workspace_id, select_document(provider_id))

    assert again.status == 200, again.body
    assert "Location" not in again.headers
    assert again.json["data"]["id"] == first["id"]
    assert again.json["links"]["self"] == again.json["data"]["links"]["self"]
    assert [r["id"] for r in live(admin, t, provider_pk)] == [first["id"]]


@pytest.mark.parametrize(("selected", "matched"), [(False, False), (False, True)])
def test_selecting_an_existing_unselected_row_updates_it(admin, selected, matched):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    row_id = f.workspace_provider(
        admin, t.workspace_pk, provider_pk, selected=selected, matched=matched
    )
    before = w.db_row(admin, RESOURCE, row_id)

    reply = w.select(t.claims(), t.workspace_id, select_document(provider_id))

    assert reply.status == 200, reply.body
    assert reply.json["data"]["id"] == str(row_id)
    assert flags(reply.json["data"]) == (True, True)
    after = w.db_row(admin, RESOURCE, row_id)
    assert (after["is_selected"], after["is_matched"]) == (True, True)
    assert after["updated_at"] > before["updated_at"]
    assert after["created_at"] == before["created_at"]


def test_select_ignores_soft_deleted_rows_and_creates_a_new_one(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    old = f.workspace_provider(admin, t.workspace_pk, provider_pk, deleted=True)

    data = w.created(w.select(t.claims(), t.workspace_id, select_document(provider_id)))

    assert data["id"] != str(old)
    assert w.db_row(admin, RESOURCE, old)["deleted_at"] is not None


def test_select_may_repeat_what_the_route_says(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(t.workspace_id, provider_id, is_selected=True, is_matched=True)

    assert flags(w.created(w.select(t.claims(), t.workspace_id, doc))) == (True, True)


@pytest.mark.parametrize(
    "attributes",
    [{"is_selected": False}, {"is_matched": False}, {"is_selected": True, "is_matched": False}],
)
def test_select_contradicting_itself_is_422(admin, attributes):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = select_document(provider_id, **attributes)

    with w.writes_nothing(admin):
        obj = w.error(w.select(t.claims(), t.workspace_id, doc), 422)

    (name,) = [n for n, v in attributes.items() if v is False]
    assert obj["source"] == {"pointer": f"/data/attributes/{name}"}


def test_select_naming_another_workspace_in_the_body_is_409(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(other.workspace_id, provider_id)

    with w.writes_nothing(admin):
        obj = w.error(w.select(t.claims(), t.workspace_id, doc), 409)

    assert obj["source"] == {"pointer": "/data/relationships/workspace"}


def test_select_of_a_missing_provider_is_404_with_the_pointer(admin):
    t = f.tenant(admin)
    with w.writes_nothing(admin):
        obj = w.error(w.select(t.claims(), t.workspace_id, select_document(uuid4())), 404)
    assert obj["source"] == {"pointer": "/data/relationships/provider"}


def test_select_in_a_workspace_the_caller_is_not_a_member_of_is_404(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    _, provider_id = f.provider(admin)

    with w.writes_nothing(admin):
        obj = w.error(w.select(t.claims(), other.workspace_id, select_document(provider_id)), 404)

    assert obj["code"] == "NOT_FOUND"
    assert "source" not in obj


def test_select_in_a_workspace_with_a_pending_membership_is_404(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, t.person_pk, other, status="pending")
    _, provider_id = f.provider(admin)

    with w.writes_nothing(admin):
        reply = w.select(t.claims(), other.workspace_id, select_document(provider_id))

    assert w.error(reply, 404)["code"] == "NOT_FOUND"


def test_select_in_another_workspace_the_caller_is_active_in(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    f.join_workspace(admin, t.person_pk, other)
    provider_pk, provider_id = f.provider(admin)

    data = w.created(w.select(t.claims(), other.workspace_id, select_document(provider_id)))

    assert w.related_id(data, "workspace") == str(other.workspace_id)
    assert [r["id"] for r in live(admin, other, provider_pk)] == [data["id"]]


def test_a_service_principal_selects_in_any_workspace(admin):
    service, other = f.tenant(admin), f.tenant(admin)
    _, provider_id = f.provider(admin)

    data = w.created(
        w.select(service.claims("service"), other.workspace_id, select_document(provider_id))
    )

    assert w.related_id(data, "workspace") == str(other.workspace_id)


def test_select_with_a_path_workspace_that_is_no_uuid_is_400(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    with w.writes_nothing(admin):
        obj = w.error(w.select(t.claims(), "nope", select_document(provider_id)), 400)
    assert obj["code"] == "INVALID_ID"


# --- remove: DELETE /v1/workspaces/{workspace_id}/providers/{provider_id} ----------------------


def test_remove_soft_deletes_and_unselects(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)

    reply = w.remove(t.claims(), t.workspace_id, provider_id)

    assert reply.status == 204, reply.body
    assert reply.body == ""
    row = w.db_row(admin, RESOURCE, row_id)
    assert row["deleted_at"] is not None
    assert row["is_selected"] is False


def test_removing_twice_is_404(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    f.workspace_provider(admin, t.workspace_pk, provider_pk)
    assert w.remove(t.claims(), t.workspace_id, provider_id).status == 204

    with w.writes_nothing(admin):
        assert (
            w.error(w.remove(t.claims(), t.workspace_id, provider_id), 404)["code"] == "NOT_FOUND"
        )


def test_removing_a_provider_without_a_live_row_is_404(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    with w.writes_nothing(admin):
        assert w.error(w.remove(t.claims(), t.workspace_id, provider_id), 404)
        assert w.error(w.remove(t.claims(), t.workspace_id, uuid4()), 404)


def test_remove_in_a_workspace_the_caller_is_not_a_member_of_is_404(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    row_id = f.workspace_provider(admin, other.workspace_pk, provider_pk)

    with w.writes_nothing(admin):
        obj = w.error(w.remove(t.claims(), other.workspace_id, provider_id), 404)

    assert obj["code"] == "NOT_FOUND"
    assert w.db_row(admin, RESOURCE, row_id)["deleted_at"] is None


def test_remove_only_touches_the_path_workspaces_row(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    mine = f.workspace_provider(admin, t.workspace_pk, provider_pk)
    theirs = f.workspace_provider(admin, other.workspace_pk, provider_pk)

    assert w.remove(t.claims(), t.workspace_id, provider_id).status == 204

    assert w.db_row(admin, RESOURCE, mine)["deleted_at"] is not None
    assert w.db_row(admin, RESOURCE, theirs)["deleted_at"] is None


def test_remove_then_select_creates_a_new_row(admin):
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    first = w.created(w.select(t.claims(), t.workspace_id, select_document(provider_id)))
    assert w.remove(t.claims(), t.workspace_id, provider_id).status == 204

    second = w.created(w.select(t.claims(), t.workspace_id, select_document(provider_id)))

    assert second["id"] != first["id"]
    assert [r["id"] for r in live(admin, t, provider_pk)] == [second["id"]]


# --- the catalog: GET /v1/workspaces/{workspace_id}/providers ----------------------------------


def catalog_pages(t: f.Tenant, workspace_id: UUID, query: str) -> list[Reply]:
    pages = [w.catalog(t.claims(), workspace_id, query)]
    while pages[-1].json["links"].get("next") is not None:
        assert len(pages) < 200, "the catalog does not end"
        pages.append(w.catalog(t.claims(), workspace_id, next_query(pages[-1])))
    return pages


def next_query(page: Reply) -> str:
    return urlsplit(page.json["links"]["next"]).query


def prev_query(page: Reply) -> str:
    return urlsplit(page.json["links"]["prev"]).query


def live_provider_ids(admin: Any) -> set[str]:
    rows = admin.run("SELECT provider_id FROM core_api.providers WHERE deleted_at IS NULL")
    return {str(r[0]) for r in rows}


def test_the_catalog_lists_every_live_provider_with_this_workspaces_state(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    (sel_pk, selected), (match_pk, matched), (_, untouched) = (f.provider(admin) for _ in range(3))
    (rem_pk, removed), (gone_pk, gone) = f.provider(admin), f.provider(admin)
    f.workspace_provider(admin, t.workspace_pk, sel_pk)
    f.workspace_provider(admin, t.workspace_pk, match_pk, selected=False, matched=True)
    f.workspace_provider(admin, t.workspace_pk, rem_pk, deleted=True)
    f.workspace_provider(admin, other.workspace_pk, rem_pk)
    admin.run("UPDATE core_api.providers SET deleted_at = now() WHERE pk = :p", p=gone_pk)

    pages = catalog_pages(t, t.workspace_id, "page[size]=50")

    data = [d for page in pages for d in page.json["data"]]
    by_id = {d["id"]: d for d in data}
    assert len(by_id) == len(data), "a provider appeared on two pages"
    assert set(by_id) == live_provider_ids(admin)
    assert gone not in by_id
    assert {d["type"] for d in data} == {"provider"}
    assert flags(by_id[str(selected)]) == (True, True)
    assert flags(by_id[str(matched)]) == (False, True)
    assert flags(by_id[str(untouched)]) == (False, False)
    assert flags(by_id[str(removed)]) == (False, False)
    assert by_id[str(removed)]["relationships"]["workspace_provider"]["data"] is None


def test_the_catalog_pages_forward_and_back_with_cursors(admin):
    t = f.tenant(admin)
    for _ in range(5):
        f.provider(admin, category="Telecom")
    query = "filter[category]=Telecom&page[size]=2"

    forward = [w.catalog(t.claims(), t.workspace_id, query)]
    for _ in range(2):
        forward.append(w.catalog(t.claims(), t.workspace_id, next_query(forward[-1])))
    back = w.catalog(t.claims(), t.workspace_id, prev_query(forward[2]))
    first = w.catalog(t.claims(), t.workspace_id, prev_query(back))

    pages = [[d["id"] for d in page.json["data"]] for page in forward]
    assert [len(p) for p in pages[:2]] == [2, 2]
    assert len({i for p in pages for i in p}) == sum(len(p) for p in pages) >= 5
    assert [d["id"] for d in back.json["data"]] == pages[1]
    assert [d["id"] for d in first.json["data"]] == pages[0]


@pytest.mark.parametrize(
    ("query", "expected", "only_mine"),
    [
        ("filter[is_selected]=true", {"selected"}, True),
        ("filter[is_selected]=false&filter[is_matched]=true", {"matched"}, True),
        ("filter[is_matched]=true", {"selected", "matched"}, True),
        # Every provider this workspace never touched is unmatched here, other tests' too.
        ("filter[is_matched]=false", {"untouched"}, False),
    ],
)
def test_the_catalog_filters_on_this_workspaces_flags(admin, query, expected, only_mine):
    t, other = f.tenant(admin), f.tenant(admin)
    ids = {
        name: f.provider(admin, category="Travel & Logistics")
        for name in ("selected", "matched", "untouched")
    }
    f.workspace_provider(admin, t.workspace_pk, ids["selected"][0])
    f.workspace_provider(admin, t.workspace_pk, ids["matched"][0], selected=False, matched=True)
    f.workspace_provider(admin, other.workspace_pk, ids["untouched"][0])

    pages = catalog_pages(t, t.workspace_id, query + "&page[size]=500")

    listed = {d["id"] for page in pages for d in page.json["data"]}
    mine = {str(pid): name for name, (_, pid) in ids.items()}
    assert {mine[i] for i in listed if i in mine} == expected
    assert listed <= set(mine) or not only_mine, "an untouched provider passed the filter"


def test_the_catalog_filters_on_category(admin):
    t = f.tenant(admin)
    (_, media) = f.provider(admin, category="Media & Subscriptions")
    (_, finance) = f.provider(admin, category="Finance")

    query = "filter[category]=Media%20%26%20Subscriptions&page[size]=100"
    pages = catalog_pages(t, t.workspace_id, query)

    listed = {d["id"]: d for page in pages for d in page.json["data"]}
    assert str(media) in listed
    assert str(finance) not in listed
    assert {d["attributes"]["category"] for d in listed.values()} == {"Media & Subscriptions"}


def test_the_catalog_includes_this_workspaces_live_row(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)
    f.workspace_provider(admin, other.workspace_pk, provider_pk, selected=False, matched=False)

    reply = w.catalog(
        t.claims(), t.workspace_id, "filter[is_selected]=true&include=workspace_provider"
    )

    (data,) = reply.json["data"]
    assert data["id"] == str(provider_id)
    assert w.related_id(data, "workspace_provider") == str(row_id)
    # The catalog's rows are served by no route of this API: no self link, no relationship
    # routes. The included row links to its own route, in the workspace the path named.
    assert "links" not in data
    assert data["relationships"]["workspace_provider"] == {
        "data": {"type": "workspace_provider", "id": str(row_id)}
    }
    (included,) = reply.json["included"]
    assert (included["type"], included["id"]) == ("workspace_provider", str(row_id))
    assert included["attributes"]["is_selected"] is True
    assert included["links"] == {
        "self": f"https://api.test/v1/workspace-providers/{row_id}?workspace_id={t.workspace_id}"
    }


def test_the_catalog_follows_select_and_remove(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)

    def state() -> tuple[bool, bool]:
        reply = w.catalog(t.claims(), t.workspace_id, "filter[is_matched]=true")
        listed = {d["id"]: d for d in reply.json["data"]}
        return flags(listed[str(provider_id)]) if str(provider_id) in listed else (False, False)

    assert state() == (False, False)
    w.created(w.select(t.claims(), t.workspace_id, select_document(provider_id)))
    assert state() == (True, True)
    assert w.remove(t.claims(), t.workspace_id, provider_id).status == 204
    assert state() == (False, False)


def test_the_catalog_of_a_workspace_the_caller_is_not_a_member_of_is_404(admin):
    t, other = f.tenant(admin), f.tenant(admin)
    assert w.error(w.catalog(t.claims(), other.workspace_id), 404)["code"] == "NOT_FOUND"
