"""Demo data for local runs: two workspaces and everything the five resources point at.

Running it again changes nothing: every row has a fixed public id (``seed_id``: a uuid5 of a
stable name) and is inserted with ``ON CONFLICT (<public id>) DO NOTHING``, all in one
transaction. Parents are referenced by public id and resolved to ``pk`` inside the INSERT, so
the internal keys never leave the database.

What is there, and why:

- Acme Finance and Globex Holdings, three people each; the first is the demo user, an active
  owner of their workspace. Ada (Acme) is also an active member of Globex, to try the
  ``workspace_id`` scope override;
- a global connector catalog and workspace connectors whose ``config`` holds a fake credential
  (the API must never return it);
- provenance rows in every ledger, both directions, several sync runs on the same record,
  and some soft-deleted ones (a ledger without rows written here gets generated records and
  rows: ``generated_links`` of ``demo.yaml``);
- a workspace group with both workspaces enrolled, Ada its owner and Grace a member;
- a provider catalog and workspace selections (``is_selected`` implies ``is_matched``), with
  one removed (soft-deleted, no longer selected).

API keys: ``IssuedKeys`` (what ``wellapi run`` and ``wellapi seed`` use) issues them inside the
seed's transaction: each demo user a member key for their workspace and the first demo user a
service key, named ``demo:<workspace>`` and ``demo:service``. A key's secret cannot be
recovered from its stored hash, so a key is reused only when the previous ``.local/demo.json``
holds it and it still authenticates (prefix and hash found, not revoked, for the same person,
workspace and kind); otherwise the old demo keys of that name are revoked and a new one is
issued. ``seed(conn)`` without ``IssuedKeys`` issues none (``null`` keys).

Putting the demo back as seeded after examples changed it (``wellapi seed --reset``):
``welldev.demo_reset``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pg8000.native
import yaml
from sqlalchemy import Table

from wellapi.domain import SCHEMA
from wellapi.http import keys
from wellapi.jsonapi.ids import id_at
from wellapi.resources import tables as schema
from wellapi.resources.description import Parent
from wellapi.resources.ledgers import LEDGER_RESOURCES, record_relationship
from welldev import api_keys, database

# Fixed for good: every seeded id derives from it, and events or docs may quote those ids.
SEED_NAMESPACE = uuid.UUID("5f2b8a1e-7c3d-5e4f-9a0b-1c2d3e4f5a6b")


# A ledger row's id carries its created_at (a version 7 UUID): the demo's rows were made this
# many hours (the last part of their key) before DEMO_TIME, in every seeded database.
DEMO_TIME = datetime(2026, 11, 1, tzinfo=UTC)
TIME_ORDERED = frozenset(r.table.name for r in LEDGER_RESOURCES if r.time_ordered_id)


def seed_id(table: str, key: str) -> uuid.UUID:
    """The public id the seed gives the row ``key`` of ``table`` (e.g. "workspaces", "acme"):
    a uuid5 of both, or of a ledger's, a version 7 UUID of its time with the uuid5's last bits."""
    named = uuid.uuid5(SEED_NAMESPACE, f"{table}/{key}")
    if table not in TIME_ORDERED:
        return named
    return id_at(int(seed_time(key).timestamp() * 1000), named.int)


def seed_time(key: str) -> datetime:
    """When the demo's ledger row ``key`` (``.../<hours>``) was made."""
    return DEMO_TIME - timedelta(hours=int(key.rpartition("/")[2]))


@dataclass(frozen=True)
class SeedRef:
    """A reference to a seeded row, resolved to its ``pk`` by the INSERT itself."""

    table: Table
    key: str

    @property
    def public_id(self) -> uuid.UUID:
        return seed_id(self.table.name, self.key)


@dataclass(frozen=True)
class SeedRow(SeedRef):
    columns: dict[str, Any]


# ---- the data ------------------------------------------------------------------------------------

# Every row of the demo, by table, in demo.yaml: data, which ``demo_rows`` makes rows of.
DEMO: dict[str, Any] = yaml.load(
    (Path(__file__).with_name("demo.yaml")).read_text("utf-8"), Loader=yaml.CSafeLoader
)
ACCOUNT_LINKS: list[list[Any]] = DEMO["links"]["account"]


