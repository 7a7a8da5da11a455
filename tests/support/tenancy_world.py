"""One dataset on which the three writings of the tenancy rule are compared.

The rule is written three times: the engine's queries
(``wellapi.sqltext.reads.scope_condition``, the resources' conditions), the row-level-security
policies (``<table>_api``) and the sync writer's own SQL (``wellapi.sync.batches``).
``tests/database/test_tenancy_rule.py`` asks each of them, on this data, which rows (or which
ledger links) every principal may touch.

Four workspaces (the fourth soft-deleted once its rows exist), each with a person who is its
active owner (and, in w1 and w3, a viewer and an admin: every workspace role), records of every
kind (live and soft-deleted), connectors (one workspace has a soft-deleted one, another a second
live one), ledger rows (live, soft-deleted, pointing at a soft-deleted record or connector),
provider selections (of a provider two workspaces share, soft-deleted ones) and three groups
whose enrolments and memberships cross workspaces: a person who belongs to a group without
belonging to an enrolled workspace, every group role, a soft-deleted group membership, a
soft-deleted enrolment, a group enrolling the deleted workspace. A ledger row whose record and
connector sit in two workspaces cannot exist (the ``<ledger>_parents_agree_on_*`` triggers), so
crossed ledger links are compared as candidates instead (``pairs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pg8000.native

from tests.support import factories as f
from tests.support import read_factories as rf
from wellapi.resources import RESOURCES

Ref = tuple[int, UUID]  # (internal pk, public id)
LEDGERS = f.PROVENANCE_RECORD
RECORD_TABLE = f.RECORD_TABLE
RECORD_ID = {parent.type: parent.id_column for parent in f.LEDGER_PARENT.values()}
RESOURCE_KEYS = tuple(RESOURCES)


@dataclass(frozen=True)
class Principal:
    """Whose scope is asked: a person's key of a kind, naming a workspace."""

    label: str
    person: Ref
    workspace: Ref
    kind: str  # "member" | "service"
    # Whether ``set_scope`` resolves it (an active membership, or any live workspace for a
    # service): the API answers 403 otherwise, and neither wall may show anything.
    resolves: bool


@dataclass
class World:
    workspaces: dict[str, Ref]
    live_workspaces: tuple[str, ...]
    connectors: dict[str, Ref]  # label -> connector; the label starts with its workspace
    connector_workspace: dict[str, str]
    deleted_connectors: frozenset[str]
    # record type -> label -> record; the label starts with its workspace
    records: dict[str, dict[str, Ref]]
    deleted_records: frozenset[str]
    groups: dict[str, Ref]
    providers: dict[str, Ref]  # "shared" (selected by w1, w2, w4), "free" (by nobody)
    principals: tuple[Principal, ...]
    # Principals that resolve, by kind: one member scope per live workspace is enough for
    # the ledger links (a ledger's rule looks at the workspace, never at the person).
    member_of_workspace: dict[str, Principal] = field(default_factory=dict)
    # resource -> the rows the dataset was built with (public id -> live then): what the
    # updates and removals are asked of, whatever later tests add.
    built: dict[str, dict[UUID, bool]] = field(default_factory=dict)

    def pairs(self, record_type: str) -> list[tuple[str, str]]:
        """Every (connector label, record label) link of one record type the data allows to
        ask for: crossed, soft-deleted and in the deleted workspace included."""
        return [(c, r) for c in sorted(self.connectors) for r in sorted(self.records[record_type])]

    def enrolments(self) -> list[tuple[str, str]]:
        """Every (group, workspace) a principal may ask to enrol, live enrolments included."""
        return [(g, w) for g in sorted(self.groups) for w in sorted(self.workspaces)]

    def selections(self) -> list[tuple[str, str]]:
        """Every (workspace, provider) a principal may ask to select, live ones included."""
        return [(w, p) for w in sorted(self.workspaces) for p in sorted(self.providers)]

    def workspace_pks(self) -> list[int]:
        return [pk for pk, _ in self.workspaces.values()]


def _soft_delete(conn: pg8000.native.Connection, table: str, pk: int) -> None:
    conn.run(f"UPDATE core_api.{table} SET deleted_at = now() WHERE pk = :pk", pk=pk)


def _membership(
    conn: pg8000.native.Connection, person_pk: int, workspace_pk: int, status: str
) -> None:
    conn.run(
        "INSERT INTO core_api.memberships (workspace_pk, person_pk, role, status) "
        "VALUES (:w, :p, 'member', CAST(:s AS core_api.membership_status_enum))",
        w=workspace_pk,
        p=person_pk,
        s=status,
    )


