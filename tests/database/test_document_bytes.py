"""Every kind of read document, byte for byte, against the bytes committed beside this file.

The other read tests compare parsed documents; these compare the text a client receives: the
order of members, the separators, how timestamps, integers, nulls, booleans and escaped text
are written, which members are left out, the links and the cursors inside them. A change of
how documents are made (by Python or by PostgreSQL) must leave every byte as it was.

The rows are made with fixed instants and names (ids are random: each UUID is replaced by
``<uuid N>`` in the order it first appears, and each cursor by its decoded content, so the
bytes compared are everything but the random ids; each resource's numbered on their own).
``WELLAPI_SNAPSHOT_UPDATE=1`` rewrites the committed file, for a change that means to alter
documents or a resource added.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support import factories as f
from tests.support import read_factories as rf
from tests.support import writes as w
from tests.support.api import related
from tests.support.read_factories import at, read

pytestmark = pytest.mark.usefixtures("api_database")

SNAPSHOT = Path(__file__).with_name("document_bytes.json")
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CURSOR_PATTERN = re.compile(r"(cursor|page\[after\]|page\[before\])=([A-Za-z0-9_-]+)")
# Names that make escaping show: quotes, a backslash, control characters, non-ASCII text, a
# character outside the Basic Multilingual Plane.
TRICKY = 'Zoë "Q" \\ back\tslash\nline \x01 \u2013 𝄞 ünïcode'


class Normaliser:
    """Random ids to stable placeholders, in the order they first appear across documents."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def _uuid(self, match: re.Match[str]) -> str:
        return self.seen.setdefault(match.group(0), f"<uuid {len(self.seen) + 1}>")

    def _cursor(self, match: re.Match[str]) -> str:
        token = match.group(2)
        decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        return f"{match.group(1)}=<cursor {UUID_PATTERN.sub(self._uuid, decoded)}>"

    def __call__(self, body: str) -> str:
        return UUID_PATTERN.sub(self._uuid, CURSOR_PATTERN.sub(self._cursor, body))


def _rename(admin: Any, table: str, column: str, pk: int, value: str | None) -> None:
    admin.run(f"UPDATE core_api.{table} SET {column} = :v WHERE pk = :pk", v=value, pk=pk)


