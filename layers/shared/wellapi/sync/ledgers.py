"""The three provenance ledgers as the sync writer and the revocation sweeper name them.

A module of its own so that the sweep function, which reads no message, loads no pydantic.
"""

from __future__ import annotations

# record_type -> (ledger table, record table, public id column)
LEDGERS = {
    "account": ("account_workspace_connectors", "accounts", "account_id"),
    "company": ("company_workspace_connectors", "companies", "company_id"),
    "people": ("people_workspace_connectors", "peoples", "person_id"),
}

__all__ = ["LEDGERS"]