def build(conn: pg8000.native.Connection) -> World:
    tenants = {label: f.tenant(conn, f"Tenancy {label}") for label in ("w1", "w2", "w3", "w4")}
    ws = {label: (t.workspace_pk, t.workspace_id) for label, t in tenants.items()}
    person = {label: (t.person_pk, t.person_id) for label, t in tenants.items()}
    connectors = _connectors(tenants)
    records = _records(tenants)
    _ledger_rows(conn, tenants, connectors, records)
    _memberships(conn, ws, person)
    groups = _groups(conn, person)
    # The roles no owner holds: a viewer of w1 who is a guest of g1, an admin of w3 who is an
    # admin of g1 (which enrols w3) too.
    viewer = tenants["w1"].member(role="viewer")
    f.group_member(conn, groups["g1"][0], viewer[0], "guest")
    admin = tenants["w3"].member(role="admin")
    f.group_member(conn, groups["g1"][0], admin[0], "admin")
    _enrolments(conn, groups, ws, person)
    shared = _selections(conn, ws)
    deleted_records = frozenset(
        label for kind in records.values() for label in kind if label.endswith("r-deleted")
    )
    for kind, table in RECORD_TABLE.items():
        for label in deleted_records:
            _soft_delete(conn, table, records[kind][label][0])
    _soft_delete(conn, "workspace_connectors", connectors["w1/c-deleted"][0])
    _soft_delete(conn, "workspaces", ws["w4"][0])
    person["w1 viewer"], person["w3 admin"] = viewer, admin
    principals = _principals(ws, person)
    world = World(
        workspaces=ws,
        live_workspaces=("w1", "w2", "w3"),
        connectors=connectors,
        connector_workspace={label: label.split("/")[0] for label in connectors},
        deleted_connectors=frozenset({"w1/c-deleted"}),
        records=records,
        deleted_records=deleted_records,
        groups=groups,
        providers={"shared": shared, "free": f.provider(conn)},
        principals=principals,
    )
    for p in principals:
        where = next(w for w, ref in ws.items() if ref == p.workspace)
        if p.kind == "member" and p.resolves:
            world.member_of_workspace.setdefault(where, p)
    world.built = {resource: universe(conn, world, resource) for resource in UNIVERSE}
    return world


def _connectors(tenants: dict[str, f.Tenant]) -> dict[str, Ref]:
    """Each workspace's connector, w1's second (to be soft-deleted) and w2's second live one."""
    connectors = {
        f"{w}/c": (t.workspace_connector_pk, t.workspace_connector_id) for w, t in tenants.items()
    }
    connectors["w1/c-deleted"] = tenants["w1"].workspace_connector()
    connectors["w2/c-second"] = tenants["w2"].workspace_connector()
    return connectors


def _records(tenants: dict[str, f.Tenant]) -> dict[str, dict[str, Ref]]:
    """Three records of every kind in every workspace: r1, r2 and r-deleted (soft-deleted last)."""
    records: dict[str, dict[str, Ref]] = {kind: {} for kind in LEDGERS.values()}
    for w, t in tenants.items():
        for table, kind in LEDGERS.items():
            for n in ("r1", "r2", "r-deleted"):
                records[kind][f"{w}/{n}"] = f.record_of(t, table)
    return records


def _ledger_rows(
    conn: pg8000.native.Connection,
    tenants: dict[str, f.Tenant],
    connectors: dict[str, Ref],
    records: dict[str, dict[str, Ref]],
) -> None:
    """Ledger rows, written before anything is soft-deleted (as the sync pipeline would have)."""
    for ledger, kind in LEDGERS.items():
        for w in tenants:
            c = connectors[f"{w}/c"]
            rf.provenance(conn, tenants[w], ledger, record=records[kind][f"{w}/r1"], connector=c)
            rf.provenance(
                conn,
                tenants[w],
                ledger,
                record=records[kind][f"{w}/r2"],
                connector=c,
                deleted=True,
            )
            rf.provenance(
                conn, tenants[w], ledger, record=records[kind][f"{w}/r-deleted"], connector=c
            )
        rf.provenance(
            conn,
            tenants["w1"],
            ledger,
            record=records[kind]["w1/r2"],
            connector=connectors["w1/c-deleted"],
            direction="output",
        )
        rf.provenance(
            conn,
            tenants["w2"],
            ledger,
            record=records[kind]["w2/r2"],
            connector=connectors["w2/c-second"],
            direction="output",
        )


def _memberships(
    conn: pg8000.native.Connection, ws: dict[str, Ref], person: dict[str, Ref]
) -> None:
    """Memberships beyond each owner's own: several workspaces, pending, revoked."""
    _membership(conn, person["w1"][0], ws["w2"][0], "active")  # w1's person in two workspaces
    _membership(conn, person["w2"][0], ws["w1"][0], "pending")
    _membership(conn, person["w3"][0], ws["w1"][0], "active")
    conn.run(
        "UPDATE core_api.memberships SET deleted_at = now() "
        "WHERE person_pk = :p AND workspace_pk = :w",
        p=person["w3"][0],
        w=ws["w1"][0],
    )


