"""The transactions' settings, the stall bounds and the roles' recorded defaults written again.

``well_private.record_settings()`` writes all three from the roles' own settings as it finds
them (a role may change its own defaults, never these): a test that gives a role other
timeouts calls it again, and again once it puts the role's settings back.
"""

from __future__ import annotations

import pg8000.native

from welldev import database as local_db

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


def refresh_transaction_settings(database: local_db.LocalDatabase) -> None:
    """Record the transactions' settings, the stall bounds and the roles' defaults again from
    the roles' settings as they are now."""
    with local_db.admin_connection(database.admin_url) as conn:
        conn.run("SELECT well_private.record_settings()")


def differing_settings(conn: pg8000.native.Connection) -> list[str]:
    """The settings that ``core_api.set_transaction_settings()``, run now on ``conn``, would
    find different from what its role runs with: none, and it sets nothing."""
    # PL/pgSQL's own settings exist once its library is loaded, as the procedure loads it.
    conn.run("DO $$ BEGIN END $$")
    return [str(row[0]) for row in conn.run(DIFFERING)]
