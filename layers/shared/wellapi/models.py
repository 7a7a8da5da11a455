"""Typed SQLAlchemy models of schema ``core_api``: the five junctions and their parents.

The Alembic migrations create the schema; these models describe it for queries, and a test
fails when the two drift apart. Every table has an internal identity ``pk`` (never exposed),
a public UUID ``<singular>_id``, and ``created_at`` / ``updated_at`` / ``deleted_at``
(``updated_at`` is maintained by a trigger, so writes that bypass the ORM keep it too).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from wellapi.domain import (
    SCHEMA,
    AccountType,
    ConnectorProvider,
    Direction,
    GroupRole,
    MembershipRole,
    MembershipStatus,
    ProviderCategory,
    WorkspaceConnectorStatus,
)

# PostgreSQL's own default names, so the migrations and the models name constraints alike.
NAMING = {
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_name)s_key",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "ix": "ix_%(table_name)s_%(column_0_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA, naming_convention=NAMING)
    # The column holding the table's public UUID (the JSON:API id).
    public_id_column: ClassVar[str]


def _enum(py_enum: type[enum.Enum], name: str) -> Enum:
    return Enum(
        py_enum,
        name=name,
        schema=SCHEMA,
        values_callable=lambda members: [m.value for m in members],
        create_type=False,
        validate_strings=True,
    )


DIRECTION_ENUM = _enum(Direction, "direction_enum")


class _Row:
    """Columns every table has. ``public_id_column`` names the table's public UUID."""

    pk: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _public_id() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), nullable=False, unique=True, server_default=text("gen_random_uuid()")
    )


def _fk(target: str, *, nullable: bool = False, **actions: Any) -> Mapped[Any]:
    return mapped_column(
        BigInteger, ForeignKey(f"{SCHEMA}.{target}.pk", **actions), nullable=nullable
    )


class Workspace(_Row, Base):
    __tablename__ = "workspaces"
    public_id_column = "workspace_id"
    workspace_id: Mapped[uuid.UUID] = _public_id()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    external_workspace_id: Mapped[str | None] = mapped_column(Text, unique=True)
    parent_workspace_pk: Mapped[int | None] = _fk("workspaces", nullable=True)


class People(_Row, Base):
    __tablename__ = "peoples"
    public_id_column = "person_id"
    person_id: Mapped[uuid.UUID] = _public_id()
    workspace_pk: Mapped[int] = _fk("workspaces")
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (Index("idx_peoples_workspace", "workspace_pk"),)


class WorkspaceGroup(_Row, Base):
    __tablename__ = "workspace_groups"
    public_id_column = "workspace_group_id"
    workspace_group_id: Mapped[uuid.UUID] = _public_id()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    created_by_pk: Mapped[int | None] = _fk("peoples", nullable=True, ondelete="SET NULL")


