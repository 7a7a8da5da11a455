"""A maintained third-party JSON:API client (jsonapi-client, from PyPI) against the local server.

The client knows nothing of this API but the JSON:API specification: it follows the links the
server gives (pagination, relationships, each resource's own ``links.self`` for PATCH and
DELETE), sends back what it fetched and reads a 204 without a body. It runs in its asyncio
mode, which reads a bodiless 204 as the specification says (its blocking mode parses every
answer as JSON, a 204 included).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import pytest
from jsonapi_client import Modifier, Session
from jsonapi_client.exceptions import DocumentError

from tests.support import factories as f
from tests.support import read_factories as rf
from wellapi.resources import SYSTEM_FIELDS
from welldev import api_keys
from welldev.serving import Served, serving

JSONAPI = "application/vnd.api+json"
# What the client needs to build a new resource: the members and which are relationships.
# The client checks every resource it reads against this, a sparse one too (a member left out
# reads as null).
SCHEMA = {
    "workspace_provider": {
        "properties": {
            "is_selected": {"type": ["boolean", "null"]},
            "is_matched": {"type": ["boolean", "null"]},
            **{name: {"type": ["string", "null"]} for name in SYSTEM_FIELDS},
            "workspace": {"relation": "to-one", "resource": ["workspace"]},
            "provider": {"relation": "to-one", "resource": ["provider"]},
        }
    }
}


@pytest.fixture(scope="module")
def running(api_database) -> Iterator[Served]:
    with serving(api_database, processes=0, log=io.StringIO()) as served:
        yield served


@pytest.fixture
def tenant(admin) -> tuple[f.Tenant, str]:
    t = f.tenant(admin)
    key = api_keys.create_key(
        admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="member", name="client"
    )[1]
    return t, key


def session(running: Served, key: str) -> Session:
    return Session(
        f"{running.server.url}/v1",
        enable_async=True,
        schema=SCHEMA,
        request_kwargs={"headers": {"Authorization": f"Bearer {key}", "Accept": JSONAPI}},
    )


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_the_client_lists_with_includes_and_sparse_fieldsets(running, admin, tenant):
    t, key = tenant
    row = rf.make_row(admin, t, "workspace_providers")
    provider = row.parents["provider"]
    assert provider is not None

    async def scenario() -> None:
        async with session(running, key) as s:
            query = (
                "include=provider&fields[provider]=name,slug"
                "&fields[workspace_provider]=is_selected,provider"
            )
            document = await s.get("workspace-providers", Modifier(query))
            [resource] = document.resources
            assert resource.id == str(row.id)
            assert set(resource.json["attributes"]) == {"is_selected"}
            assert resource.json["attributes"]["is_selected"] is True
            # The included provider is in the client's cache: no request loads it.
            [loaded] = await resource.relationships.provider.fetch()
            assert (loaded.type, loaded.id) == ("provider", str(provider[1]))
            assert set(loaded.json["attributes"]) == {"name", "slug"}

    run(scenario())


def test_the_client_follows_pagination_links_to_the_end(running, admin, tenant):
    t, key = tenant
    made = {str(rf.make_row(admin, t, "workspace_providers").id) for _ in range(23)}

    async def scenario() -> list[str]:
        async with session(running, key) as s:
            pages = s.iterate("workspace-providers", Modifier("page[size]=5"))
            return [resource.id async for resource in pages]

    seen = run(scenario())
    assert len(seen) == len(made)
    assert set(seen) == made


def test_the_client_loads_a_relationship_through_its_links(running, admin, tenant):
    t, key = tenant
    row = rf.make_row(admin, t, "account_workspace_connectors")
    account = row.parents["account"]
    assert account is not None

    async def scenario() -> None:
        async with session(running, key) as s:
            document = await s.get("account-workspace-connectors", str(row.id))
            relationship = document.resource.relationships.account
            related = await s.fetch_document_by_url_async(relationship.links.related.url)
            assert (related.resource.type, related.resource.id) == ("account", str(account[1]))
            assert set(related.resource.json["attributes"]) == {"account_type", "account_name"}
            linkage = await s.fetch_document_by_url_async(relationship.links.self.url)
            assert (linkage.resource.type, linkage.resource.id) == ("account", str(account[1]))
            assert linkage.links.related.url == relationship.links.related.url

    run(scenario())


def test_the_client_creates_updates_round_trips_and_deletes(running, admin, tenant):
    t, key = tenant
    provider = f.provider(admin)

    async def scenario() -> None:
        async with session(running, key) as s:
            created = s.create(
                "workspace_provider",
                fields={
                    "is_selected": False,
                    "is_matched": True,
                    "workspace": str(t.workspace_id),
                    "provider": str(provider[1]),
                },
            )
            # The client posts to /<type>; this API's collection is named by its path.
            await created.commit(f"{running.server.url}/v1/workspace-providers")
            assert created.id
            assert created.links.self.url.endswith(f"/v1/workspace-providers/{created.id}")

            fetched = (await s.get("workspace-providers", created.id)).resource
            assert fetched.json["attributes"]["is_selected"] is False

            # The client's own update: only the changed attribute, to the resource's self link.
            fetched["is_selected"] = True
            await fetched.commit()
            s.invalidate()
            again = await s.fetch_document_by_url_async(fetched.links.self.url)
            assert again.resource.json["attributes"]["is_selected"] is True

            # The resource sent back as the client holds it, read-only members included (the
            # client drops null members): a no-op that answers the row as it is.
            before = again.resource.json
            status, answer, _ = await s.http_request_async(
                "patch", fetched.links.self.url, {"data": before}
            )
            assert status == 200
            assert answer["data"]["attributes"] == {**before["attributes"], "deleted_at": None}

            fetched.delete()
            await fetched.commit()
            s.invalidate()
            with pytest.raises(DocumentError) as missing:
                await s.get("workspace-providers", created.id)
            assert missing.value.errors["status_code"] == 404

    run(scenario())
