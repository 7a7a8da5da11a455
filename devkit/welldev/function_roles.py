"""Which database role a function of the template logs in as locally, and pointing it there."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from wellapi.roles import (
    API_ROLE,
    APP_ROLES,
    AUTH_ROLE,
    DRAIN_ROLE,
    HEAL_ROLE,
    OPERATOR_ROLE,
    SYNC_ROLE,
)
from wellapi.store import connections as wellapi_db
from welldev import stack as local_stack
from welldev.database import LocalDatabase


def connect_functions_as(db: LocalDatabase, role: str | None) -> None:
    """Point the functions of this process at the local database, as ``role`` (None: admin);
    the sync writer, the authorizer, the drainer, the operator and the healer, which may share
    the process, at their own roles'. Set before the template's environment is applied, so
    these win over ``DB_AUTH=iam`` and the template's ``DB_USER``."""
    os.environ["DATABASE_URL"] = db.url_for(role) if role else db.admin_url
    os.environ["SYNC_DATABASE_URL"] = db.url_for(SYNC_ROLE)
    os.environ["AUTH_DATABASE_URL"] = db.url_for(AUTH_ROLE)
    os.environ["DRAIN_DATABASE_URL"] = db.url_for(DRAIN_ROLE)
    os.environ["OPERATOR_DATABASE_URL"] = db.url_for(OPERATOR_ROLE)
    os.environ["HEAL_DATABASE_URL"] = db.url_for(HEAL_ROLE)
    os.environ["DB_AUTH"] = "url"
    # Reads go where the writes go, unless a caller names a reader after this.
    os.environ.pop("DATABASE_READER_URL", None)
    # The URLs carry each role's login, so DB_USER (read only where DB_AUTH is iam or secret)
    # says the same as DATABASE_URL, and the template's per-function DB_USER, which one
    # process could not hold, does not come up as a disagreement.
    if role:
        os.environ["DB_USER"] = role
    else:
        os.environ.pop("DB_USER", None)
    wellapi_db.reset_pools()


@contextlib.contextmanager
def functions_connected_as(db: LocalDatabase, role: str | None) -> Iterator[None]:
    """``connect_functions_as`` for a while: the environment and pools as they were, after.
    (Not ``mock.patch.dict``: unittest.mock would cost every local command 50 ms to import.)"""
    saved = dict(os.environ)
    try:
        connect_functions_as(db, role)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        wellapi_db.reset_pools()


def role_of(template: local_stack.Stack, function: local_stack.Function) -> str | None:
    """The role a function logs in as in AWS (its ``DB_USER``): an application role, else
    admin. So ``invoke`` of the sync function writes as ``well_sync``, and the migration
    function, whose user owns the schema, runs as the local administrator."""
    if "DB_USER" not in function.environment:
        return API_ROLE  # what Settings assumes when DB_USER is not set
    user = local_stack.resolve_environment(template, function).get("DB_USER")
    return user if user in APP_ROLES else None