class WorkspaceGroupMembership(_Row, Base):
    __tablename__ = "workspace_group_memberships"
    public_id_column = "workspace_group_membership_id"
    workspace_group_membership_id: Mapped[uuid.UUID] = _public_id()
    person_pk: Mapped[int] = _fk("peoples")
    workspace_group_pk: Mapped[int] = _fk("workspace_groups")
    role: Mapped[GroupRole] = mapped_column(
        _enum(GroupRole, "workspace_group_role_enum"),
        nullable=False,
        server_default=GroupRole.MEMBER.value,
    )
    __table_args__ = (
        Index(
            "workspace_group_memberships_person_group_active_unique",
            "person_pk",
            "workspace_group_pk",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("idx_workspace_group_memberships_group", "workspace_group_pk"),
    )


class Membership(_Row, Base):
    __tablename__ = "memberships"
    public_id_column = "membership_id"
    membership_id: Mapped[uuid.UUID] = _public_id()
    workspace_pk: Mapped[int] = _fk("workspaces")
    person_pk: Mapped[int] = _fk("peoples")
    role: Mapped[MembershipRole] = mapped_column(
        _enum(MembershipRole, "membership_role_enum"),
        nullable=False,
        server_default=MembershipRole.MEMBER.value,
    )
    status: Mapped[MembershipStatus] = mapped_column(
        _enum(MembershipStatus, "membership_status_enum"),
        nullable=False,
        server_default=MembershipStatus.PENDING.value,
    )
    __table_args__ = (
        Index(
            "memberships_person_workspace_active_unique",
            "person_pk",
            "workspace_pk",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("idx_memberships_workspace", "workspace_pk"),
    )


class Connector(_Row, Base):
    __tablename__ = "connectors"
    public_id_column = "connector_id"
    connector_id: Mapped[uuid.UUID] = _public_id()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    provider: Mapped[ConnectorProvider] = mapped_column(
        _enum(ConnectorProvider, "connector_provider_enum"), nullable=False
    )


class WorkspaceConnector(_Row, Base):
    __tablename__ = "workspace_connectors"
    public_id_column = "workspace_connector_id"
    workspace_connector_id: Mapped[uuid.UUID] = _public_id()
    workspace_pk: Mapped[int] = _fk("workspaces")
    connector_pk: Mapped[int] = _fk("connectors")
    status: Mapped[WorkspaceConnectorStatus] = mapped_column(
        _enum(WorkspaceConnectorStatus, "workspace_connector_status_enum"),
        nullable=False,
        server_default=WorkspaceConnectorStatus.TO_CONFIGURE.value,
    )
    # Connector credentials: never selected by the API.
    config: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    __table_args__ = (Index("idx_workspace_connectors_workspace", "workspace_pk"),)


class Account(_Row, Base):
    __tablename__ = "accounts"
    public_id_column = "account_id"
    account_id: Mapped[uuid.UUID] = _public_id()
    workspace_pk: Mapped[int] = _fk("workspaces")
    type: Mapped[AccountType] = mapped_column(
        _enum(AccountType, "account_type_enum"), nullable=False, server_default="other"
    )
    account_name: Mapped[str | None] = mapped_column(Text)
    account_external_id: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        Index(
            "accounts_workspace_external_id_active_unique",
            "workspace_pk",
            "account_external_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class Company(_Row, Base):
    __tablename__ = "companies"
    public_id_column = "company_id"
    company_id: Mapped[uuid.UUID] = _public_id()
    workspace_pk: Mapped[int] = _fk("workspaces")
    name: Mapped[str] = mapped_column(Text, nullable=False)
    domain: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("idx_companies_workspace", "workspace_pk"),)


class Provider(_Row, Base):
    __tablename__ = "providers"
    public_id_column = "provider_id"
    provider_id: Mapped[uuid.UUID] = _public_id()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    slug: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    category: Mapped[ProviderCategory] = mapped_column(
        _enum(ProviderCategory, "provider_category_enum"),
        nullable=False,
        server_default=ProviderCategory.GENERAL.value,
    )
    popularity_score: Mapped[int | None] = mapped_column(Integer)


class _Provenance(_Row):
    """A provenance ledger row: which workspace connector touched a record, and which way.

    No ``workspace_pk``: scope comes through both parents. No unique key on
    (record, connector, direction): every sync run that touches a record leaves its own row.
    """

    record_table: ClassVar[str]

    direction: Mapped[Direction] = mapped_column(DIRECTION_ENUM, nullable=False)

    @declared_attr
    def workspace_connector_pk(cls) -> Mapped[int]:
        return _fk("workspace_connectors", onupdate="CASCADE")

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        record_pk = f"{cls.record_table}_pk"
        table = f"{cls.record_table}_workspace_connectors"
        return (
            Index(f"idx_{table}_record_created", record_pk, "created_at"),
            Index(f"idx_{table}_wc_created_at", "workspace_connector_pk", "created_at"),
        )


class AccountWorkspaceConnector(_Provenance, Base):
    __tablename__ = "account_workspace_connectors"
    public_id_column = "account_workspace_connector_id"
    record_table = "account"
    account_workspace_connector_id: Mapped[uuid.UUID] = _public_id()
    account_pk: Mapped[int] = _fk("accounts", onupdate="CASCADE")


class CompanyWorkspaceConnector(_Provenance, Base):
    __tablename__ = "company_workspace_connectors"
    public_id_column = "company_workspace_connector_id"
    record_table = "company"
    company_workspace_connector_id: Mapped[uuid.UUID] = _public_id()
    company_pk: Mapped[int] = _fk("companies", onupdate="CASCADE")


class PeopleWorkspaceConnector(_Provenance, Base):
    __tablename__ = "people_workspace_connectors"
    public_id_column = "people_workspace_connector_id"
    record_table = "people"
    people_workspace_connector_id: Mapped[uuid.UUID] = _public_id()
    people_pk: Mapped[int] = _fk("peoples", onupdate="CASCADE")


class WorkspaceGroupWorkspace(_Row, Base):
    __tablename__ = "workspace_group_workspaces"
    public_id_column = "workspace_group_workspace_id"
    workspace_group_workspace_id: Mapped[uuid.UUID] = _public_id()
    workspace_group_pk: Mapped[int] = _fk("workspace_groups", ondelete="RESTRICT")
    workspace_pk: Mapped[int] = _fk("workspaces", ondelete="RESTRICT")
    created_by_pk: Mapped[int | None] = _fk("peoples", nullable=True, ondelete="SET NULL")
    __table_args__ = (
        Index(
            "workspace_group_workspaces_group_workspace_active_unique",
            "workspace_group_pk",
            "workspace_pk",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("idx_workspace_group_workspaces_workspace", "workspace_pk"),
    )


class WorkspaceProvider(_Row, Base):
    __tablename__ = "workspace_providers"
    public_id_column = "workspace_provider_id"
    workspace_provider_id: Mapped[uuid.UUID] = _public_id()
    workspace_pk: Mapped[int] = _fk("workspaces")
    provider_pk: Mapped[int] = _fk("providers")
    is_selected: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    is_matched: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    __table_args__ = (
        CheckConstraint(
            "NOT is_selected OR is_matched", name="workspace_providers_selected_implies_matched"
        ),
        Index(
            "workspace_providers_workspace_provider_active_unique",
            "workspace_pk",
            "provider_pk",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("idx_workspace_providers_provider", "provider_pk"),
    )


class SyncReceipt(Base):
    """The idempotency key of a sync message whose effect has been applied (exactly once)."""

    __tablename__ = "sync_receipts"
    idempotency_key: Mapped[str] = mapped_column(Text, primary_key=True)
    message_type: Mapped[str] = mapped_column(Text, nullable=False)
    workspace_connector_pk: Mapped[int] = _fk("workspace_connectors")
    sync_run_id: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    __table_args__ = (
        CheckConstraint(
            "length(idempotency_key) BETWEEN 1 AND 200", name="sync_receipts_key_length"
        ),
    )


class ApiKey(_Row, Base):
    """An API key: a public lookup prefix and the SHA-256 of its secret (never the secret)."""

    __tablename__ = "api_keys"
    public_id_column = "api_key_id"
    api_key_id: Mapped[uuid.UUID] = _public_id()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    prefix: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    person_pk: Mapped[int] = _fk("peoples")
    workspace_pk: Mapped[int] = _fk("workspaces")
    kind: Mapped[str] = mapped_column(
        Enum("member", "service", name="api_key_kind_enum", schema=SCHEMA, create_type=False),
        nullable=False,
        server_default="member",
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("octet_length(secret_hash) = 32", name="api_keys_secret_hash_is_sha256"),
    )