def _groups(conn: pg8000.native.Connection, person: dict[str, Ref]) -> dict[str, Ref]:
    """Three groups and their owners' and members' memberships."""
    groups = {
        "g1": f.group(conn, "Tenancy g1", created_by_pk=person["w1"][0]),
        "g2": f.group(conn, "Tenancy g2", created_by_pk=person["w2"][0]),
        "g3": f.group(conn, "Tenancy g3"),
    }
    f.group_member(conn, groups["g1"][0], person["w1"][0], "owner")
    f.group_member(conn, groups["g2"][0], person["w2"][0], "admin")
    f.group_member(conn, groups["g2"][0], person["w3"][0], "member")  # not in w2 or w4
    return groups


def _enrolments(
    conn: pg8000.native.Connection,
    groups: dict[str, Ref],
    ws: dict[str, Ref],
    person: dict[str, Ref],
) -> None:
    """A soft-deleted group membership, and the enrolments: live, soft-deleted, of the
    workspace to be deleted."""
    rf.group_membership(conn, groups["g2"][0], person["w1"][0], deleted=True)
    f.enrol(conn, groups["g1"][0], ws["w1"][0], person["w1"][0])
    f.enrol(conn, groups["g1"][0], ws["w3"][0], person["w1"][0])
    f.enrol(conn, groups["g1"][0], ws["w2"][0], person["w1"][0], deleted=True)
    f.enrol(conn, groups["g2"][0], ws["w2"][0], person["w2"][0])
    f.enrol(conn, groups["g2"][0], ws["w4"][0], None)
    f.enrol(conn, groups["g3"][0], ws["w3"][0], None)


def _selections(conn: pg8000.native.Connection, ws: dict[str, Ref]) -> Ref:
    """The provider selections; the provider w1, w2 and w4 select, which is returned."""
    shared = f.provider(conn)
    for w in ("w1", "w2", "w4"):
        f.workspace_provider(conn, ws[w][0], shared[0])
        f.workspace_provider(conn, ws[w][0], f.provider(conn)[0], selected=False)
    f.workspace_provider(conn, ws["w3"][0], shared[0], deleted=True)
    f.workspace_provider(conn, ws["w3"][0], f.provider(conn)[0], matched=False, selected=False)
    return shared


def _principals(ws: dict[str, Ref], person: dict[str, Ref]) -> tuple[Principal, ...]:
    """Every principal whose scope is asked, those that do not resolve included."""

    def member(label: str, who: str, where: str, resolves: bool) -> Principal:
        return Principal(label, person[who], ws[where], "member", resolves)

    return (
        member("w1's owner in w1", "w1", "w1", True),
        member("w1's owner in w2, where they are a member too", "w1", "w2", True),
        member("w2's owner (a group admin) in w2", "w2", "w2", True),
        member("w3's owner (a member of a group without w3) in w3", "w3", "w3", True),
        member("w2's owner in w1, where the membership is pending", "w2", "w1", False),
        member("w3's owner in w1, where the membership was revoked", "w3", "w1", False),
        member("w3's owner in w2, with no membership there", "w3", "w2", False),
        member("w4's owner in w4, a deleted workspace", "w4", "w4", False),
        member("w1's viewer (a guest of g1) in w1", "w1 viewer", "w1", True),
        member("w3's admin (an admin of g1) in w3", "w3 admin", "w3", True),
        Principal("a service key in w2", person["w2"], ws["w2"], "service", True),
        Principal(
            "a service key in w4, a deleted workspace", person["w4"], ws["w4"], "service", False
        ),
    )


BY_CONNECTOR = (
    "SELECT {id} FROM core_api.{table} t JOIN core_api.workspace_connectors wc "
    "ON wc.pk = t.workspace_connector_pk WHERE wc.workspace_pk = ANY(CAST(:w AS bigint[]))"
)
BY_WORKSPACE = (
    "SELECT {id} FROM core_api.{table} t WHERE t.workspace_pk = ANY(CAST(:w AS bigint[]))"
)
UNIVERSE = {
    **dict.fromkeys(LEDGERS, BY_CONNECTOR),
    "workspace_group_workspaces": BY_WORKSPACE,
    "workspace_providers": BY_WORKSPACE,
}


def universe(conn: pg8000.native.Connection, world: World, resource: str) -> dict[UUID, bool]:
    """Every row of ``resource`` in the world's workspaces now (rows the tests add included),
    read by the admin, whom row-level security ignores: public id -> whether it is live."""
    r = RESOURCES[resource]
    sql = UNIVERSE[resource].format(id=f"t.{r.id_column}, t.deleted_at IS NULL", table=r.table.name)
    rows: list[Any] = conn.run(sql, w=world.workspace_pks())
    return {UUID(str(row_id)): bool(live) for row_id, live in rows}
