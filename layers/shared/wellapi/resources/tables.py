"""The tables of schema ``core_api``: the one definition of every column, index and constraint.

The Alembic migrations create the schema; these SQLAlchemy Core tables describe it (they are
Alembic's ``target_metadata``), and a test fails when the two drift apart. Only the migration
function, the local toolkit and the tests load them: a request's SQL is composed as text from
the resources' descriptions (``wellapi.sqltext``), which name tables and columns the tests hold
to these. Core, not ORM classes: nothing needs ``sqlalchemy.orm``. Defining the tables loads
SQLAlchemy's PostgreSQL dialect (the partial indexes' ``postgresql_where`` and ``JSONB`` need
it), which Alembic's engine needs anyway.

Every table but the sync pipeline's own and ``change_records`` has an internal identity
``pk`` (never exposed), a public UUID (``public_id_column(table)`` names it;
``<singular>_id``), and ``created_at`` / ``updated_at`` / ``deleted_at`` (``updated_at`` is
maintained by a trigger, so every write keeps it).
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    UUID,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import UserDefinedType

from wellapi.domain import (
    CHANGE_IDS,
    SCHEMA,
    AccountType,
    ActorKind,
    ChangeKind,
    ConnectorProvider,
    Direction,
    GroupRole,
    MembershipRole,
    MembershipStatus,
    ProviderCategory,
    WorkspaceConnectorStatus,
)
from wellapi.resources import CHANGE_RESOURCE_TYPES
from wellapi.resources.ledgers import RECORD_TYPES

# PostgreSQL's own default names, so the migrations and these tables name constraints alike.
NAMING = {
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_name)s_key",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "ix": "ix_%(table_name)s_%(column_0_name)s",
}

metadata = MetaData(schema=SCHEMA, naming_convention=NAMING)

_PUBLIC_ID = "public_id"


def public_id_column(table: Table) -> str:
    """The column holding the table's public UUID (the JSON:API id)."""
    return str(table.info[_PUBLIC_ID])


def table(name: str) -> Table:
    """A table of the API's schema by its name (``wellapi.resources.TableRef``)."""
    return metadata.tables[f"{SCHEMA}.{name}"]


def _enum(py_enum: type[enum.Enum], name: str) -> Enum:
    return Enum(
        py_enum,
        name=name,
        schema=SCHEMA,
        values_callable=lambda members: [m.value for m in members],
        create_type=False,
        validate_strings=True,
    )


def _fk(name: str, target: str, *, nullable: bool = False, **actions: Any) -> Column[int]:
    return Column(
        name, BigInteger, ForeignKey(f"{SCHEMA}.{target}.pk", **actions), nullable=nullable
    )


def _table(
    name: str,
    id_column: str,
    *items: SchemaItem,
    new_id: str = "gen_random_uuid()",
    time_ordered: bool = False,
) -> Table:
    """A table with the columns every row has, in the order the migrations created them.

    ``time_ordered``: a ledger's, whose id carries its created_at (set from it on insert) and
    which is partitioned on the id, a period a partition; its key is then (pk, id)."""
    # Indexes and constraints go last: they may name the common columns, which come after.
    columns = [item for item in items if isinstance(item, Column)]
    others = [item for item in items if not isinstance(item, Column)]
    created_default = None if time_ordered else func.now()
    if time_ordered:
        others += [
            PrimaryKeyConstraint("pk", id_column, name=f"{name}_pkey"),
            CheckConstraint(
                f"created_at = core_api.uuid_time({id_column})",
                name=f"{name}_created_at_is_the_id_time",
            ),
        ]
    return Table(
        name,
        metadata,
        Column(
            id_column,
            UUID(as_uuid=True),
            nullable=False,
            unique=True,
            server_default=text(new_id),
        ),
        *columns,
        Column("pk", BigInteger, Identity(), primary_key=not time_ordered),
        Column(
            "created_at", DateTime(timezone=True), nullable=False, server_default=created_default
        ),
        Column("updated_at", DateTime(timezone=True)),
        Column("deleted_at", DateTime(timezone=True)),
        *others,
        info={_PUBLIC_ID: id_column},
        postgresql_partition_by=f"RANGE ({id_column})" if time_ordered else None,
    )


def _live_unique(name: str, *columns: str) -> Index:
    """At most one live (not soft-deleted) row per ``columns``."""
    return Index(name, *columns, unique=True, postgresql_where=text("deleted_at IS NULL"))


def _one_of(column: str, values: Any) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


workspaces = _table(
    "workspaces",
    "workspace_id",
    Column("name", Text, nullable=False),
    Column("external_workspace_id", Text, unique=True),
    _fk("parent_workspace_pk", "workspaces", nullable=True),
)

