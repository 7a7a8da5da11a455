"""An application role's own defaults set back to the deployment's.

A role may change its own defaults, and some act before a transaction can set anything (a
timer that ends a new session's first transaction, a library that refuses its login). Each
scheduled function, at every run, logs in as the healer (``well_heal``, a login of its own that
no application role can change or stop) and sets back every application role's defaults that
differ from what the deployment declares (``core_api.restore_role_defaults()``): each setting on
its own, as the role itself, after ending the sessions that hold the catalog's row; then that
role's other sessions are ended, so each opens again with the deployment's. It answers which
``role.setting`` it set back and which it could not (with the SQLSTATE), never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wellapi.store import connections
from wellapi.store.sql import BoundStatement

RESTORE = BoundStatement("SELECT setting, failure FROM core_api.restore_role_defaults()")


@dataclass(frozen=True)
class Restored:
    """What one run set back (``role.setting``), and what it could not, with its SQLSTATE."""

    set_back: list[str] = field(default_factory=list)
    not_set_back: dict[str, str] = field(default_factory=dict)


def restore_role_defaults(*, pool: Any = None) -> Restored:
    """Set back every application role's own defaults that differ from the deployment's, as the
    healer (``pool``: its login); what was set back (none, as a rule) and what was not."""
    rows = connections.in_transaction(
        [RESTORE], pool=pool or connections.get_pool(connections.HEAL)
    )
    return Restored(
        set_back=[str(setting) for setting, failure in rows if failure is None],
        not_set_back={str(setting): str(failure) for setting, failure in rows if failure},
    )


__all__ = ["RESTORE", "Restored", "restore_role_defaults"]
