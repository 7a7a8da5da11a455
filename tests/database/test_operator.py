"""The operator's actions (``wellapi.handlers.operator``), each through the handler as
``well_operator``: what each writes, the change records it leaves (and never a key's secret or
hash), how a key it issues works, expires and is revoked or rotated, and the answers it gives
to an event that is no action or names nothing."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID, uuid4

import pg8000.native
import pytest

from tests.support import factories as f
from tests.support import tenancy as tn
from tests.support.api import call, event
from tests.support.cross_tenant import authorize
from wellapi.handlers import operator
from wellapi.http import keys
from wellapi.roles import OPERATOR_ROLE
from welldev import database as local_db

pytestmark = pytest.mark.usefixtures("api_database")

INVALID = {"credentials": "invalid"}


def act(action: str, **given: Any) -> dict[str, Any]:
    return operator.handle({"action": action, **{k: str(v) for k, v in given.items()}}, None)


def records(admin: pg8000.native.Connection, workspace_id: Any) -> list[list[Any]]:
    """The workspace's change records: (resource type, change, ids, detail, actor), in order."""
    return list(
        admin.run(
            "SELECT r.resource_type, r.change, r.ids::text[], r.detail, r.actor_kind "
            "FROM core_api.change_records r JOIN core_api.workspaces w ON w.pk = r.workspace_pk "
            "WHERE w.workspace_id = CAST(:w AS uuid) ORDER BY r.xid::text::bigint, r.pk",
            w=str(workspace_id),
        )
    )


def issue(tenant: dict[str, Any], name: str, kind: str = "member", **more: Any) -> dict[str, Any]:
    """A key of the tenant's person for its workspace, as the operator issues it."""
    given = {"workspace_id": tenant["workspace_id"], "person_id": tenant["person_id"]}
    return act("issue_key", **given, kind=kind, name=name, **more)


@pytest.fixture
def tenant_made() -> dict[str, Any]:
    """A workspace, an admin of it and a workspace connector, each made by the operator."""
    workspace = act("make_workspace", name="Operated")
    person = act(
        "add_person", workspace_id=workspace["workspace_id"], full_name="Ada", role="admin"
    )
    connector = act(
        "add_workspace_connector",
        workspace_id=workspace["workspace_id"],
        connector_name=f"Bank {uuid4()}",
        provider="plaid_eu",
    )
    return {**workspace, **person, **connector}


def test_a_workspace_its_person_and_its_connector_are_made_and_recorded(admin, tenant_made):
    workspace_id = tenant_made["workspace_id"]
    assert tenant_made["created"] is True
    assert tenant_made["role"] == "admin"
    found = records(admin, workspace_id)
    assert [(r[0], r[1], r[4]) for r in found] == [
        ("workspace", "created", "operator"),
        ("people", "created", "operator"),
        ("membership", "created", "operator"),
        ("workspace_connector", "created", "operator"),
    ]
    assert found[0][2] == [workspace_id]
    assert found[2][3] == {
        "person": tenant_made["person_id"],
        "workspace": workspace_id,
        "role": "admin",
        "status": "active",
    }
    assert found[3][3]["connector"] == tenant_made["connector_id"]
    membership = admin.run(
        "SELECT m.role::text, m.status::text FROM core_api.memberships m "
        "JOIN core_api.peoples p ON p.pk = m.person_pk WHERE p.person_id = CAST(:p AS uuid)",
        p=tenant_made["person_id"],
    )
    assert membership == [["admin", "active"]]


def test_each_make_given_its_id_again_changes_nothing(admin):
    ids = {name: str(uuid4()) for name in ("workspace", "person", "connector")}
    name = f"Bank {uuid4()}"

    def make_all() -> list[dict[str, Any]]:
        return [
            act("make_workspace", name="Again", workspace_id=ids["workspace"]),
            act(
                "add_person",
                workspace_id=ids["workspace"],
                full_name="Ada",
                person_id=ids["person"],
            ),
            act(
                "add_workspace_connector",
                workspace_id=ids["workspace"],
                connector_name=name,
                provider="chift",
                workspace_connector_id=ids["connector"],
            ),
        ]

    first = make_all()
    made = records(admin, ids["workspace"])
    second = make_all()
    assert [a.get("created") for a in first] == [True, None, True]
    assert [a.get("created") for a in second] == [False, None, False]
    assert second[1]["person_id"] == ids["person"]
    assert records(admin, ids["workspace"]) == made
    catalog = admin.run("SELECT count(*) FROM core_api.connectors WHERE name = :n", n=name)
    assert catalog == [[1]]


