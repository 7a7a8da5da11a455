"""api keys, the authenticate function, and row-level security

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

API keys are stored as a public lookup prefix and the SHA-256 of their secret; the secret
itself is never stored. The API role cannot read the table: it calls
``core_api.authenticate_key(prefix, hash)`` (SECURITY DEFINER), which also records use.

Row-level security is the second wall behind the queries: enabled and forced on the five
junctions and every parent they are scoped through, with policies that say what the queries
say. Scope comes from the transaction-local settings ``core_api.set_scope`` makes; with none
set, ``scope_workspace_pk()`` is NULL and nothing matches. Service principals act across
workspaces. The sync writer is trusted with every row it writes (it checks workspaces
itself); the owner (who runs migrations) keeps full access.

Inside a policy's subquery every column of the policy's own table is qualified with the
table's name: unqualified, a name the subquery's table also has (``workspace_group_pk``)
silently means the subquery's column, and the condition is true for every row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERVICE = "core_api.scope_principal_kind() = 'service'"
SCOPE_WS = "core_api.scope_workspace_pk()"
SCOPE_PERSON = "core_api.scope_person_pk()"
IN_SCOPE_WS = f"(workspace_pk = {SCOPE_WS} OR {SERVICE})"
GROUP_MEMBER = (
    "EXISTS (SELECT 1 FROM core_api.workspace_group_memberships gm "
    "WHERE gm.workspace_group_pk = {group} AND gm.person_pk = "
    + SCOPE_PERSON
    + " AND gm.deleted_at IS NULL)"
)


def _provenance(table: str, record_pk: str) -> str:
    # Through a function, not inline subqueries: inline, the planner hashes every record of
    # the tenant for each request (a cost that grows with the tenant); as an opaque function
    # it is two index probes per row the query actually reads (make bench, scale).
    function = f"core_api.{table}_in_scope"
    return f"({SERVICE} OR {function}({table}.{record_pk}, {table}.workspace_connector_pk))"


LINK_IN_SCOPE = """
CREATE FUNCTION core_api.{table}_in_scope(p_record_pk bigint, p_workspace_connector_pk bigint)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, core_api
AS $fn$
  SELECT EXISTS (SELECT 1 FROM core_api.{record_table} r
                  WHERE r.pk = p_record_pk AND r.workspace_pk = core_api.scope_workspace_pk())
     AND EXISTS (SELECT 1 FROM core_api.workspace_connectors wc
                  WHERE wc.pk = p_workspace_connector_pk
                    AND wc.workspace_pk = core_api.scope_workspace_pk())
$fn$
"""
PROVENANCE_RECORDS = {
    "account_workspace_connectors": "accounts",
    "company_workspace_connectors": "companies",
    "people_workspace_connectors": "peoples",
}


# table -> the rule the API role's rows must satisfy (reads and writes alike).
API_POLICIES = {
    "workspaces": (
        f"(pk = {SCOPE_WS} OR {SERVICE} "
        f"OR EXISTS (SELECT 1 FROM core_api.memberships m WHERE m.workspace_pk = workspaces.pk "
        f"AND m.person_pk = {SCOPE_PERSON} AND m.deleted_at IS NULL) "
        f"OR EXISTS (SELECT 1 FROM core_api.workspace_group_workspaces e "
        f"WHERE e.workspace_pk = workspaces.pk AND e.deleted_at IS NULL AND "
        + GROUP_MEMBER.format(group="e.workspace_group_pk")
        + "))"
    ),
    "memberships": f"(person_pk = {SCOPE_PERSON} OR {IN_SCOPE_WS})",
    "peoples": f"(pk = {SCOPE_PERSON} OR {IN_SCOPE_WS})",
    "accounts": IN_SCOPE_WS,
    "companies": IN_SCOPE_WS,
    "workspace_connectors": IN_SCOPE_WS,
    "workspace_group_memberships": f"(person_pk = {SCOPE_PERSON} OR {SERVICE})",
    "workspace_groups": (
        f"({SERVICE} OR "
        + GROUP_MEMBER.format(group="workspace_groups.pk")
        + " OR EXISTS (SELECT 1 FROM core_api.workspace_group_workspaces e "
        f"WHERE e.workspace_group_pk = workspace_groups.pk AND e.workspace_pk = {SCOPE_WS} "
        "AND e.deleted_at IS NULL))"
    ),
    "workspace_group_workspaces": (
        f"(workspace_pk = {SCOPE_WS} OR {SERVICE} OR "
        + GROUP_MEMBER.format(group="workspace_group_workspaces.workspace_group_pk")
        + ")"
    ),
    "workspace_providers": IN_SCOPE_WS,
    "account_workspace_connectors": _provenance("account_workspace_connectors", "account_pk"),
    "company_workspace_connectors": _provenance("company_workspace_connectors", "company_pk"),
    "people_workspace_connectors": _provenance("people_workspace_connectors", "people_pk"),
}
# New rows the API role may add, on top of the rule above (a RESTRICTIVE policy, ANDed with it).
# A group member sees every enrolment of the group, but enrols only a workspace where they hold
# an active membership: never another tenant's workspace.
API_INSERT_RESTRICTIONS = {
    "workspace_group_workspaces": (
        f"({SERVICE} OR EXISTS (SELECT 1 FROM core_api.memberships m "
        f"WHERE m.workspace_pk = workspace_group_workspaces.workspace_pk "
        f"AND m.person_pk = {SCOPE_PERSON} AND m.status = 'active' AND m.deleted_at IS NULL))"
    ),
}
# What the API role may UPDATE: a junction row's own data, never the columns that point at its
# parents (the API never changes a relationship once created). Otherwise a row visible through
# one rule (an enrolment, to a member of its group) could be re-pointed at another tenant's
# workspace and still pass that rule's WITH CHECK.
API_UPDATABLE_COLUMNS = {
    "account_workspace_connectors": ("direction", "updated_at", "deleted_at"),
    "company_workspace_connectors": ("direction", "updated_at", "deleted_at"),
    "people_workspace_connectors": ("direction", "updated_at", "deleted_at"),
    "workspace_group_workspaces": ("updated_at", "deleted_at"),
    "workspace_providers": ("is_selected", "is_matched", "updated_at", "deleted_at"),
}
# The sync writer reads parents to validate and writes the ledgers.
SYNC_TABLES = (
    "workspaces",
    "peoples",
    "accounts",
    "companies",
    "workspace_connectors",
    "account_workspace_connectors",
    "company_workspace_connectors",
    "people_workspace_connectors",
)

AUTHENTICATE = """
CREATE FUNCTION core_api.authenticate_key(p_prefix text, p_secret_hash bytea)
RETURNS TABLE (api_key_id uuid, secret_hash bytea, person_id uuid, workspace_id uuid, kind text)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, core_api
AS $fn$
  UPDATE core_api.api_keys k
     SET last_used_at = now()
    FROM core_api.peoples p, core_api.workspaces w
   WHERE k.prefix = p_prefix
     AND k.secret_hash = p_secret_hash
     AND k.revoked_at IS NULL AND k.deleted_at IS NULL
     AND p.pk = k.person_pk AND p.deleted_at IS NULL
     AND w.pk = k.workspace_pk AND w.deleted_at IS NULL
  RETURNING k.api_key_id, k.secret_hash, p.person_id, w.workspace_id, k.kind::text
