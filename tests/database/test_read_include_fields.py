"""``include`` (compound documents) and ``fields[<type>]`` (sparse fieldsets)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support.read_factories import (
    ALL,
    PAIRS,
    PARENT_ATTRIBUTES,
    PROVENANCE,
    RECORD,
    RELATIONSHIPS,
    SECRET,
    TYPES,
    at,
    read,
)

pytestmark = pytest.mark.usefixtures("api_database")


def included_keys(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(obj["type"], obj["id"]) for obj in doc["included"]]


def linked_keys(doc: dict[str, Any]) -> set[tuple[str, str]]:
    data = doc["data"] if isinstance(doc["data"], list) else [doc["data"]]
    return {
        (rel["data"]["type"], rel["data"]["id"])
        for obj in data
        for rel in obj.get("relationships", {}).values()
        if rel["data"] is not None
    }


def assert_full_linkage(doc: dict[str, Any]) -> None:
    """Every included resource is reached from primary data, and appears exactly once."""
    keys = included_keys(doc)
    assert len(keys) == len(set(keys)), keys
    assert set(keys) <= linked_keys(doc)


@pytest.mark.parametrize("resource", ALL)
def test_including_every_relationship_serialises_each_parent_as_its_own_type(admin, resource):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    everything = ",".join(RELATIONSHIPS[resource])

    for reply in (
        read(resource, t.claims(), query=f"include={everything}"),
        read(resource, t.claims(), row_id=row.id, query=f"include={everything}"),
    ):
        assert reply.status == 200, reply.body
        doc = reply.json
        expected = {(p[0], str(p[1])) for p in row.parents.values() if p is not None}
        assert set(included_keys(doc)) == expected
        assert_full_linkage(doc)
        for obj in doc["included"]:
            # Platform records are served by another API: no link leads to them from here.
            assert set(obj) == {"type", "id", "attributes"}
            assert set(obj["attributes"]) == set(PARENT_ATTRIBUTES[obj["type"]])


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_including_one_relationship_adds_only_that_parent(admin, resource, name):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)
    parent = row.parents[name]
    assert parent is not None

    reply = read(resource, t.claims(), query=f"include={name}")

    assert reply.status == 200, reply.body
    assert included_keys(reply.json) == [(parent[0], str(parent[1]))]


def test_included_parents_carry_their_values(admin):
    t = f.tenant(admin)
    account = t.account(account_name="Main account", type="credit")
    row = rf.provenance(admin, t, "account_workspace_connectors", record=account)
    provider = f.provider(admin, category="Accounting")
    wp = rf.workspace_provider(admin, t, provider=provider)
    group = f.group(admin, name="Finance team", created_by_pk=t.person_pk)
    enrolment = rf.enrolment(admin, t, group=group)

    awc = read(
        "account_workspace_connectors",
        t.claims(),
        row_id=row.id,
        query="include=account,workspace_connector",
    ).json
    providers = read(
        "workspace_providers", t.claims(), row_id=wp.id, query="include=provider,workspace"
    ).json
    groups = read(
        "workspace_group_workspaces",
        t.claims(),
        row_id=enrolment.id,
        query="include=workspace_group,created_by",
    ).json

    by_type = {o["type"]: o["attributes"] for d in (awc, providers, groups) for o in d["included"]}
    assert by_type["account"] == {"account_type": "credit", "account_name": "Main account"}
    assert by_type["workspace_connector"] == {"status": "enabled"}
    assert by_type["workspace"] == {"name": t.name}
    assert by_type["workspace_group"] == {"name": "Finance team"}
    assert by_type["people"] == {
        "first_name": "Grace",
        "last_name": "Hopper",
        "full_name": "Grace Hopper",
    }
    provider_attributes = by_type["provider"]
    assert provider_attributes["category"] == "Accounting"
    assert provider_attributes["popularity_score"] == 42
    assert provider_attributes["url"] == "https://example.com"


@pytest.mark.parametrize("resource", PROVENANCE)
def test_connector_config_never_leaves_the_database(admin, resource):
    t = f.tenant(admin)
    rf.provenance(admin, t, resource)
    stored = admin.run(
        "SELECT config::text FROM core_api.workspace_connectors WHERE pk = :pk",
        pk=t.workspace_connector_pk,
    )
    assert SECRET in stored[0][0]

    reply = read(resource, t.claims(), query="include=workspace_connector")

    assert SECRET not in reply.body
    (connector,) = reply.json["included"]
    assert connector["attributes"] == {"status": "enabled"}
    # Not even on request: config is not a field of workspace_connector.
    refused = read(
        resource,
        t.claims(),
        query="include=workspace_connector&fields[workspace_connector]=status,config",
    )
    rf.error(refused, 400, "fields[workspace_connector]")


@pytest.mark.parametrize("resource", PROVENANCE)
def test_a_parent_shared_by_many_rows_is_included_once(admin, resource):
    t = f.tenant(admin)
    record = f.record_of(t, resource)
    for minute in range(6):
        rf.provenance(admin, t, resource, record=record, created_at=at(minute))

    reply = read(resource, t.claims(), query=f"include={RECORD[resource]},workspace_connector")

    doc = reply.json
    assert len(doc["data"]) == 6
    assert sorted(included_keys(doc)) == sorted(
        [(RECORD[resource], str(record[1])), ("workspace_connector", str(t.workspace_connector_id))]
    )
    assert_full_linkage(doc)


@pytest.mark.parametrize("resource", ALL)
def test_include_with_nothing_to_include_gives_an_empty_included_array(admin, resource):
    t = f.tenant(admin)
    everything = ",".join(RELATIONSHIPS[resource])

    reply = read(resource, t.claims(), query=f"include={everything}")

    assert reply.json["data"] == []
    assert reply.json["included"] == []


@pytest.mark.parametrize("resource", ALL)
def test_without_include_there_is_no_included_member(admin, resource):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)

    assert "included" not in read(resource, t.claims()).json
    assert "included" not in read(resource, t.claims(), row_id=row.id).json


def test_an_empty_include_parameter_includes_nothing(admin):
    t = f.tenant(admin)
    rf.make_row(admin, t, "account_workspace_connectors")

    reply = read("account_workspace_connectors", t.claims(), query="include=")

    assert reply.status == 200
    assert reply.json["included"] == []


@pytest.mark.parametrize(
    "value",
    [
        "connector",
        "workspace_connector.connector",
        "account.workspace",
        "workspace_connector.workspace",
        "provider",
        "config",
        "account,nope",
        "account,",
        "Account",
    ],
)
@pytest.mark.parametrize("retrieve", [False, True])
def test_an_include_path_that_is_not_a_relationship_is_rejected(admin, value, retrieve):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, "account_workspace_connectors")

    reply = read(
        "account_workspace_connectors",
        t.claims(),
        row_id=row.id if retrieve else None,
        query=f"include={value}",
    )

    rf.error(reply, 400, "include")


# --- sparse fieldsets ------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ALL)
def test_fields_limits_the_primary_type_to_the_named_attribute(admin, resource):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, resource)

    for reply in (
        read(resource, t.claims(), query=f"fields[{TYPES[resource]}]=created_at"),
        read(resource, t.claims(), row_id=row.id, query=f"fields[{TYPES[resource]}]=created_at"),
    ):
        assert reply.status == 200, reply.body
        data = reply.json["data"]
        obj = data if isinstance(data, dict) else data[0]
        assert set(obj["attributes"]) == {"created_at"}
        assert "relationships" not in obj
        assert obj["id"] == str(row.id)
        assert "self" in obj["links"]


@pytest.mark.parametrize(("resource", "name"), PAIRS)
def test_fields_can_name_a_relationship_alone(admin, resource, name):
    t = f.tenant(admin)
    rf.make_row(admin, t, resource)

    reply = read(resource, t.claims(), query=f"fields[{TYPES[resource]}]={name}")

    (obj,) = reply.json["data"]
    assert set(obj["relationships"]) == {name}
    assert "attributes" not in obj


def test_fields_mixes_attributes_and_relationships(admin):
    t = f.tenant(admin)
    rf.make_row(admin, t, "workspace_providers")

    reply = read(
        "workspace_providers", t.claims(), query="fields[workspace_provider]=is_selected,provider"
    )

    (obj,) = reply.json["data"]
    assert set(obj["attributes"]) == {"is_selected"}
    assert set(obj["relationships"]) == {"provider"}


def test_an_empty_fieldset_leaves_only_type_id_and_links(admin):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, "people_workspace_connectors")

    reply = read(
        "people_workspace_connectors", t.claims(), query="fields[people_workspace_connector]="
    )

    (obj,) = reply.json["data"]
    assert set(obj) == {"type", "id", "links"}
    assert obj["id"] == str(row.id)


@pytest.mark.parametrize(
    ("resource", "name", "parent_type", "field"),
    [
        ("account_workspace_connectors", "account", "account", "account_name"),
        ("company_workspace_connectors", "company", "company", "domain"),
        ("people_workspace_connectors", "people", "people", "full_name"),
        ("people_workspace_connectors", "workspace_connector", "workspace_connector", "status"),
        ("workspace_group_workspaces", "workspace_group", "workspace_group", "name"),
        ("workspace_group_workspaces", "created_by", "people", "last_name"),
        ("workspace_providers", "provider", "provider", "slug"),
        ("workspace_providers", "workspace", "workspace", "name"),
    ],
)
def test_fields_limits_included_types_too(admin, resource, name, parent_type, field):
    t = f.tenant(admin)
    rf.make_row(admin, t, resource)

    reply = read(resource, t.claims(), query=f"include={name}&fields[{parent_type}]={field}")

    (included,) = reply.json["included"]
    assert included["type"] == parent_type
    assert set(included["attributes"]) == {field}
    # The primary type is not restricted by another type's fieldset.
    (obj,) = reply.json["data"]
    assert name in obj["relationships"]


def test_fields_on_an_included_type_and_the_primary_type_combine(admin):
    t = f.tenant(admin)
    rf.make_row(admin, t, "account_workspace_connectors")

    reply = read(
        "account_workspace_connectors",
        t.claims(),
        query="include=account&fields[account]=&fields[account_workspace_connector]=account",
    )

    (obj,) = reply.json["data"]
    assert set(obj) == {"type", "id", "relationships", "links"}
    (included,) = reply.json["included"]
    assert set(included) == {"type", "id"}
    assert_full_linkage(reply.json)


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("fields[nope]", "name"),
        ("fields[connector]", "name"),
        ("fields[account_workspace_connector]", "bogus"),
        ("fields[account_workspace_connector]", "direction,bogus"),
        ("fields[account_workspace_connector]", "id"),
        ("fields[account_workspace_connector]", "type"),
        ("fields[account_workspace_connector]", "pk"),
        ("fields[account_workspace_connector]", "account_pk"),
        ("fields[account]", "type"),
        ("fields[account]", "workspace"),
        ("fields[workspace_connector]", "config"),
        ("fields[account_workspace_connector]", "direction,"),
    ],
)
@pytest.mark.parametrize("retrieve", [False, True])
def test_fields_naming_an_unknown_type_or_field_is_rejected(admin, parameter, value, retrieve):
    t = f.tenant(admin)
    row = rf.make_row(admin, t, "account_workspace_connectors")

    reply = read(
        "account_workspace_connectors",
        t.claims(),
        row_id=row.id if retrieve else None,
        query=f"{parameter}={value}",
    )

    rf.error(reply, 400, parameter)
