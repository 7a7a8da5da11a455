"""An application role's own defaults set back to the deployment's.

A role may change its own defaults, and some act before a transaction can set anything (a
timer that ends a new session's first transaction, a library that refuses its login). Each
scheduled function sets back, at every run (``core_api.restore_role_defaults()``), every
application role's defaults that differ from what the deployment gave them
(``well_private.role_defaults``), and says which: an ERROR line naming ``role.setting`` (never a
value) and the metric ``RoleDefaultsSetBack``, alarmed on. A role whose sessions cannot start
is set back by the other schedule's role (the sweeper runs as ``well_sync``, the drainer as
``well_drain``).
"""

from __future__ import annotations

from typing import Any

from wellapi.store import connections
from wellapi.store.sql import BoundStatement

RESTORE = BoundStatement(
    "SELECT coalesce(array_to_string(core_api.restore_role_defaults(), ' '), '')"
)


def restore_role_defaults(*, pool: Any = None) -> list[str]:
    """Set back every application role's own defaults that differ from the deployment's; the
    ``role.setting`` of each one set back (none, as a rule)."""
    rows = connections.in_transaction([RESTORE], pool=pool)
    return str(rows[0][0]).split()


__all__ = ["RESTORE", "restore_role_defaults"]