$fn$
"""


def upgrade() -> None:
    op.execute("CREATE TYPE core_api.api_key_kind_enum AS ENUM ('member', 'service')")
    op.create_table(
        "api_keys",
        sa.Column(
            "api_key_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("secret_hash", postgresql.BYTEA(), nullable=False),
        sa.Column("person_pk", sa.BigInteger(), nullable=False),
        sa.Column("workspace_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            postgresql.ENUM(name="api_key_kind_enum", schema="core_api", create_type=False),
            server_default="member",
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pk", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("octet_length(secret_hash) = 32", name="api_keys_secret_hash_is_sha256"),
        sa.ForeignKeyConstraint(
            ["person_pk"], ["core_api.peoples.pk"], name=op.f("api_keys_person_pk_fkey")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_pk"], ["core_api.workspaces.pk"], name=op.f("api_keys_workspace_pk_fkey")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("api_keys_pkey")),
        sa.UniqueConstraint("api_key_id", name=op.f("api_keys_api_key_id_key")),
        sa.UniqueConstraint("prefix", name=op.f("api_keys_prefix_key")),
        schema="core_api",
    )
    op.execute(
        "CREATE TRIGGER api_keys_touch_row BEFORE INSERT OR UPDATE ON core_api.api_keys "
        "FOR EACH ROW EXECUTE FUNCTION core_api.touch_row('api_key_id')"
    )
    op.execute("REVOKE ALL ON core_api.api_keys FROM well_api, well_sync")
    op.execute(AUTHENTICATE)
    op.execute("REVOKE ALL ON FUNCTION core_api.authenticate_key(text, bytea) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION core_api.authenticate_key(text, bytea) TO well_api")

    for table, record_table in PROVENANCE_RECORDS.items():
        op.execute(LINK_IN_SCOPE.format(table=table, record_table=record_table))
        signature = f"core_api.{table}_in_scope(bigint, bigint)"
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO well_api")
    for table, rule in API_POLICIES.items():
        op.execute(f"ALTER TABLE core_api.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE core_api.{table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_owner ON core_api.{table} TO CURRENT_USER USING (true) WITH CHECK (true)"
        )
        op.execute(
            f"CREATE POLICY {table}_api ON core_api.{table} TO well_api USING {rule} WITH CHECK {rule}"
        )
        if table in SYNC_TABLES:
            op.execute(
                f"CREATE POLICY {table}_sync ON core_api.{table} TO well_sync USING (true) WITH CHECK (true)"
            )
        if table in API_INSERT_RESTRICTIONS:
            op.execute(
                f"CREATE POLICY {table}_api_insert ON core_api.{table} AS RESTRICTIVE FOR INSERT "
                f"TO well_api WITH CHECK {API_INSERT_RESTRICTIONS[table]}"
            )
    for table, columns in API_UPDATABLE_COLUMNS.items():
        op.execute(f"REVOKE UPDATE ON core_api.{table} FROM well_api")
        op.execute(f"GRANT UPDATE ({', '.join(columns)}) ON core_api.{table} TO well_api")


def downgrade() -> None:
    for table, columns in API_UPDATABLE_COLUMNS.items():
        op.execute(f"REVOKE UPDATE ({', '.join(columns)}) ON core_api.{table} FROM well_api")
        op.execute(f"GRANT UPDATE ON core_api.{table} TO well_api")
    for table in API_POLICIES:
        for suffix in ("owner", "api", "api_insert", "sync"):
            op.execute(f"DROP POLICY IF EXISTS {table}_{suffix} ON core_api.{table}")
        op.execute(f"ALTER TABLE core_api.{table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE core_api.{table} DISABLE ROW LEVEL SECURITY")
    for table in PROVENANCE_RECORDS:
        op.execute(f"DROP FUNCTION core_api.{table}_in_scope(bigint, bigint)")
    op.execute("DROP FUNCTION core_api.authenticate_key(text, bytea)")
    op.drop_table("api_keys", schema="core_api")
    op.execute("DROP TYPE core_api.api_key_kind_enum")