def demo_rows(now: datetime) -> Iterator[SeedRow]:
    """Every row of the demo, parents before children."""
    # Each person's key by their name (``ada``: ``acme/ada``), in the workspace they belong to.
    people = {key.rpartition("/")[2]: key for key, *_ in DEMO["people"]}

    def ago(hours: int) -> datetime:
        return now - timedelta(hours=hours)

    def workspace(key: str) -> SeedRef:
        return SeedRef(schema.workspaces, key.partition("/")[0])

    def person(key: str) -> SeedRef:
        return SeedRef(schema.peoples, people[key.rpartition("/")[2]])

    for key, name, external_id in DEMO["workspaces"]:
        yield SeedRow(schema.workspaces, key, {"name": name, "external_workspace_id": external_id})
    for key, first, last in DEMO["people"]:
        names = {"first_name": first, "last_name": last, "full_name": f"{first} {last}"}
        yield SeedRow(schema.peoples, key, {"workspace_pk": workspace(key), **names})
    for key, role, status in DEMO["memberships"]:
        columns = {"person_pk": person(key), "role": role, "status": status}
        yield SeedRow(schema.memberships, key, {"workspace_pk": workspace(key), **columns})
    for key, name in DEMO["connectors"]:
        yield SeedRow(schema.connectors, key, {"name": name, "provider": key})
    for key, status in DEMO["workspace_connectors"]:
        catalog = SeedRef(schema.connectors, key.partition("/")[2])
        # A fake credential: proves the API never returns config.
        slug = key.replace("/", "-")
        config = {"client_id": f"demo-{slug}", "secret": f"demo-secret-{slug}-never-returned"}
        columns = {"connector_pk": catalog, "status": status, "config": config}
        yield SeedRow(schema.workspace_connectors, key, {"workspace_pk": workspace(key), **columns})
    for table, named, rows in (
        (schema.accounts, ("type", "account_name", "account_external_id"), DEMO["accounts"]),
        (schema.companies, ("name", "domain"), DEMO["companies"]),
    ):
        for key, *values in rows:
            own = dict(zip(named, values, strict=True))
            yield SeedRow(table, key, {"workspace_pk": workspace(key), **own})
    for resource in LEDGER_RESOURCES:
        ledger, record = schema.table(resource.table.name), record_relationship(resource)
        record_table = schema.table(record.parent.table.name)
        links = DEMO["links"].get(record.name)
        if links is None:
            links = generated_links(record.parent)
            yield from _generated_records(record.parent, record_table, links)
        for key, connector, direction, hours, deleted in links:
            row = f"{key}/{connector}/{direction}/{hours}"
            made = seed_time(row)  # its id's: its created_at
            columns = {
                record.column: SeedRef(record_table, key),
                "workspace_connector_pk": SeedRef(schema.workspace_connectors, connector),
                "direction": direction,
                "created_at": made,
                "deleted_at": made + timedelta(hours=1) if deleted else None,
            }
            yield SeedRow(ledger, row, columns)
    group_key, name, creator_key = DEMO["group"]
    group = {"workspace_group_pk": SeedRef(schema.workspace_groups, group_key)}
    creator = person(creator_key)
    yield SeedRow(schema.workspace_groups, group_key, {"name": name, "created_by_pk": creator})
    for key in DEMO["group_workspaces"]:
        enrolment = {**group, "workspace_pk": workspace(key), "created_by_pk": creator}
        yield SeedRow(schema.workspace_group_workspaces, f"{group_key}/{key}", enrolment)
    for key, role in DEMO["group_members"]:
        membership = {**group, "person_pk": person(key), "role": role}
        yield SeedRow(schema.workspace_group_memberships, f"{group_key}/{key}", membership)
    for slug, name, url, category, popularity in DEMO["providers"]:
        columns = {"name": name, "slug": slug, "url": url, "category": category}
        yield SeedRow(schema.providers, slug, {**columns, "popularity_score": popularity})
    for key, selected, matched, removed in DEMO["workspace_providers"]:
        columns = {
            "provider_pk": SeedRef(schema.providers, key.partition("/")[2]),
            "is_selected": selected,
            "is_matched": matched,
            "deleted_at": ago(2) if removed else None,
        }
        yield SeedRow(schema.workspace_providers, key, {"workspace_pk": workspace(key), **columns})


