"""a transaction that finds settings changed says which it set again

Revision ID: 0037
Revises: 0036
Create Date: 2026-11-27

Every transaction's settings procedure (revision 0028, its comparison since 0034, the socket
settings since 0036) compares every setting with what its role runs with, and when one differs
compares and sets them one by one: some 0.2 ms more database CPU a transaction, and silently.
Something differs when SQL on the session changed a setting (the threat revision 0028 guards
against), or when the server's or a role's settings changed since a migration recorded them
(a ``refresh_settings`` forgotten, or, before revision 0036, a migration that ran over another
transport than the application's): then every transaction pays it, and nobody is told.

The procedure now says so: before it sets them again, it names the settings that differ, and
once they are set (``client_min_messages`` among them) it raises a notice of SQLSTATE ``WS001``
naming them to an application role (the owner's tools run it too, with defaults of their own);
the functions log a warning once per connection (``wellapi.store.notices``). Names only, never
a value. A transaction that finds nothing different runs as before: the names are asked for
only on the path that sets.
"""

from collections.abc import Sequence
from functools import cache
from typing import Any

from alembic import op

from wellapi.handlers.migration import revision_module

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The SQLSTATE of the notice (wellapi.store.notices.SETTINGS_SET_AGAIN).
SET_AGAIN_SQLSTATE = "WS001"
# Revision 0034's comparison in the body, between these two, and the end of its branch.
COMPARED_FROM = "  IF EXISTS (\n"
COMPARED_TO = ") THEN\n"
BRANCH_END = "\n  END IF;"
ZIPPED = "SELECT FROM (SELECT"


@cache
def _r(number: str) -> Any:
    """Revision ``number`` (0028's helpers, 0036's body), loaded once."""
    return revision_module(number)


def settings_body(
    server: dict[str, str],
    roles: dict[str, dict[str, str]],
    socket: tuple[dict[str, str], dict[str, dict[str, str]]],
) -> str:
    """Revision 0036's body, whose branch that sets names what it sets, then says so to an
    application role (the owner's own tools, which run it too, have defaults of their own)."""
    r28 = _r("0028")
    body: str = _r("0036").settings_body(server, roles, socket)
    start = body.index(COMPARED_FROM) + len(COMPARED_FROM)
    end = body.index(COMPARED_TO, start)
    compared = body[start:end]
    if compared.count(ZIPPED) != 1 or not body.endswith(BRANCH_END):
        raise RuntimeError("revision 0036's body is not what this revision expects")
    names = compared.replace(
        ZIPPED, "SELECT pg_catalog.string_agg(s.name, ', ' ORDER BY s.name) FROM (SELECT"
    )
    opened = f"{COMPARED_TO}    DECLARE\n      set_again text := ({names});\n    BEGIN\n"
    application = ", ".join(r28._literal(role) for role in r28.APP_ROLES)
    said = (
        f"\n      IF CURRENT_USER IN ({application}) THEN\n"
        f"        RAISE NOTICE 'set again for this transaction: %', set_again"
        f" USING ERRCODE = '{SET_AGAIN_SQLSTATE}';\n      END IF;\n    END;"
    )
    return body[:end] + opened + body[end + len(COMPARED_TO) : -len(BRANCH_END)] + said + BRANCH_END


def refresh_settings() -> None:
    """(Re)write the two functions from this server's settings and the roles' own, as revisions
    0028 to 0036 did: a later revision that changes a role's timeouts, or a major version that
    adds settings, calls this one."""
    r28, r36 = _r("0028"), _r("0036")
    body = settings_body(r28.server_settings(), r28.role_settings(), r36.socket_settings())
    op.execute(r28.settings_functions(body))


def upgrade() -> None:
    refresh_settings()


def downgrade() -> None:
    _r("0036").refresh_settings()