def test_a_person_of_another_workspace_is_given_a_membership_and_a_pending_one_made_active(
    admin,
):
    t = f.tenant(admin)
    other = act("make_workspace", name="Other")["workspace_id"]
    added = act("add_person", workspace_id=other, full_name="ignored", person_id=t.person_id)
    assert added["person_id"] == str(t.person_id)
    admin.run(
        "UPDATE core_api.memberships SET status = 'pending' WHERE membership_id = CAST(:m AS uuid)",
        m=added["membership_id"],
    )
    act("add_person", workspace_id=other, full_name="ignored", person_id=t.person_id, role="viewer")
    assert [(r[0], r[1]) for r in records(admin, other)] == [
        ("workspace", "created"),
        ("membership", "created"),
        ("membership", "changed"),
    ]


def test_an_issued_key_works_and_only_its_prefix_and_hash_are_stored(admin, tenant_made):
    issued = issue(tenant_made, "Ada's laptop")
    key = issued.pop("key")
    parsed = keys.parse_key(key)
    assert parsed is not None
    assert issued["prefix"] == parsed.prefix
    assert issued["expires_at"] is None
    claims = authorize(key)
    assert claims["api_key_id"] == issued["api_key_id"]
    assert claims["workspace_id"] == tenant_made["workspace_id"]
    stored = admin.run(
        "SELECT secret_hash FROM core_api.api_keys WHERE api_key_id = CAST(:k AS uuid)",
        k=issued["api_key_id"],
    )
    assert bytes(stored[0][0]) == parsed.secret_hash
    record = records(admin, tenant_made["workspace_id"])[-1]
    assert record[:2] == ["api_key", "issued"]
    assert record[3] == {
        "person": tenant_made["person_id"],
        "name": "Ada's laptop",
        "kind": "member",
        "prefix": parsed.prefix,
    }
    assert_no_secret_in_records(admin, key)


def assert_no_secret_in_records(admin: pg8000.native.Connection, key: str) -> None:
    parsed = keys.parse_key(key)
    assert parsed is not None
    text = "\n".join(
        r[0] for r in admin.run("SELECT row_to_json(r)::text FROM core_api.change_records r")
    )
    assert key.split("_", 2)[2] not in text
    assert parsed.secret_hash.hex() not in text


def test_a_key_past_its_expiry_is_refused_like_a_revoked_one(admin, tenant_made):
    issued = issue(tenant_made, "smoke", kind="service", expires_in_seconds=60)
    key = issued.pop("key")
    assert authorize(key)["principal_kind"] == "service"
    assert records(admin, tenant_made["workspace_id"])[-1][3]["expires_at"] == issued["expires_at"]
    admin.run(
        "UPDATE core_api.api_keys SET expires_at = now() - interval '1 second' "
        "WHERE api_key_id = CAST(:k AS uuid)",
        k=issued["api_key_id"],
    )
    assert authorize(key) == INVALID
    reply = call("changes", "feed", event("GET", "/v1/changes", claims=INVALID))
    assert reply.status == 401


def test_a_revoked_key_is_refused_and_revoking_it_again_records_nothing(admin, tenant_made):
    workspace_id = tenant_made["workspace_id"]
    issued = issue(tenant_made, "to revoke")
    key = issued.pop("key")
    # By its whole key (its prefix finds it), never echoed.
    revoked = act("revoke_key", key=key)
    assert revoked["revoked"] is True
    assert key not in str(revoked)
    assert authorize(key) == INVALID
    before = records(admin, workspace_id)
    assert before[-1][:3] == ["api_key", "revoked", [issued["api_key_id"]]]
    assert act("revoke_key", key=issued["api_key_id"])["revoked"] is False
    assert act("revoke_key", key=issued["prefix"])["revoked"] is False
    assert records(admin, workspace_id) == before


