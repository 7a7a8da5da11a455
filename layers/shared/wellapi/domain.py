"""The schema's name and the closed sets of values its columns hold.

Kept apart from the tables (``wellapi.resources.tables``) so that code which only needs a value (the
sync message contract, the migration runner) does not pay at cold start for building them and
for the PostgreSQL dialect they load.
"""

from __future__ import annotations

import enum

SCHEMA = "core_api"
# The PostgreSQL majors the schema and the functions run on: those RDS for PostgreSQL serves in
# standard support and RDS Proxy fronts, oldest first. The migration refuses an older server
# before it changes anything; `make test` runs the database and system tiers on the oldest and
# on the newest (docs/operations.md, "Database").
POSTGRES_MAJORS = (16, 17, 18)


class UnsupportedServer(Exception):
    """A PostgreSQL server older than the oldest major of ``POSTGRES_MAJORS``."""

    def __init__(self, server_version_num: int) -> None:
        major = server_version_num // 10000
        supported = ", ".join(str(m) for m in POSTGRES_MAJORS)
        super().__init__(
            f"PostgreSQL {major} is older than this schema supports ({supported}): "
            "nothing was migrated; upgrade the server first"
        )


def refuse_unsupported_server(server_version_num: int) -> None:
    """Raise ``UnsupportedServer`` for a server (``server_version_num``, 160004 for 16.4) older
    than the oldest supported major; a newer one than the newest is taken as it is."""
    if server_version_num // 10000 < POSTGRES_MAJORS[0]:
        raise UnsupportedServer(server_version_num)


class Direction(enum.StrEnum):
    INPUT = "input"
    OUTPUT = "output"


class GroupRole(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"


class MembershipRole(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"


class ConnectorProvider(enum.StrEnum):
    APIDECK = "apideck"
    CHIFT = "chift"
    WELL = "well"
    PLAID_EU = "plaid_eu"
    PLAID_US = "plaid_us"


class WorkspaceConnectorStatus(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    TO_CONFIGURE = "to_configure"
    PROCESSING = "processing"
    ERROR = "error"
    NEED_RECONNECT = "need_reconnect"
    SUSPENDED = "suspended"


class AccountType(enum.StrEnum):
    DEPOSIT = "deposit"
    CREDIT = "credit"
    LOAN = "loan"
    INVESTMENT = "investment"
    PAYROLL = "payroll"
    OTHER = "other"


class ProviderCategory(enum.StrEnum):
    FINANCE = "Finance"
    ACCOUNTING = "Accounting"
    PRODUCTIVITY = "Productivity"
    CRM_MARKETING = "CRM & Marketing"
    DEV_INFRA = "Dev & Infra"
    TELECOM = "Telecom"
    TRAVEL_LOGISTICS = "Travel & Logistics"
    ECOMMERCE_RETAIL = "E-commerce & Retail"
    MEDIA_SUBSCRIPTIONS = "Media & Subscriptions"
    GENERAL = "General"


class ChangeKind(enum.StrEnum):
    """What a change record says happened to its rows (``core_api.change_records``,
    docs/changes.md)."""

    LINKED = "linked"
    UNLINKED = "unlinked"
    # A ledger row soft-deleted by its connector's revocation (the sweeper), or a selection
    # removed.
    REMOVED = "removed"
    # A connector revoked: from that commit no read shows its ledger rows.
    REVOKED = "revoked"
    ENROLLED = "enrolled"
    UNENROLLED = "unenrolled"
    SELECTED = "selected"
    CHANGED = "changed"
    # A platform row the operator made (a workspace, a person, a membership, a workspace
    # connector), and an API key it issued (wellapi.handlers.operator).
    CREATED = "created"
    ISSUED = "issued"


class ActorKind(enum.StrEnum):
    """Who made a change: an API principal of each kind, the sync writer, the sweeper, the
    operator function, or anyone else writing without a scope (SQL by hand, a migration, the
    local demo)."""

    MEMBER = "member"
    SERVICE = "service"
    SYNC = "sync"
    SWEEP = "sweep"
    OPERATOR = "operator"
    SYSTEM = "system"


# The ids one change record carries at most: a bulk change writes one record per this many
# rows, so an event stays well under EventBridge's 256 KB and a feed page stays bounded.
CHANGE_IDS = 1000
# How long a change record is kept once the drainer has sent it: the changes feed's promise
# that a consumer that was away for up to this long catches up by following links.next
# (docs/changes.md). An unsent record is never pruned.
CHANGE_RETENTION_DAYS = 30