def _documents(admin: Any) -> dict[str, str]:
    """Each request's name and the bytes of its answer, ids made stable."""
    t = f.tenant(admin, "Snapshot workspace")
    # Ids numbered afresh for each resource (a request's name starts with its key): a resource
    # added later adds its documents and changes no other's.
    normalisers: dict[str, Normaliser] = {}
    out: dict[str, str] = {}

    def keep(name: str, status: int, body: str) -> None:
        assert status < 300, (name, body)
        out[name] = normalisers.setdefault(name.split(" ", 1)[0], Normaliser())(body)

    _rename(admin, "workspaces", "name", t.workspace_pk, TRICKY)
    _rename(admin, "peoples", "last_name", t.person_pk, None)
    _rename(admin, "peoples", "first_name", t.person_pk, TRICKY)

    rows: dict[str, list[rf.Row]] = {}
    for resource in rf.PROVENANCE:
        record = f.record_of(t, resource)
        record_table = f.RECORD_TABLE[rf.RECORD[resource]]
        # A second record, soft-deleted: its row points at a record include leaves out.
        gone = f.record_of(t, resource)
        admin.run(
            f"UPDATE core_api.{record_table} SET deleted_at = now() WHERE pk = :pk", pk=gone[0]
        )
        rows[resource] = [
            rf.provenance(admin, t, resource, record=record, created_at=at(1)),
            # Microseconds, which a timestamp shows only when there are some (a ledger's
            # time is its id's millisecond).
            rf.provenance(admin, t, resource, record=record, created_at=at(2.0001234)),
            rf.provenance(admin, t, resource, record=gone, direction="output", created_at=at(3)),
        ]
    rows["workspace_group_workspaces"] = [
        rf.enrolment(admin, t, created_at=at(1)),
        rf.enrolment(admin, t, created_by=None, created_at=at(2.5)),
    ]
    bare, _ = f.provider(admin)
    admin.run(
        "UPDATE core_api.providers SET url = NULL, popularity_score = NULL WHERE pk = :pk",
        pk=bare,
    )
    rows["workspace_providers"] = [
        rf.workspace_provider(admin, t, created_at=at(1)),
        rf.workspace_provider(
            admin, t, provider=(bare, _), selected=False, matched=True, created_at=at(2)
        ),
    ]

    # Names the factories number from a counter the other tests of this process share.
    workspace = t.workspace_pk
    admin.run(
        "UPDATE core_api.accounts SET account_name = 'An account' WHERE workspace_pk = :w",
        w=workspace,
    )
    admin.run(
        "UPDATE core_api.companies SET name = 'A company' WHERE workspace_pk = :w", w=workspace
    )
    admin.run(
        "UPDATE core_api.peoples SET full_name = 'A person' WHERE workspace_pk = :w AND pk <> :p",
        w=workspace,
        p=t.person_pk,
    )
    admin.run(
        "UPDATE core_api.workspace_groups SET name = 'A group' WHERE created_by_pk = :p",
        p=t.person_pk,
    )
    listed = rows["workspace_providers"][0].parents["provider"]
    assert listed is not None
    # Slugs are unique: one an earlier run left in this database steps aside.
    admin.run(
        "UPDATE core_api.providers SET slug = slug || '-' || pk "
        "WHERE slug IN ('a-provider', 'a-tricky-provider')"
    )
    admin.run(
        "UPDATE core_api.providers SET name = 'A provider', slug = 'a-provider' "
        "WHERE provider_id = :a",
        a=listed[1],
    )
    admin.run(
        "UPDATE core_api.providers SET name = :n, slug = 'a-tricky-provider' WHERE pk = :b",
        n=TRICKY,
        b=bare,
    )

    claims = t.claims()
    for resource, made in rows.items():
        kind = rf.TYPES[resource]
        names = rf.RELATIONSHIPS[resource]
        everything = ",".join(names)
        first_parent = made[0].parents[names[0]]
        assert first_parent is not None
        queries = {
            "default": "",
            "include": f"include={everything}",
            "page1": "page[size]=1",
            "limit1": "limit=1&include=" + names[0],
            "sorted": f"sort=-created_at&include={names[-1]}",
            "sparse": f"fields[{kind}]=created_at,{names[0]}&include={names[0]}"
            f"&fields[{first_parent[0]}]=",
            "relationships_only": f"fields[{kind}]={names[-1]}",
            "attributes_only": f"fields[{kind}]=updated_at,deleted_at",
        }
        for label, query in queries.items():
            reply = read(resource, claims, query=query)
            keep(f"{resource} list {label}", reply.status, reply.body)
            links = reply.json["links"]
            if label in ("page1", "limit1") and links.get("next"):
                after = read(resource, claims, query=rf.follow(links["next"]))
                keep(f"{resource} list {label} next", after.status, after.body)
                back = read(resource, claims, query=rf.follow(after.json["links"]["prev"]))
                keep(f"{resource} list {label} next prev", back.status, back.body)
        for i, row in enumerate(made):
            reply = read(resource, claims, row_id=row.id, query=f"include={everything}")
            keep(f"{resource} retrieve {i}", reply.status, reply.body)
        reply = read(resource, claims, row_id=made[0].id, query=f"fields[{kind}]=")
        keep(f"{resource} retrieve empty fieldset", reply.status, reply.body)
        for name in names:
            for row_index, row in enumerate(made):
                reply = related(resource, claims, str(row.id), name)
                keep(f"{resource} related {name} {row_index}", reply.status, reply.body)
                reply = related(resource, claims, str(row.id), name, linkage=True)
                keep(f"{resource} relationship {name} {row_index}", reply.status, reply.body)

    # The providers' own timestamps are the moment this test made them: left out.
    untimed = "fields[provider]=name,slug,url,category,popularity_score,is_selected,is_matched"
    for label, query in {
        "catalog": f"filter[is_matched]=true&{untimed},workspace_provider",
        "catalog include": f"filter[is_matched]=true&include=workspace_provider&{untimed}",
        "catalog sparse": "filter[is_matched]=true&fields[provider]=name,url,is_selected",
    }.items():
        reply = w.catalog(claims, t.workspace_id, query)
        keep(label, reply.status, reply.body)
    return out


def test_every_read_document_keeps_its_bytes(admin):
    documents = _documents(admin)
    if os.environ.get("WELLAPI_SNAPSHOT_UPDATE") == "1":
        SNAPSHOT.write_text(json.dumps(documents, indent=1, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(SNAPSHOT.read_text("utf-8"))
    assert list(documents) == list(expected)
    for name, body in documents.items():
        assert body == expected[name], name