peoples = _table(
    "peoples",
    "person_id",
    _fk("workspace_pk", "workspaces"),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("full_name", Text, nullable=False),
    Index("idx_peoples_workspace", "workspace_pk"),
)

workspace_groups = _table(
    "workspace_groups",
    "workspace_group_id",
    Column("name", String(255), nullable=False),
    _fk("created_by_pk", "peoples", nullable=True, ondelete="SET NULL"),
)

workspace_group_memberships = _table(
    "workspace_group_memberships",
    "workspace_group_membership_id",
    _fk("person_pk", "peoples"),
    _fk("workspace_group_pk", "workspace_groups"),
    Column(
        "role",
        _enum(GroupRole, "workspace_group_role_enum"),
        nullable=False,
        server_default=GroupRole.MEMBER.value,
    ),
    _live_unique(
        "workspace_group_memberships_person_group_active_unique", "person_pk", "workspace_group_pk"
    ),
    Index("idx_workspace_group_memberships_group", "workspace_group_pk"),
)

memberships = _table(
    "memberships",
    "membership_id",
    _fk("workspace_pk", "workspaces"),
    _fk("person_pk", "peoples"),
    Column(
        "role",
        _enum(MembershipRole, "membership_role_enum"),
        nullable=False,
        server_default=MembershipRole.MEMBER.value,
    ),
    Column(
        "status",
        _enum(MembershipStatus, "membership_status_enum"),
        nullable=False,
        server_default=MembershipStatus.PENDING.value,
    ),
    _live_unique("memberships_person_workspace_active_unique", "person_pk", "workspace_pk"),
    Index("idx_memberships_workspace", "workspace_pk"),
)

connectors = _table(
    "connectors",
    "connector_id",
    Column("name", Text, nullable=False),
    Column("provider", _enum(ConnectorProvider, "connector_provider_enum"), nullable=False),
)

workspace_connectors = _table(
    "workspace_connectors",
    "workspace_connector_id",
    _fk("workspace_pk", "workspaces"),
    _fk("connector_pk", "connectors"),
    Column(
        "status",
        _enum(WorkspaceConnectorStatus, "workspace_connector_status_enum"),
        nullable=False,
        server_default=WorkspaceConnectorStatus.TO_CONFIGURE.value,
    ),
    # Connector credentials: never selected by the API.
    Column("config", JSONB),
    Index("idx_workspace_connectors_workspace", "workspace_pk"),
)

accounts = _table(
    "accounts",
    "account_id",
    _fk("workspace_pk", "workspaces"),
    Column(
        "type",
        _enum(AccountType, "account_type_enum"),
        nullable=False,
        server_default=AccountType.OTHER.value,
    ),
    Column("account_name", Text),
    Column("account_external_id", Text),
    _live_unique(
        "accounts_workspace_external_id_active_unique", "workspace_pk", "account_external_id"
    ),
)

companies = _table(
    "companies",
    "company_id",
    _fk("workspace_pk", "workspaces"),
    Column("name", Text, nullable=False),
    Column("domain", Text),
    Index("idx_companies_workspace", "workspace_pk"),
)

providers = _table(
    "providers",
    "provider_id",
    Column("name", Text, nullable=False),
    Column("slug", Text, nullable=False, unique=True),
    Column("url", Text),
    Column(
        "category",
        _enum(ProviderCategory, "provider_category_enum"),
        nullable=False,
        server_default=ProviderCategory.GENERAL.value,
    ),
    Column("popularity_score", Integer),
)

# One type for the three ledgers' `direction`, as in the database.
_DIRECTION = _enum(Direction, "direction_enum")


def _provenance_table(record: str, record_table: str) -> Table:
    """A provenance ledger: which workspace connector touched a record, and which way.

    No ``workspace_pk``: scope comes through both parents. No unique key on
    (record, connector, direction): every sync run that touches a record leaves its own row.
    """
    name = f"{record}_workspace_connectors"
    record_pk = f"{record}_pk"
    id_column = f"{record}_workspace_connector_id"
    return _table(
        name,
        id_column,
        _fk(record_pk, record_table, onupdate="CASCADE"),
        Column("direction", _DIRECTION, nullable=False),
        _fk("workspace_connector_pk", "workspace_connectors", onupdate="CASCADE"),
        # When the link happened, as its sync message said; NULL (a row written over HTTP) is
        # older than any message. An unlink removes rows that occurred before it.
        Column("occurred_at", DateTime(timezone=True)),
        Index(f"idx_{name}_record", record_pk, id_column),
        Index(f"idx_{name}_wc", "workspace_connector_pk", id_column),
        *_per_parent_indexes(
            f"idx_{name}_wc",
            "workspace_connector_pk",
            id_column,
            {d.value: f"deleted_at IS NULL AND direction = '{d.value}'" for d in Direction},
        ),
        *_per_parent_indexes(
            f"idx_{name}_record", record_pk, id_column, {"live": "deleted_at IS NULL"}
        ),
        # Time-ordered, so new rows land on the public id index's last pages, and the row's
        # time is the id's.
        new_id="core_api.uuid_v7()",
        time_ordered=True,
    )


