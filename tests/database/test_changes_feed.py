"""The changes feed, ``GET /v1/changes`` (docs/changes.md): a workspace's change records in
commit order, through the feed's handler, as a consumer follows it.

Its documents are JSON:API (every reply is held to the vendored schema by
``tests.support.api``), paging over ``links.next`` reaches every record exactly once in
``(xid, pk)`` order, deletions and revocations are there, a sync run's records are its outcome,
another tenant's records are never seen, a cursor that is not the feed's is 400 and one behind
what retention pruned is 410.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support import tenancy as tn
from tests.support import writes as w
from tests.support.api import Lambda, Reply, call, event
from wellapi.handlers.sweep import sweep_once
from wellapi.handlers.sync import sync_handler
from wellapi.jsonapi.cursor import ChangePlace
from wellapi.store import connections as db
from wellapi.store.sql import fixed

pytestmark = pytest.mark.usefixtures("api_database")

sync = sync_handler()


def feed(claims: dict[str, str] | None, query: str = "") -> Reply:
    return call("changes", "feed", event("GET", "/v1/changes", query=query, claims=claims))


def follow(claims: dict[str, str], link: str) -> Reply:
    return feed(claims, urlsplit(link).query)


def every_page(claims: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    """Every record the feed shows, following ``links.next`` from the first page."""
    reply = feed(claims, query)
    assert reply.status == 200, reply.body
    records = list(reply.json["data"])
    while reply.json["links"]["next"] is not None:
        reply = follow(claims, reply.json["links"]["next"])
        assert reply.status == 200, reply.body
        records += reply.json["data"]
    return records


def deliver(*bodies: dict[str, Any]) -> None:
    assert sqs.failed_ids(sync(sqs.event(*bodies), Lambda(remaining_ms=120_000))) == []


def places(admin: pg8000.native.Connection, workspace_pk: int) -> list[str]:
    """The workspace's records' ids, in the order a reader walks them (once they are all
    behind the horizon)."""
    tn.settled(admin)
    return kept(admin, workspace_pk)


def cursor_of(link: str) -> str:
    return dict(parse_qsl(urlsplit(link).query))["cursor"]


def selected_and_removed(
    admin: pg8000.native.Connection, times: int
) -> tuple[f.Tenant, dict[str, str]]:
    """A tenant whose owner selected and removed a provider ``times`` times (two records
    each), and the owner's claims."""
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    claims = t.claims()
    body = w.provider_document(None, provider_id)
    for _ in range(times):
        w.created(w.select(claims, t.workspace_id, body))
        assert w.remove(claims, t.workspace_id, provider_id).status == 204
    return t, claims


def test_a_consumer_following_links_next_reads_every_record_once_in_commit_order(admin):
    t, claims = selected_and_removed(admin, 3)

    tn.settled(admin)
    records = every_page(claims, "limit=2")

    assert [r["id"] for r in records] == places(admin, t.workspace_pk)
    assert [r["attributes"]["change"] for r in records] == ["selected", "removed"] * 3
    first = records[0]
    assert first["type"] == "change"
    assert first["relationships"]["workspace"]["data"] == {
        "type": "workspace",
        "id": str(t.workspace_id),
    }
    assert first["attributes"]["actor_kind"] == "member"
    assert first["attributes"]["resource_type"] == "workspace_provider"


