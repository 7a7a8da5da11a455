"""junction resources and their parents

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Enum types are created once, up front (``direction_enum`` is shared by the three provenance
ledgers), and every table gets the trigger that maintains ``updated_at``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENUMS: dict[str, tuple[str, ...]] = {
    "connector_provider_enum": (
        "apideck",
        "chift",
        "well",
        "plaid_eu",
        "plaid_us",
    ),
    "provider_category_enum": (
        "Finance",
        "Accounting",
        "Productivity",
        "CRM & Marketing",
        "Dev & Infra",
        "Telecom",
        "Travel & Logistics",
        "E-commerce & Retail",
        "Media & Subscriptions",
        "General",
    ),
    "account_type_enum": (
        "deposit",
        "credit",
        "loan",
        "investment",
        "payroll",
        "other",
    ),
    "workspace_connector_status_enum": (
        "enabled",
        "disabled",
        "to_configure",
        "processing",
        "error",
        "need_reconnect",
        "suspended",
    ),
    "direction_enum": (
        "input",
        "output",
    ),
    "membership_role_enum": (
        "owner",
        "admin",
        "member",
        "viewer",
    ),
    "membership_status_enum": (
        "pending",
        "active",
    ),
    "workspace_group_role_enum": (
        "owner",
        "admin",
        "member",
        "guest",
    ),
}

TABLES = (
    "workspaces",
    "peoples",
    "workspace_groups",
    "workspace_group_memberships",
    "memberships",
    "connectors",
    "workspace_connectors",
    "accounts",
    "companies",
    "providers",
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
    "workspace_group_workspaces",
    "workspace_providers",
)

# updated_at follows every write, ORM or not; created_at and the public id never change.
TOUCH_ROW = """
CREATE FUNCTION core_api.touch_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.updated_at := NEW.created_at;
  ELSE
    IF to_jsonb(NEW) -> TG_ARGV[0] IS DISTINCT FROM to_jsonb(OLD) -> TG_ARGV[0] THEN
      RAISE EXCEPTION 'column % is immutable', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$fn$