def _per_parent_indexes(
    prefix: str, key: str, id_column: str, parts: dict[str, str]
) -> list[Index]:
    """The indexes a List scans per parent, in id order (a ledger's id is its time: the order of
    ``LEDGER_SORTS``), one per part (``<part>: <predicate>``).

    Per connector, a part per direction: a List filtered on one direction reads only that
    direction's rows, however many the connector carries the other way. Per record, one of
    live rows.
    """
    return [
        Index(f"{prefix}_{part}", key, id_column, postgresql_where=text(predicate))
        for part, predicate in parts.items()
    ]


account_workspace_connectors = _provenance_table("account", "accounts")
company_workspace_connectors = _provenance_table("company", "companies")
people_workspace_connectors = _provenance_table("people", "peoples")

workspace_group_workspaces = _table(
    "workspace_group_workspaces",
    "workspace_group_workspace_id",
    _fk("workspace_group_pk", "workspace_groups", ondelete="RESTRICT"),
    _fk("workspace_pk", "workspaces", ondelete="RESTRICT"),
    _fk("created_by_pk", "peoples", nullable=True, ondelete="SET NULL"),
    _live_unique(
        "workspace_group_workspaces_group_workspace_active_unique",
        "workspace_group_pk",
        "workspace_pk",
    ),
    Index("idx_workspace_group_workspaces_workspace", "workspace_pk"),
)

workspace_providers = _table(
    "workspace_providers",
    "workspace_provider_id",
    _fk("workspace_pk", "workspaces"),
    _fk("provider_pk", "providers"),
    Column("is_selected", Boolean, nullable=False, server_default=text("false")),
    Column("is_matched", Boolean, nullable=False, server_default=text("false")),
    CheckConstraint(
        "NOT is_selected OR is_matched", name="workspace_providers_selected_implies_matched"
    ),
    _live_unique(
        "workspace_providers_workspace_provider_active_unique", "workspace_pk", "provider_pk"
    ),
    Index("idx_workspace_providers_provider", "provider_pk"),
)

# The idempotency key of a sync message whose effect has been applied (exactly once): keys
# are the connector's own, and the fingerprint tells a redelivery from another message that
# reuses a key.
sync_receipts = Table(
    "sync_receipts",
    metadata,
    Column("idempotency_key", Text, primary_key=True),
    Column("message_type", Text, nullable=False),
    Column(
        "workspace_connector_pk",
        BigInteger,
        ForeignKey(f"{SCHEMA}.workspace_connectors.pk"),
        primary_key=True,
    ),
    Column("sync_run_id", Text),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("fingerprint", LargeBinary),
    CheckConstraint("length(idempotency_key) BETWEEN 1 AND 200", name="sync_receipts_key_length"),
    CheckConstraint("octet_length(fingerprint) = 32", name="sync_receipts_fingerprint_is_sha256"),
    # The oldest receipts, which the writer prunes (``wellapi.sync.batches``).
    Index("idx_sync_receipts_received_at", "received_at"),
)

# The types, in the order the database lists them (well_private.name_the_change_types()).
_RECORD_TYPES = _one_of("record_type", sorted(RECORD_TYPES))

# The latest unlink of each (connector, record, direction): a link that occurred before it is
# written soft-deleted, whatever order the two arrive in.
sync_tombstones = Table(
    "sync_tombstones",
    metadata,
    _fk("workspace_connector_pk", "workspace_connectors"),
    Column("record_type", Text, nullable=False),
    Column("record_pk", BigInteger, nullable=False),
    Column("direction", _DIRECTION, nullable=False),
    Column("unlinked_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint(
        "workspace_connector_pk",
        "record_type",
        "record_pk",
        "direction",
        name="sync_tombstones_pkey",
    ),
    CheckConstraint(_RECORD_TYPES, name="sync_tombstones_record_type"),
    Index("idx_sync_tombstones_unlinked_at", "unlinked_at"),
)

