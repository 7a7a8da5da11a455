"""The transactions' settings and the stall bounds written again from the roles' settings.

Revisions 0028 and 0037 write both from the roles' own settings as they find them (a role may
change its own defaults, never these), and revision 0041 records those defaults for the
scheduled functions to set back: a test that gives a role other timeouts writes all three
again, and again once it puts the role's settings back.
"""

from __future__ import annotations

import pg8000.dbapi
import pg8000.native
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from wellapi.handlers.migration import revision_module
from wellapi.store.connections import url_connect_kwargs
from welldev import database as local_db


def refresh_transaction_settings(database: local_db.LocalDatabase) -> None:
    """Write the transactions' settings and the stall bounds again from the roles' settings
    as they are now (the revisions wrote them from the roles' settings of their day)."""
    settings, bounds = revision_module("0037"), revision_module("0028")
    kwargs = url_connect_kwargs(database.admin_url)
    engine = create_engine("postgresql+pg8000://", creator=lambda: pg8000.dbapi.connect(**kwargs))
    try:
        with (
            engine.begin() as connection,
            Operations.context(MigrationContext.configure(connection)),
        ):
            settings.refresh_settings()
            bounds.fill_session_bounds()
            # What the scheduled functions set the roles' own defaults back to (revision 0041).
            connection.exec_driver_sql("SELECT well_private.record_role_defaults()")
    finally:
        engine.dispose()


def differing_settings(conn: pg8000.native.Connection) -> list[str]:
    """The settings that ``core_api.set_transaction_settings()``, run now on ``conn``, would
    find different from what its role runs with: none, and it sets nothing one by one."""
    ((body,),) = conn.run(
        "SELECT prosrc FROM pg_catalog.pg_proc "
        "WHERE oid = 'core_api.set_transaction_settings()'::regprocedure"
    )
    # The one query by which the procedure asks whether anything differs, found in its body as
    # revision 0037 finds it.
    r37 = revision_module("0037")
    start = body.index(r37.COMPARED_FROM) + len(r37.COMPARED_FROM)
    compared = body[start : body.index(r37.COMPARED_TO, start)]
    named = compared.replace(r37.ZIPPED, "SELECT s.name FROM (SELECT", 1)
    if named == compared:
        raise AssertionError("the procedure compares its settings in another way")
    # PL/pgSQL's own settings exist once its library is loaded, as the procedure loads it.
    conn.run("DO $$ BEGIN END $$")
    return sorted(str(row[0]) for row in conn.run(named))