def generated_links(parent: Parent) -> tuple[tuple[str, str, str, int, bool], ...]:
    """``generated_links`` of demo.yaml, each record's key naming its type: ``acme/1`` of
    documents is ``acme/document-1``."""
    return tuple(
        (key.replace("/", f"/{parent.type}-"), connector, direction, hours, deleted)
        for key, connector, direction, hours, deleted in DEMO["generated_links"]
    )


def _generated_records(parent: Parent, table: Table, links: Any) -> Iterator[SeedRow]:
    label = parent.type.replace("_", " ").capitalize()
    for key in dict.fromkeys(link[0] for link in links):
        workspace, name = key.split("/")
        values: dict[str, Any] = {"workspace_pk": SeedRef(schema.workspaces, workspace)}
        for a in parent.attributes:
            if a.kind == "string":
                values[a.column] = f"{label} {name.rpartition('-')[2]} of {workspace}"
            elif a.kind == "enum" and not a.nullable:
                values[a.column] = a.enum[0]
        yield SeedRow(table, key, values)


# ---- writing it ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoMember:
    """A workspace's demo user: the identity a demo API key stands for."""

    workspace_id: uuid.UUID
    name: str  # the workspace's name
    person_id: uuid.UUID
    key: str  # the workspace's seed key ("acme"): names its demo key, "demo:acme"

    def new_key(self, conn: pg8000.native.Connection, kind: str, name: str) -> str:
        """A new API key of ``kind`` ("member", "service") for this user and workspace."""
        return api_keys.create_key(
            conn, person_id=self.person_id, workspace_id=self.workspace_id, kind=kind, name=name
        )[1]


class IssuedKeys:
    """Real demo keys: the previous run's (``previous``, the last ``.local/demo.json`` read by
    ``demo_file.read_demo``) when they still authenticate, else new ones."""

    def __init__(self, previous: Mapping[str, Any] | None = None) -> None:
        previous = previous or {}
        workspaces = previous.get("workspaces")
        # The previous keys, by the workspace they were for, or "service".
        self._previous = {
            str(entry.get("workspace_id")): entry.get("api_key")
            for entry in (workspaces if isinstance(workspaces, list) else ())
            if isinstance(entry, dict)
        }
        self._previous["service"] = previous.get("service_key")
        self.reused: list[str] = []  # names of the keys kept from the previous run
        self.issued: list[str] = []  # names of the keys issued by this run

    def member_key(self, conn: pg8000.native.Connection, member: DemoMember) -> str:
        return self._key(conn, f"demo:{member.key}", member, "member", str(member.workspace_id))

    def service_key(self, conn: pg8000.native.Connection) -> str:
        return self._key(conn, "demo:service", demo_members()[0], "service", "service")

    def _key(
        self, conn: pg8000.native.Connection, name: str, member: DemoMember, kind: str, slot: str
    ) -> str:
        previous = self._previous.get(slot)
        parsed = keys.parse_key(previous) if isinstance(previous, str) else None
        # The previous key is kept when it authenticates as this demo key; any other live key of
        # this name is a demo key whose secret is lost: revoked.
        kept = conn.run(
            f"WITH kept AS (SELECT k.api_key_id FROM {SCHEMA}.api_keys k "
            f"JOIN {SCHEMA}.peoples p ON p.pk = k.person_pk "
            f"JOIN {SCHEMA}.workspaces w ON w.pk = k.workspace_pk "
            "WHERE k.prefix = :prefix AND k.secret_hash = :hash "
            "AND k.revoked_at IS NULL AND k.deleted_at IS NULL "
            "AND p.deleted_at IS NULL AND w.deleted_at IS NULL "
            "AND k.name = :name AND k.kind::text = :kind AND p.person_id = CAST(:person AS uuid) "
            "AND w.workspace_id = CAST(:workspace AS uuid)), "
            f"revoked AS (UPDATE {SCHEMA}.api_keys SET revoked_at = now() WHERE name = :name "
            "AND revoked_at IS NULL AND deleted_at IS NULL "
            "AND api_key_id NOT IN (SELECT api_key_id FROM kept)) "
            "SELECT count(*) FROM kept",
            prefix=parsed.prefix if parsed else None,
            hash=parsed.secret_hash if parsed else None,
            name=name,
            kind=kind,
            person=str(member.person_id),
            workspace=str(member.workspace_id),
        )
        if kept[0][0]:
            self.reused.append(name)
            return str(previous)
        key = member.new_key(conn, kind, name)
        self.issued.append(name)
        return key


