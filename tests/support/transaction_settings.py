"""The transactions' settings and the stall bounds written again from the roles' settings.

Revisions 0028 and 0034 write both from the roles' own settings as they find them (a role may
change its own defaults, never these): a test that gives a role other timeouts writes them
again, and again once it puts the role's settings back.
"""

from __future__ import annotations

import pg8000.dbapi
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from wellapi.handlers.migration import revision_module
from wellapi.store.connections import url_connect_kwargs
from welldev import database as local_db


def refresh_transaction_settings(database: local_db.LocalDatabase) -> None:
    """Write the transactions' settings and the stall bounds again from the roles' settings
    as they are now (the revisions wrote them from the roles' settings of their day)."""
    settings, bounds = revision_module("0034"), revision_module("0028")
    kwargs = url_connect_kwargs(database.admin_url)
    engine = create_engine("postgresql+pg8000://", creator=lambda: pg8000.dbapi.connect(**kwargs))
    try:
        with (
            engine.begin() as connection,
            Operations.context(MigrationContext.configure(connection)),
        ):
            settings.refresh_settings()
            bounds.fill_session_bounds()
    finally:
        engine.dispose()