# A revoked connector: no read shows its rows from the moment this row commits; the sweeper
# soft-deletes them in steps until ``swept_at`` (``wellapi.sync.sweeper``).
connector_revocations = Table(
    "connector_revocations",
    metadata,
    _fk("workspace_connector_pk", "workspace_connectors"),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("swept_at", DateTime(timezone=True)),
    Column("rows_swept", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("workspace_connector_pk", name="connector_revocations_pkey"),
    Index(
        "idx_connector_revocations_pending",
        "revoked_at",
        postgresql_where=text("swept_at IS NULL"),
    ),
)

# How far the sweep of a revoked connector went in one ledger and direction: the last
# (created_at, public id) it soft-deleted on the per-connector index of that ledger and
# direction (``idx_<ledger>_wc_<direction>_created``).
revocation_sweeps = Table(
    "revocation_sweeps",
    metadata,
    _fk("workspace_connector_pk", "workspace_connectors"),
    Column("record_type", Text, nullable=False),
    Column("direction", _DIRECTION, nullable=False),
    Column("after_created_at", DateTime(timezone=True)),
    Column("after_id", UUID(as_uuid=True)),
    Column("done", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint(
        "workspace_connector_pk", "record_type", "direction", name="revocation_sweeps_pkey"
    ),
    CheckConstraint(_RECORD_TYPES, name="revocation_sweeps_record_type"),
)


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (``pg_current_xact_id()``), which never wraps."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


# So that reading the schema back (the migrations' drift check) knows the type.
ischema_names.setdefault("xid8", Xid8)


# The transactional outbox (docs/changes.md): one record per change, or per CHANGE_IDS rows of
# a bulk change, written by the statement that changes, in its transaction.
# Read in (xid, pk) order behind the horizon of running transactions; no foreign keys (history,
# and a key's check would lock the workspace row on every write).
change_records = Table(
    "change_records",
    metadata,
    Column("pk", BigInteger, Identity(always=True), primary_key=True),
    Column("xid", Xid8, nullable=False, server_default=text("pg_current_xact_id()")),
    Column("workspace_pk", BigInteger, nullable=False),
    Column("resource_type", Text, nullable=False),
    Column("change", Text, nullable=False),
    Column("ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("record_ids", ARRAY(UUID(as_uuid=True))),
    Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor_kind", Text, nullable=False),
    Column("actor_person_pk", BigInteger),
    Column("sync_run_id", Text),
    Column("message_key", Text),
    Column("sent_at", DateTime(timezone=True)),
    CheckConstraint(f"cardinality(ids) BETWEEN 1 AND {CHANGE_IDS}", name="change_records_ids"),
    CheckConstraint(
        "record_ids IS NULL OR cardinality(record_ids) = cardinality(ids)",
        name="change_records_record_ids",
    ),
    CheckConstraint(_one_of("change", ChangeKind), name="change_records_change"),
    CheckConstraint(
        _one_of("resource_type", sorted(CHANGE_RESOURCE_TYPES)), name="change_records_resource_type"
    ),
    CheckConstraint(_one_of("actor_kind", ActorKind), name="change_records_actor_kind"),
    CheckConstraint(
        "(actor_kind IN ('member', 'service')) = (actor_person_pk IS NOT NULL)",
        name="change_records_actor",
    ),
    # The feed: a workspace's records in order. The drainer: every unsent record in order.
    Index("idx_change_records_feed", "workspace_pk", "xid", "pk"),
    Index("idx_change_records_unsent", "xid", "pk", postgresql_where=text("sent_at IS NULL")),
    # The feed's filters: by resource type and change, by sync run; retention's scan of the
    # sent records, oldest first.
    Index("idx_change_records_feed_kind", "workspace_pk", "resource_type", "change", "xid", "pk"),
    Index(
        "idx_change_records_feed_sync_run",
        "workspace_pk",
        "sync_run_id",
        "xid",
        "pk",
        postgresql_where=text("sync_run_id IS NOT NULL"),
    ),
    Index("idx_change_records_sent", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
)

# Where retention has pruned each workspace's change records (``wellapi.sync.retention``): the
# largest (xid, pk) it deleted there. A feed cursor below it would skip a record: 410.
change_feed_pruned = Table(
    "change_feed_pruned",
    metadata,
    Column("workspace_pk", BigInteger, primary_key=True),
    Column("xid", Xid8, nullable=False),
    Column("pk", BigInteger, nullable=False),
    Column("pruned_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# An API key: a public lookup prefix and the SHA-256 of its secret (never the secret).
api_keys = _table(
    "api_keys",
    "api_key_id",
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False, unique=True),
    Column("secret_hash", LargeBinary, nullable=False),
    _fk("person_pk", "peoples"),
    _fk("workspace_pk", "workspaces"),
    Column(
        "kind",
        Enum("member", "service", name="api_key_kind_enum", schema=SCHEMA, create_type=False),
        nullable=False,
        server_default="member",
    ),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    # After it, the key is refused as a revoked one is (core_api.authenticate_key); NULL: never.
    Column("expires_at", DateTime(timezone=True)),
    CheckConstraint("octet_length(secret_hash) = 32", name="api_keys_secret_hash_is_sha256"),
)