@dataclass(frozen=True)
class Demo:
    members: tuple[tuple[DemoMember, str | None], ...]  # each demo user and their API key
    service_key: str | None

    def document(self, base_url: str) -> dict[str, Any]:
        """The content of ``.local/demo.json``."""
        return {
            "base_url": base_url,
            "workspaces": [
                {
                    "workspace_id": str(member.workspace_id),
                    "name": member.name,
                    "person_id": str(member.person_id),
                    "api_key": key,
                }
                for member, key in self.members
            ],
            "service_key": self.service_key,
        }


def demo_members() -> tuple[DemoMember, ...]:
    first_person = {key.partition("/")[0]: key for key, *_ in reversed(DEMO["people"])}
    return tuple(
        DemoMember(
            workspace_id=seed_id(schema.workspaces.name, key),
            name=name,
            person_id=seed_id(schema.peoples.name, first_person[key]),
            key=key,
        )
        for key, name, _ in DEMO["workspaces"]
    )


def seed(conn: pg8000.native.Connection, keys: IssuedKeys | None = None) -> Demo:
    """Insert the demo rows that are missing, in one transaction, and issue the demo keys."""
    with transaction(conn):
        # The ledger rows' periods, from theirs (as the owner, who runs the seed).
        database.make_ledger_periods(conn, since=DEMO_TIME - timedelta(days=31))
        for row in demo_rows(datetime.now(UTC)):
            write_row(conn, row)
        return issue(conn, keys)


@contextmanager
def transaction(conn: pg8000.native.Connection) -> Iterator[None]:
    conn.run("START TRANSACTION")
    try:
        yield
        conn.run("COMMIT")
    except BaseException:
        conn.run("ROLLBACK")
        raise


def issue(conn: pg8000.native.Connection, keys: IssuedKeys | None) -> Demo:
    """The demo users and their keys, issued by ``keys`` (None: no keys)."""
    members = demo_members()
    if keys is None:
        return Demo(tuple((m, None) for m in members), None)
    return Demo(tuple((m, keys.member_key(conn, m)) for m in members), keys.service_key(conn))


def write_row(conn: pg8000.native.Connection, row: SeedRow, *, restore: bool = False) -> int:
    """Insert ``row`` unless its public id is taken (a parent by its public id, resolved to its
    ``pk`` by a subquery); with ``restore``, set the row there back to it (``demo_reset``).
    1 when anything changed, else 0."""
    id_column = schema.public_id_column(row.table)
    values, params = [":p0"], {"p0": row.public_id}
    for index, value in enumerate(row.columns.values(), start=1):
        values.append(f":p{index}")
        params[f"p{index}"] = value
        if isinstance(value, SeedRef):
            params[f"p{index}"] = value.public_id
            where = f"{schema.public_id_column(value.table)} = :p{index}"
            values[-1] = f"(SELECT pk FROM {SCHEMA}.{value.table.name} WHERE {where})"
    done = "DO NOTHING"
    if restore:
        # created_at is the row's own: the touch_row trigger keeps it on update.
        kept = [c for c in row.columns if c not in ("created_at", "deleted_at")]
        assignments = [f"{c} = EXCLUDED.{c}" for c in kept]
        # Live as seeded, or soft-deleted as seeded (keeping the time it was deleted at).
        assignments.append(
            "deleted_at = CASE WHEN EXCLUDED.deleted_at IS NULL THEN NULL "
            "ELSE coalesce(target.deleted_at, EXCLUDED.deleted_at) END"
        )
        there = ", ".join([*(f"target.{c}" for c in kept), "target.deleted_at IS NULL"])
        seeded = ", ".join([*(f"EXCLUDED.{c}" for c in kept), "EXCLUDED.deleted_at IS NULL"])
        done = f"DO UPDATE SET {', '.join(assignments)} WHERE ROW({there})"
        done += f" IS DISTINCT FROM ROW({seeded})"
    changed = conn.run(
        f"INSERT INTO {SCHEMA}.{row.table.name} AS target ({', '.join([id_column, *row.columns])}) "
        f"VALUES ({', '.join(values)}) ON CONFLICT ({id_column}) {done} RETURNING 1",
        **params,
    )
    return len(changed)