"""


def public_id(table: str) -> str:
    singular = {"peoples": "person", "companies": "company"}.get(table, table[:-1])
    return f"{singular}_id"


def create_enums() -> None:
    for name, values in ENUMS.items():
        quoted = ", ".join("'" + v + "'" for v in values)
        op.execute(f"CREATE TYPE core_api.{name} AS ENUM ({quoted})")


def create_triggers() -> None:
    op.execute(TOUCH_ROW)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_touch_row BEFORE INSERT OR UPDATE ON core_api.{table} "
            f"FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('{public_id(table)}')"
        )


def upgrade() -> None:
    create_enums()
    op.create_table(
        "connectors",
        sa.Column(
            "connector_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "provider",
            postgresql.ENUM(name="connector_provider_enum", schema="core_api", create_type=False),
            nullable=False,
        ),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("pk", name=op.f("connectors_pkey")),
        sa.UniqueConstraint("connector_id", name=op.f("connectors_connector_id_key")),
        schema="core_api",
    )
    op.create_table(
        "providers",
        sa.Column(
            "provider_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column(
            "category",
            postgresql.ENUM(name="provider_category_enum", schema="core_api", create_type=False),
            server_default="General",
            nullable=False,
        ),
        sa.Column("popularity_score", sa.Integer(), nullable=True),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("pk", name=op.f("providers_pkey")),
        sa.UniqueConstraint("provider_id", name=op.f("providers_provider_id_key")),
        sa.UniqueConstraint("slug", name=op.f("providers_slug_key")),
        schema="core_api",
    )
    op.create_table(
        "workspaces",
        sa.Column(
            "workspace_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("external_workspace_id", sa.Text(), nullable=True),
        sa.Column("parent_workspace_pk", sa.BigInteger(), nullable=True),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_workspace_pk"],
            ["core_api.workspaces.pk"],
            name=op.f("workspaces_parent_workspace_pk_fkey"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("workspaces_pkey")),
        sa.UniqueConstraint(
            "external_workspace_id", name=op.f("workspaces_external_workspace_id_key")
        ),
        sa.UniqueConstraint("workspace_id", name=op.f("workspaces_workspace_id_key")),
        schema="core_api",
    )
    op.create_table(
        "accounts",
        sa.Column(
            "account_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("workspace_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "type",
            postgresql.ENUM(name="account_type_enum", schema="core_api", create_type=False),
            server_default="other",
            nullable=False,
        ),
        sa.Column("account_name", sa.Text(), nullable=True),
        sa.Column("account_external_id", sa.Text(), nullable=True),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_pk"], ["core_api.workspaces.pk"], name=op.f("accounts_workspace_pk_fkey")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("accounts_pkey")),
        sa.UniqueConstraint("account_id", name=op.f("accounts_account_id_key")),
        schema="core_api",
    )
    op.create_index(
        "accounts_workspace_external_id_active_unique",
        "accounts",
        ["workspace_pk", "account_external_id"],
        unique=True,
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "companies",
        sa.Column(
            "company_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("workspace_pk", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("domain", sa.Text(), nullable=True),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_pk"], ["core_api.workspaces.pk"], name=op.f("companies_workspace_pk_fkey")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("companies_pkey")),
        sa.UniqueConstraint("company_id", name=op.f("companies_company_id_key")),
        schema="core_api",
    )
    op.create_index(
        "idx_companies_workspace", "companies", ["workspace_pk"], unique=False, schema="core_api"
    )
    op.create_table(
        "peoples",
        sa.Column(
            "person_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("workspace_pk", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_pk"], ["core_api.workspaces.pk"], name=op.f("peoples_workspace_pk_fkey")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("peoples_pkey")),
        sa.UniqueConstraint("person_id", name=op.f("peoples_person_id_key")),
        schema="core_api",
    )
    op.create_index(
        "idx_peoples_workspace", "peoples", ["workspace_pk"], unique=False, schema="core_api"
    )
    op.create_table(
        "workspace_connectors",
        sa.Column(
            "workspace_connector_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("workspace_pk", sa.BigInteger(), nullable=False),
        sa.Column("connector_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            postgresql.ENUM(
                name="workspace_connector_status_enum", schema="core_api", create_type=False
            ),
            server_default="to_configure",
            nullable=False,
        ),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connector_pk"],
            ["core_api.connectors.pk"],
            name=op.f("workspace_connectors_connector_pk_fkey"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_pk"],
            ["core_api.workspaces.pk"],
            name=op.f("workspace_connectors_workspace_pk_fkey"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("workspace_connectors_pkey")),
        sa.UniqueConstraint(
            "workspace_connector_id", name=op.f("workspace_connectors_workspace_connector_id_key")
        ),
        schema="core_api",
    )
    op.create_index(
        "idx_workspace_connectors_workspace",
        "workspace_connectors",
        ["workspace_pk"],
        unique=False,
        schema="core_api",
    )
    op.create_table(
        "workspace_providers",
        sa.Column(
            "workspace_provider_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("workspace_pk", sa.BigInteger(), nullable=False),
        sa.Column("provider_pk", sa.BigInteger(), nullable=False),
        sa.Column("is_selected", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_matched", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "NOT is_selected OR is_matched", name="workspace_providers_selected_implies_matched"
        ),
        sa.ForeignKeyConstraint(
            ["provider_pk"],
            ["core_api.providers.pk"],
            name=op.f("workspace_providers_provider_pk_fkey"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_pk"],
            ["core_api.workspaces.pk"],
            name=op.f("workspace_providers_workspace_pk_fkey"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("workspace_providers_pkey")),
        sa.UniqueConstraint(
            "workspace_provider_id", name=op.f("workspace_providers_workspace_provider_id_key")
        ),
        schema="core_api",
    )
    op.create_index(
        "idx_workspace_providers_provider",
        "workspace_providers",
        ["provider_pk"],
        unique=False,
        schema="core_api",
    )
    op.create_index(
        "workspace_providers_workspace_provider_active_unique",
        "workspace_providers",
        ["workspace_pk", "provider_pk"],
        unique=True,
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "account_workspace_connectors",
        sa.Column(
            "account_workspace_connector_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("account_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "direction",
            postgresql.ENUM(name="direction_enum", schema="core_api", create_type=False),
            nullable=False,
        ),
        sa.Column("workspace_connector_pk", sa.BigInteger(), nullable=False),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["core_api.accounts.pk"],
            name=op.f("account_workspace_connectors_account_pk_fkey"),
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_connector_pk"],
            ["core_api.workspace_connectors.pk"],
            name=op.f("account_workspace_connectors_workspace_connector_pk_fkey"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("account_workspace_connectors_pkey")),
        sa.UniqueConstraint(
            "account_workspace_connector_id",
            name=op.f("account_workspace_connectors_account_workspace_connector_id_key"),
        ),
        schema="core_api",
    )
    op.create_index(
        "idx_account_workspace_connectors_record_created",
        "account_workspace_connectors",
        ["account_pk", "created_at"],
        unique=False,
        schema="core_api",
    )
    op.create_index(
        "idx_account_workspace_connectors_wc_created_at",
        "account_workspace_connectors",
        ["workspace_connector_pk", "created_at"],
        unique=False,
        schema="core_api",
    )
    op.create_table(
        "company_workspace_connectors",
        sa.Column(
            "company_workspace_connector_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("company_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "direction",
            postgresql.ENUM(name="direction_enum", schema="core_api", create_type=False),
            nullable=False,
        ),
        sa.Column("workspace_connector_pk", sa.BigInteger(), nullable=False),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_pk"],
            ["core_api.companies.pk"],
            name=op.f("company_workspace_connectors_company_pk_fkey"),
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_connector_pk"],
            ["core_api.workspace_connectors.pk"],
            name=op.f("company_workspace_connectors_workspace_connector_pk_fkey"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("company_workspace_connectors_pkey")),
        sa.UniqueConstraint(
            "company_workspace_connector_id",
            name=op.f("company_workspace_connectors_company_workspace_connector_id_key"),
        ),
        schema="core_api",
    )
    op.create_index(
        "idx_company_workspace_connectors_record_created",
        "company_workspace_connectors",
        ["company_pk", "created_at"],
        unique=False,
        schema="core_api",
    )
    op.create_index(
        "idx_company_workspace_connectors_wc_created_at",
        "company_workspace_connectors",
        ["workspace_connector_pk", "created_at"],
        unique=False,
        schema="core_api",
    )
    op.create_table(
        "memberships",
        sa.Column(
            "membership_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("workspace_pk", sa.BigInteger(), nullable=False),
        sa.Column("person_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "role",
            postgresql.ENUM(name="membership_role_enum", schema="core_api", create_type=False),
            server_default="member",
            nullable=False,
        ),
        sa.Column(
            "status",
            postgresql.ENUM(name="membership_status_enum", schema="core_api", create_type=False),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_pk"], ["core_api.peoples.pk"], name=op.f("memberships_person_pk_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_pk"], ["core_api.workspaces.pk"], name=op.f("memberships_workspace_pk_fkey")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("memberships_pkey")),
        sa.UniqueConstraint("membership_id", name=op.f("memberships_membership_id_key")),
        schema="core_api",
    )
    op.create_index(
        "idx_memberships_workspace",
        "memberships",
        ["workspace_pk"],
        unique=False,
        schema="core_api",
    )
    op.create_index(
        "memberships_person_workspace_active_unique",
        "memberships",
        ["person_pk", "workspace_pk"],
        unique=True,
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "people_workspace_connectors",
        sa.Column(
            "people_workspace_connector_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("people_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "direction",
            postgresql.ENUM(name="direction_enum", schema="core_api", create_type=False),
            nullable=False,
        ),
        sa.Column("workspace_connector_pk", sa.BigInteger(), nullable=False),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["people_pk"],
            ["core_api.peoples.pk"],
            name=op.f("people_workspace_connectors_people_pk_fkey"),
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_connector_pk"],
            ["core_api.workspace_connectors.pk"],
            name=op.f("people_workspace_connectors_workspace_connector_pk_fkey"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("people_workspace_connectors_pkey")),
        sa.UniqueConstraint(
            "people_workspace_connector_id",
            name=op.f("people_workspace_connectors_people_workspace_connector_id_key"),
        ),
        schema="core_api",
    )
    op.create_index(
        "idx_people_workspace_connectors_record_created",
        "people_workspace_connectors",
        ["people_pk", "created_at"],
        unique=False,
        schema="core_api",
    )
    op.create_index(
        "idx_people_workspace_connectors_wc_created_at",
        "people_workspace_connectors",
        ["workspace_connector_pk", "created_at"],
        unique=False,
        schema="core_api",
    )
    op.create_table(
        "workspace_groups",
        sa.Column(
            "workspace_group_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_by_pk", sa.BigInteger(), nullable=True),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_pk"],
            ["core_api.peoples.pk"],
            name=op.f("workspace_groups_created_by_pk_fkey"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("workspace_groups_pkey")),
        sa.UniqueConstraint(
            "workspace_group_id", name=op.f("workspace_groups_workspace_group_id_key")
        ),
        schema="core_api",
    )
    op.create_table(
        "workspace_group_memberships",
        sa.Column(
            "workspace_group_membership_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("person_pk", sa.BigInteger(), nullable=False),
        sa.Column("workspace_group_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "role",
            postgresql.ENUM(name="workspace_group_role_enum", schema="core_api", create_type=False),
            server_default="member",
            nullable=False,
        ),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_pk"],
            ["core_api.peoples.pk"],
            name=op.f("workspace_group_memberships_person_pk_fkey"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_group_pk"],
            ["core_api.workspace_groups.pk"],
            name=op.f("workspace_group_memberships_workspace_group_pk_fkey"),
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("workspace_group_memberships_pkey")),
        sa.UniqueConstraint(
            "workspace_group_membership_id",
            name=op.f("workspace_group_memberships_workspace_group_membership_id_key"),
        ),
        schema="core_api",
    )
    op.create_index(
        "idx_workspace_group_memberships_group",
        "workspace_group_memberships",
        ["workspace_group_pk"],
        unique=False,
        schema="core_api",
    )
    op.create_index(
        "workspace_group_memberships_person_group_active_unique",
        "workspace_group_memberships",
        ["person_pk", "workspace_group_pk"],
        unique=True,
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "workspace_group_workspaces",
        sa.Column(
            "workspace_group_workspace_id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("workspace_group_pk", sa.BigInteger(), nullable=False),
        sa.Column("workspace_pk", sa.BigInteger(), nullable=False),
        sa.Column("created_by_pk", sa.BigInteger(), nullable=True),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_pk"],
            ["core_api.peoples.pk"],
            name=op.f("workspace_group_workspaces_created_by_pk_fkey"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_group_pk"],
            ["core_api.workspace_groups.pk"],
            name=op.f("workspace_group_workspaces_workspace_group_pk_fkey"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_pk"],
            ["core_api.workspaces.pk"],
            name=op.f("workspace_group_workspaces_workspace_pk_fkey"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("workspace_group_workspaces_pkey")),
        sa.UniqueConstraint(
            "workspace_group_workspace_id",
            name=op.f("workspace_group_workspaces_workspace_group_workspace_id_key"),
        ),
        schema="core_api",
    )
    op.create_index(
        "idx_workspace_group_workspaces_workspace",
        "workspace_group_workspaces",
        ["workspace_pk"],
        unique=False,
        schema="core_api",
    )
    op.create_index(
        "workspace_group_workspaces_group_workspace_active_unique",
        "workspace_group_workspaces",
        ["workspace_group_pk", "workspace_pk"],
        unique=True,
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    create_triggers()


def downgrade() -> None:
    op.drop_index(
        "workspace_group_workspaces_group_workspace_active_unique",
        table_name="workspace_group_workspaces",
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "idx_workspace_group_workspaces_workspace",
        table_name="workspace_group_workspaces",
        schema="core_api",
    )
    op.drop_table("workspace_group_workspaces", schema="core_api")
    op.drop_index(
        "workspace_group_memberships_person_group_active_unique",
        table_name="workspace_group_memberships",
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "idx_workspace_group_memberships_group",
        table_name="workspace_group_memberships",
        schema="core_api",
    )
    op.drop_table("workspace_group_memberships", schema="core_api")
    op.drop_table("workspace_groups", schema="core_api")
    op.drop_index(
        "idx_people_workspace_connectors_wc_created_at",
        table_name="people_workspace_connectors",
        schema="core_api",
    )
    op.drop_index(
        "idx_people_workspace_connectors_record_created",
        table_name="people_workspace_connectors",
        schema="core_api",
    )
    op.drop_table("people_workspace_connectors", schema="core_api")
    op.drop_index(
        "memberships_person_workspace_active_unique",
        table_name="memberships",
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index("idx_memberships_workspace", table_name="memberships", schema="core_api")
    op.drop_table("memberships", schema="core_api")
    op.drop_index(
        "idx_company_workspace_connectors_wc_created_at",
        table_name="company_workspace_connectors",
        schema="core_api",
    )
    op.drop_index(
        "idx_company_workspace_connectors_record_created",
        table_name="company_workspace_connectors",
        schema="core_api",
    )
    op.drop_table("company_workspace_connectors", schema="core_api")
    op.drop_index(
        "idx_account_workspace_connectors_wc_created_at",
        table_name="account_workspace_connectors",
        schema="core_api",
    )
    op.drop_index(
        "idx_account_workspace_connectors_record_created",
        table_name="account_workspace_connectors",
        schema="core_api",
    )
    op.drop_table("account_workspace_connectors", schema="core_api")
    op.drop_index(
        "workspace_providers_workspace_provider_active_unique",
        table_name="workspace_providers",
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "idx_workspace_providers_provider", table_name="workspace_providers", schema="core_api"
    )
    op.drop_table("workspace_providers", schema="core_api")
    op.drop_index(
        "idx_workspace_connectors_workspace", table_name="workspace_connectors", schema="core_api"
    )
    op.drop_table("workspace_connectors", schema="core_api")
    op.drop_index("idx_peoples_workspace", table_name="peoples", schema="core_api")
    op.drop_table("peoples", schema="core_api")
    op.drop_index("idx_companies_workspace", table_name="companies", schema="core_api")
    op.drop_table("companies", schema="core_api")
    op.drop_index(
        "accounts_workspace_external_id_active_unique",
        table_name="accounts",
        schema="core_api",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("accounts", schema="core_api")
    op.drop_table("workspaces", schema="core_api")
    op.drop_table("providers", schema="core_api")
    op.drop_table("connectors", schema="core_api")
    op.execute("DROP FUNCTION core_api.touch_row()")
    for name in ENUMS:
        op.execute(f"DROP TYPE core_api.{name}")