def test_a_rotated_key_is_replaced_by_a_new_one_in_one_transaction(admin, tenant_made):
    old = issue(tenant_made, "rotated")
    old_key = old.pop("key")
    new = act("rotate_key", key=old["api_key_id"], expires_in_seconds=3600)
    new_key = new.pop("key")
    assert authorize(old_key) == INVALID
    assert authorize(new_key)["api_key_id"] == new["api_key_id"]
    assert (new["name"], new["kind"], new["replaces"]) == ("rotated", "member", old["api_key_id"])
    both = admin.run(
        "SELECT r.change, r.ids::text[], r.xid::text FROM core_api.change_records r "
        "WHERE r.resource_type = 'api_key' AND r.ids && CAST(:ids AS uuid[]) ORDER BY r.pk",
        ids=[old["api_key_id"], new["api_key_id"]],
    )
    assert [(c, i) for c, i, _ in both] == [
        ("issued", [old["api_key_id"]]),
        ("issued", [new["api_key_id"]]),
        ("revoked", [old["api_key_id"]]),
    ]
    assert both[1][2] == both[2][2]  # the same transaction
    refused = act("rotate_key", key=old["api_key_id"])
    assert refused["error"]["code"] == "CONFLICT"
    for key in (old_key, new_key):
        assert_no_secret_in_records(admin, key)


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ({}, "INVALID_EVENT"),
        ({"action": "drop_database"}, "INVALID_EVENT"),
        ({"action": "make_workspace"}, "INVALID_EVENT"),
        ({"action": "make_workspace", "name": "x", "extra": 1}, "INVALID_EVENT"),
        ({"action": "add_person", "workspace_id": "nope", "full_name": "x"}, "INVALID_EVENT"),
        (
            {
                "action": "issue_key",
                "workspace_id": str(uuid4()),
                "person_id": str(uuid4()),
                "kind": "member",
                "name": "x",
                "expires_in_seconds": 5,
            },
            "INVALID_EVENT",
        ),
        ({"action": "add_person", "workspace_id": str(uuid4()), "full_name": "x"}, "NOT_FOUND"),
        ({"action": "revoke_key", "key": str(uuid4())}, "NOT_FOUND"),
        ({"action": "revoke_key", "key": "aaaaaaaaaaaa"}, "NOT_FOUND"),
    ],
)
def test_an_event_that_is_no_action_or_names_nothing_is_answered_with_its_code(given, code):
    answer = operator.handle(given, None)
    assert set(answer) == {"error"}
    assert answer["error"]["code"] == code
    assert answer["error"]["detail"]


def test_a_member_key_for_a_person_outside_the_workspace_is_refused(admin, tenant_made):
    stranger = f.tenant(admin)
    answer = act(
        "issue_key",
        workspace_id=tenant_made["workspace_id"],
        person_id=stranger.person_id,
        kind="member",
        name="x",
    )
    assert answer["error"]["code"] == "CONFLICT"
    assert "membership" in answer["error"]["detail"]


def test_the_changes_feed_and_its_filter_show_the_operators_records(admin, tenant_made):
    issued = issue(tenant_made, "feed")
    claims = authorize(issued.pop("key"))
    tn.settled(admin)  # the horizon is the server's: another worker's transaction holds it
    filtered = call(
        "changes",
        "feed",
        event("GET", "/v1/changes", query="filter[resource_type]=api_key", claims=claims),
    )
    assert filtered.status == 200, filtered.body
    assert [
        (r["attributes"]["change"], r["attributes"]["actor_kind"]) for r in filtered.json["data"]
    ] == [("issued", "operator")]
    every = call("changes", "feed", event("GET", "/v1/changes", claims=claims)).json["data"]
    assert {r["attributes"]["resource_type"] for r in every} == {
        "workspace",
        "people",
        "membership",
        "workspace_connector",
        "api_key",
    }


def test_each_action_logs_one_line_with_its_ids_and_never_the_key(tenant_made, caplog):
    caplog.set_level(logging.INFO, logger="wellapi-operator")
    issued = issue(tenant_made, "logged")
    key = issued.pop("key")
    lines = [r for r in caplog.records if r.name == "wellapi-operator"]
    assert len(lines) == 1
    assert lines[0].getMessage() == "operator action"
    said = vars(lines[0])
    assert (said["action"], said["api_key_id"]) == ("issue_key", issued["api_key_id"])
    assert key.split("_", 2)[2] not in repr(said)
    assert UUID(said["api_key_id"])


def test_an_issue_or_a_rotation_sent_again_after_its_commit_answers_the_same_key(
    admin, database, tenant_made
):
    """As ``connections`` sends a message again once its connection dropped: the same prefix and
    hash find the key the first one issued, and nothing more is written."""
    conn = local_db.admin_connection(database.url_for(OPERATOR_ROLE))
    _, prefix, digest = keys.new_key()
    _, rotated_prefix, rotated_digest = keys.new_key()
    issue = (
        "SELECT core_api.operator_issue_key(CAST(:w AS uuid), CAST(:p AS uuid), 'member', 'again', "
        ":prefix, :hash, 600)"
    )
    rotate = "SELECT core_api.operator_rotate_key(CAST(:k AS uuid), NULL, :prefix, :hash, NULL)"
    given = {"w": tenant_made["workspace_id"], "p": tenant_made["person_id"]}
    try:
        issued = [conn.run(issue, **given, prefix=prefix, hash=digest)[0][0] for _ in range(2)]
        old = issued[0]["api_key_id"]
        new = [
            conn.run(rotate, k=old, prefix=rotated_prefix, hash=rotated_digest)[0][0]
            for _ in range(2)
        ]
    finally:
        conn.close()
    assert issued[0] == issued[1]
    assert new[0] == new[1]
    assert new[0]["replaces"] == old
    written = [(r[0], r[1]) for r in records(admin, tenant_made["workspace_id"])[-3:]]
    assert written == [("api_key", "issued"), ("api_key", "issued"), ("api_key", "revoked")]
    assert len(records(admin, tenant_made["workspace_id"])) == 4 + 3
