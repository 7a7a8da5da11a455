"""The roles' declared defaults changed, and the transactions' settings and the stall bounds
written again from them.

``well_private.record_settings()`` sets each role's own defaults as ``well_private.role_defaults``
declares them, then writes the other two from the declaration (a role may change its own
defaults, never these): a test that gives a role other timeouts declares them, as a migration
would, and puts the declaration back after.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pg8000.native

# The one query by which core_api.set_transaction_settings() asks whether a setting differs,
# here naming those that do, for the role that runs it.
DIFFERING = """
SELECT s.name
  FROM (SELECT pg_catalog.unnest(wanted.names) AS name,
               pg_catalog.unnest(wanted.values_shown) AS value
          FROM (SELECT * FROM core_api.transaction_settings
                 WHERE role IN (CURRENT_USER, '') ORDER BY role DESC LIMIT 1) AS wanted) AS s
 WHERE COALESCE(pg_catalog.current_setting(s.name, true), '') IS DISTINCT FROM s.value
 ORDER BY s.name
"""


# A role's declared default in this database set to a value, or added.
DECLARE = """
UPDATE well_private.role_defaults
   SET settings = ARRAY(SELECT s FROM unnest(settings) AS s WHERE split_part(s, '=', 1) <> :name)
                  || (:name || '=' || :value)
 WHERE role = :role AND in_database
"""


def declared_role_defaults(conn: pg8000.native.Connection) -> list[list[Any]]:
    """What ``well_private.role_defaults`` declares now (``redeclare`` puts it back)."""
    return list(conn.run("SELECT role, in_database, settings FROM well_private.role_defaults"))


def declare_role_settings(
    conn: pg8000.native.Connection, roles: Iterable[str], settings: dict[str, str]
) -> None:
    """Declare ``settings`` as each of ``roles``' own in this database, as a migration would,
    and record them: the catalog, the transactions' settings and the stall bounds follow."""
    for role in roles:
        for name, value in settings.items():
            conn.run(DECLARE, role=role, name=name, value=value)
    conn.run("SELECT well_private.record_settings()")


def redeclare(conn: pg8000.native.Connection, declared: list[list[Any]]) -> None:
    """Put back what ``declared_role_defaults`` read, and record it."""
    for role, in_database, settings in declared:
        conn.run(
            "UPDATE well_private.role_defaults SET settings = CAST(:s AS text[]) "
            "WHERE role = :r AND in_database = :d",
            s=settings,
            r=role,
            d=in_database,
        )
    conn.run("SELECT well_private.record_settings()")


def differing_settings(conn: pg8000.native.Connection) -> list[str]:
    """The settings that ``core_api.set_transaction_settings()``, run now on ``conn``, would
    find different from what its role runs with: none, and it sets nothing."""
    # PL/pgSQL's own settings exist once its library is loaded, as the procedure loads it.
    conn.run("DO $$ BEGIN END $$")
    return [str(row[0]) for row in conn.run(DIFFERING)]
