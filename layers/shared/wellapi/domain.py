"""The schema's name and the closed sets of values its columns hold.

Kept apart from the tables (``wellapi.resources.tables``) so that code which only needs a value (the
sync message contract, the migration runner) does not pay at cold start for building them and
for the PostgreSQL dialect they load.
"""

from __future__ import annotations

import enum

SCHEMA = "core_api"


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