def test_the_last_page_has_no_next_and_its_meta_poll_reads_what_commits_later(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    claims = t.claims()
    body = w.provider_document(None, provider_id)
    w.created(w.select(claims, t.workspace_id, body))

    tn.settled(admin)
    caught_up = feed(claims, "limit=5")
    assert caught_up.json["links"]["next"] is None
    poll = caught_up.json["meta"]["poll"]
    assert caught_up.json["meta"]["count"] == 1
    assert follow(claims, poll).json["data"] == []

    assert w.remove(claims, t.workspace_id, provider_id).status == 204

    tn.settled(admin)
    later = follow(claims, poll).json["data"]
    assert [r["attributes"]["change"] for r in later] == ["removed"]


def test_an_empty_feed_polls_itself(admin):
    t = f.tenant(admin)
    reply = feed(t.claims(), "page[size]=3")
    assert reply.status == 200
    assert reply.json["data"] == []
    assert reply.json["links"]["next"] is None
    assert reply.json["meta"] == {"count": 0, "poll": reply.json["links"]["self"]}


def test_the_profile_form_pages_with_page_after(admin):
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    claims = t.claims()
    w.created(w.select(claims, t.workspace_id, w.provider_document(None, provider_id)))
    assert w.remove(claims, t.workspace_id, provider_id).status == 204

    tn.settled(admin)
    first = feed(claims, "page[size]=1")
    link = first.json["links"]["next"]
    assert "page%5Bafter%5D=" in link or "page[after]=" in link
    second = follow(claims, link)
    assert [r["id"] for r in first.json["data"] + second.json["data"]] == places(
        admin, t.workspace_pk
    )


def test_deletions_sync_links_unlinks_revocations_and_sweeps_are_all_in_the_feed(admin):
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", 3)]
    deliver(s.linked(t.workspace_connector_id, accounts, sync_run_id="run-a"))
    deliver(s.unlinked(t.workspace_connector_id, accounts[:1], sync_run_id="run-b"))
    deliver(s.revoked(t.workspace_connector_id))
    s.sweep()
    tn.settled(admin)

    records = every_page(t.claims("service"), "limit=1")

    assert [(r["attributes"]["resource_type"], r["attributes"]["change"]) for r in records] == [
        ("account_workspace_connector", "linked"),
        ("account_workspace_connector", "unlinked"),
        ("workspace_connector", "revoked"),
        ("account_workspace_connector", "removed"),
    ]
    linked = records[0]["attributes"]
    assert sorted(linked["record_ids"]) == sorted(str(a) for a in accounts)
    assert linked["sync_run_id"] == "run-a"
    assert [r["attributes"]["actor_kind"] for r in records] == ["sync", "sync", "sync", "sweep"]


def test_a_sync_run_is_readable_as_what_it_linked_and_unlinked_with_its_lag(admin):
    t = f.tenant(admin)
    accounts = [pid for _, pid in s.records(admin, t, "account", 4)]
    deliver(s.linked(t.workspace_connector_id, accounts[:3], sync_run_id="run-1"))
    deliver(s.linked(t.workspace_connector_id, accounts[3:], sync_run_id="run-2"))
    deliver(s.unlinked(t.workspace_connector_id, accounts[:1], sync_run_id="run-1"))
    tn.settled(admin)

    records = every_page(t.claims("service"), "filter[sync_run_id]=run-1")

    assert [r["attributes"]["change"] for r in records] == ["linked", "unlinked"]
    assert {r["attributes"]["sync_run_id"] for r in records} == {"run-1"}
    for record in records:
        attributes = record["attributes"]
        occurred = w.timestamp(attributes["occurred_at"])
        recorded = w.timestamp(attributes["recorded_at"])
        assert attributes["lag_seconds"] == pytest.approx(
            (recorded - occurred).total_seconds(), abs=0.001
        )


def test_filters_on_resource_type_and_change_keep_only_their_records_in_order(admin):
    t = f.tenant(admin)
    group_pk, group_id = f.group(admin)
    f.group_member(admin, group_pk, t.person_pk, "owner")
    _, provider_id = f.provider(admin)
    claims = t.claims()
    w.created(w.select(claims, t.workspace_id, w.provider_document(None, provider_id)))
    w.created(w.enrol(claims, group_id, w.enrolment_document(None, t.workspace_id)))
    assert w.remove(claims, t.workspace_id, provider_id).status == 204
    assert w.unenrol(claims, group_id, t.workspace_id).status == 204
    tn.settled(admin)

    def kinds(query: str) -> list[tuple[str, str]]:
        return [
            (r["attributes"]["resource_type"], r["attributes"]["change"])
            for r in every_page(claims, query + "&limit=1")
        ]

    assert kinds("filter[resource_type]=workspace_provider") == [
        ("workspace_provider", "selected"),
        ("workspace_provider", "removed"),
    ]
    assert kinds("filter[change]=removed,unenrolled") == [
        ("workspace_provider", "removed"),
        ("workspace_group_workspace", "unenrolled"),
    ]
    assert kinds("filter[resource_type]=workspace_group_workspace&filter[change]=enrolled") == [
        ("workspace_group_workspace", "enrolled")
    ]
    assert kinds("filter[resource_type]=workspace_provider&filter[change]=linked") == []
    assert kinds("filter[sync_run_id]=no-such-run") == []


# --- tenancy ------------------------------------------------------------------------------------


def test_another_tenants_changes_are_never_seen_by_member_or_service_keys(admin):
    mine = f.tenant(admin)
    theirs = f.tenant(admin)
    _, provider_id = f.provider(admin)
    for t in (mine, theirs):
        w.created(w.select(t.claims(), t.workspace_id, w.provider_document(None, provider_id)))
    accounts = [pid for _, pid in s.records(admin, theirs, "account", 2)]
    deliver(s.linked(theirs.workspace_connector_id, accounts, sync_run_id="their-run"))
    tn.settled(admin)

    for kind in ("member", "service"):
        seen = every_page(mine.claims(kind), "limit=1")
        assert [r["id"] for r in seen] == places(admin, mine.workspace_pk)
        assert {r["relationships"]["workspace"]["data"]["id"] for r in seen} == {
            str(mine.workspace_id)
        }
        assert every_page(mine.claims(kind), "filter[sync_run_id]=their-run") == []

    # A member key naming the other workspace is refused, as on every List.
    other = f"workspace_id={theirs.workspace_id}"
    assert feed(mine.claims(), other).error_codes() == ["FORBIDDEN"]
    # A service key reads the workspace it names, and only that one.
    named = every_page(mine.claims("service"), other)
    assert [r["id"] for r in named] == places(admin, theirs.workspace_pk)


def test_another_tenants_cursor_shows_nothing_of_theirs(admin):
    mine = f.tenant(admin)
    theirs = f.tenant(admin)
    _, provider_id = f.provider(admin)
    for t in (theirs, mine, theirs):
        w.post(
            "workspace_providers",
            t.claims(),
            w.provider_document(t.workspace_id, f.provider(admin)[1]),
        )
    tn.settled(admin)
    their_first = feed(theirs.claims(), "limit=1").json["links"]["next"]

    seen = follow(mine.claims(), their_first).json["data"]

    assert {r["relationships"]["workspace"]["data"]["id"] for r in seen} <= {str(mine.workspace_id)}
    del provider_id


# --- errors -------------------------------------------------------------------------------------


def _token(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED = [
    "not-base64!",
    _token(["commit", "1-0"]),
    _token(["commit", "-1-5"]),
    _token(["commit", "18446744073709551616-1"]),
    _token(["commit", "1-9223372036854775808"]),
    _token(["commit", "\uff11-2"]),
    _token(["commit", 1]),
    _token(["-created_at", "2026-01-01T00:00:00+00:00", "5f0c7a8e-0000-4000-8000-000000000000"]),
    _token(["commit", "1-2", "before"]),
]


@pytest.mark.parametrize("token", FORGED)
@pytest.mark.parametrize("parameter", ["cursor", "page[after]"])
def test_a_cursor_the_feed_did_not_issue_is_400_invalid_cursor(admin, token, parameter):
    t = f.tenant(admin)
    reply = feed(t.claims(), f"{parameter}={token}")
    assert reply.status == 400
    (error,) = reply.errors
    assert (error["code"], error["source"]) == ("INVALID_CURSOR", {"parameter": parameter})


@pytest.mark.parametrize(
    ("query", "code", "parameter"),
    [
        ("sort=created_at", "UNKNOWN_QUERY_PARAMETER", "sort"),
        ("include=workspace", "UNKNOWN_QUERY_PARAMETER", "include"),
        ("fields[change]=ids", "UNKNOWN_QUERY_PARAMETER", "fields[change]"),
        ("page[before]=x", "UNKNOWN_QUERY_PARAMETER", "page[before]"),
        ("limit=0", "INVALID_PAGE_PARAMETER", "limit"),
        ("limit=501", "PAGE_SIZE_TOO_LARGE", "limit"),
        ("limit=5&page[after]=x", "MIXED_PAGINATION", "page[after]"),
        ("filter[change]=exploded", "INVALID_FILTER", "filter[change]"),
        ("filter[resource_type]=account", "INVALID_FILTER", "filter[resource_type]"),
        ("filter[sync_run_id]=a,b", "INVALID_FILTER", "filter[sync_run_id]"),
        ("filter[sync_run_id]=" + "x" * 201, "INVALID_FILTER", "filter[sync_run_id]"),
        ("filter[sync_run_id]=run%00", "INVALID_FILTER", "filter[sync_run_id]"),
        ("filter[sync_run_id]=run%0A1", "INVALID_FILTER", "filter[sync_run_id]"),
        ("filter[workspace]=5f0c7a8e-0000-4000-8000-000000000000", "INVALID_FILTER", None),
        ("filter[created_at][gte]=2026-01-01T00:00:00Z", "INVALID_FILTER", None),
        ("workspace_id=nope", "INVALID_UUID", "workspace_id"),
        ("limit=1&limit=2", "DUPLICATE_QUERY_PARAMETER", "limit"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(admin, query, code, parameter):
    t = f.tenant(admin)
    reply = feed(t.claims(), query)
    assert reply.status == 400
    (error,) = reply.errors
    assert error["code"] == code
    assert error["source"]["parameter"] == (parameter or query.split("=")[0])


def test_without_credentials_the_feed_is_401(admin):
    assert feed(None).status == 401


# --- retention ----------------------------------------------------------------------------------


def test_a_cursor_behind_a_pruned_record_is_410_and_one_after_it_reads_on(admin):
    s.prune_what_others_left()  # so that the prune below is of this test's records alone
    t, claims = selected_and_removed(admin, 2)
    first, second, third, fourth = places(admin, t.workspace_pk)
    old_cursor = cursor_of(feed(claims, "limit=1").json["links"]["next"])
    assert ChangePlace.of(first).encode() == old_cursor

    # The first three were sent long ago, and pruned.
    admin.run(
        "UPDATE core_api.change_records SET sent_at = now() - interval '31 days' "
        "WHERE workspace_pk = :w AND xid::text || '-' || pk = ANY(:ids)",
        w=t.workspace_pk,
        ids=[first, second, third],
    )
    assert s.prune().records == 3

    expired = feed(claims, f"cursor={old_cursor}")
    assert expired.status == 410
    (error,) = expired.errors
    assert (error["code"], error["source"]) == ("CURSOR_EXPIRED", {"parameter": "cursor"})
    assert feed(claims, f"page[after]={old_cursor}").errors[0]["source"] == {
        "parameter": "page[after]"
    }
    # Where retention stopped, the feed reads on; from the start, it shows what is kept.
    assert [
        r["id"] for r in feed(claims, f"cursor={ChangePlace.of(third).encode()}").json["data"]
    ] == [fourth]
    assert [r["id"] for r in every_page(claims)] == [fourth]


def record(admin: pg8000.native.Connection, workspace_pk: int, sent: str | None) -> str:
    """A change record of the workspace, sent ``sent`` ago (an interval), or never: its id."""
    rows = admin.run(
        "INSERT INTO core_api.change_records (workspace_pk, resource_type, change, ids, "
        "occurred_at, actor_kind) VALUES (:w, 'workspace_provider', 'selected', "
        "ARRAY[gen_random_uuid()], now() - interval '90 days', 'sweep') "
        "RETURNING xid::text || '-' || pk",
        w=workspace_pk,
    )
    record_id = str(rows[0][0])
    if sent is not None:
        admin.run(
            "UPDATE core_api.change_records SET sent_at = now() - CAST(:sent AS interval) "
            "WHERE xid::text || '-' || pk = :id",
            sent=sent,
            id=record_id,
        )
    return record_id


def kept(admin: pg8000.native.Connection, workspace_pk: int) -> list[str]:
    """The workspace's records' ids in the table, in ``(xid, pk)`` order."""
    rows = admin.run(
        "SELECT xid::text || '-' || pk FROM core_api.change_records WHERE workspace_pk = :w "
        "ORDER BY xid, pk",
        w=workspace_pk,
    )
    return [r[0] for r in rows]


def test_retention_prunes_records_sent_longer_ago_in_bounded_steps_and_keeps_the_rest(admin):
    s.prune_what_others_left()  # so that the prune below is of this test's records alone
    t = f.tenant(admin)
    unsent = record(admin, t.workspace_pk, None)
    recent = record(admin, t.workspace_pk, "29 days 23 hours")
    old = [record(admin, t.workspace_pk, f"{30 + i} days 1 hour") for i in range(5)]
    # Another workspace's old record goes too, and raises its own pruned position only.
    other = f.tenant(admin)
    theirs = record(admin, other.workspace_pk, "40 days")

    report = s.prune(records=2)

    # Three full steps, and one that finds less than a step: done.
    assert (report.records, report.steps) == (6, 4)
    assert kept(admin, t.workspace_pk) == [unsent, recent]
    assert kept(admin, other.workspace_pk) == []
    positions = admin.run(
        "SELECT workspace_pk, xid::text || '-' || pk FROM core_api.change_feed_pruned "
        "WHERE workspace_pk IN (:a, :b) ORDER BY workspace_pk",
        a=t.workspace_pk,
        b=other.workspace_pk,
    )
    assert positions == sorted(
        [[t.workspace_pk, max(old, key=ChangePlace.of)], [other.workspace_pk, theirs]]
    )
    assert s.prune().records == 0


def test_the_sync_role_may_delete_no_record_retention_keeps(admin):
    t = f.tenant(admin)
    unsent = record(admin, t.workspace_pk, None)
    recent = record(admin, t.workspace_pk, "1 day")

    deleted = db.execute(
        [
            fixed(
                "WITH gone AS (DELETE FROM core_api.change_records RETURNING 1) "
                "SELECT count(*) FROM gone"
            )
        ],
        pool=db.get_pool("sync"),
        retry=False,
    )

    assert deleted == [[0]]
    assert kept(admin, t.workspace_pk) == [unsent, recent]


def test_the_sweep_function_prunes_and_reports_it(admin, monkeypatch, capsys):
    t = f.tenant(admin)
    for _ in range(3):
        record(admin, t.workspace_pk, "31 days")
    s.follow_stdout(monkeypatch)
    capsys.readouterr()

    summary = sweep_once(pool=db.get_pool("sync"), time_left_ms=lambda: 60_000)

    pruned = summary["change_records_pruned"]
    assert pruned >= 3
    assert kept(admin, t.workspace_pk) == []
    (line,) = s.log_lines(capsys.readouterr().out, "change records pruned")
    assert (line["records"], line["steps"], line["unfinished"]) == (pruned, 1, False)
