"""the transaction's settings are compared as data, not as one expression

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-27

Revision 0028's ``core_api.set_transaction_settings()`` (and the previous release's
``request_context()``, which shares its body) compares every setting a role may change with the
value the role runs with in one PL/pgSQL expression: some 160 calls of ``current_setting`` and as
many constants. PL/pgSQL builds the executable state of an expression once per transaction, so
every request paid for building that one: on the bench VM about 0.04 ms of database CPU, and on a
Retrieve the backend's heap grew and shrank again by four ``brk`` calls a request, some 0.1 ms
more. The names and the values each role wants are now two arrays, zipped by one query that the
procedure plans once a session and that reads each setting by name. What is compared, and what is
set when something differs, is unchanged.
"""

from collections.abc import Sequence
from functools import cache
from typing import Any

from alembic import op

from wellapi.handlers.migration import revision_module

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@cache
def _r28() -> Any:
    """Revision 0028, whose body and helpers this revision builds on, loaded once."""
    return revision_module("0028")


def _array(values: Sequence[str]) -> str:
    return f"ARRAY[{', '.join(_r28()._literal(v) for v in values)}]::text[]"


def _differs(server: dict[str, str], roles: dict[str, dict[str, str]]) -> str:
    """The condition that some setting is not what this role runs with: each name beside the
    value wanted, zipped in order (``ROWS FROM``), the role's own value where it has one."""
    r28 = _r28()
    names = [name for name in sorted(server) if name not in r28.TIMERS]
    own = [""] * len(r28.OWN_SETTINGS)

    def wanted(values: dict[str, str]) -> str:
        return _array([values.get(name, server[name]) for name in names] + own)

    cases = " ".join(
        f"WHEN {r28._literal(role)} THEN {wanted(values)}" for role, values in roles.items()
    )
    every = _array(names + list(r28.OWN_SETTINGS))
    chosen = f"CASE CURRENT_USER {cases} ELSE {wanted({})} END"
    return (
        "  IF EXISTS (\n"
        "       SELECT FROM ROWS FROM (\n"
        f"         pg_catalog.unnest({every}),\n"
        f"         pg_catalog.unnest({chosen})) AS s(name, wanted)\n"
        "        WHERE COALESCE(pg_catalog.current_setting(s.name, true), '')\n"
        "              IS DISTINCT FROM s.wanted) THEN"
    )


def settings_body(server: dict[str, str], roles: dict[str, dict[str, str]]) -> str:
    """Revision 0028's body, its comparison of every setting in one expression made
    ``_differs``."""
    lines = _r28().settings_body(server, roles).split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("  IF ROW("))
    if not lines[at + 1].startswith("     IS DISTINCT FROM ROW("):
        raise RuntimeError("revision 0028's comparison is not where this revision expects it")
    lines[at : at + 2] = [_differs(server, roles)]
    return "\n".join(lines)


def refresh_settings() -> None:
    """(Re)write the two functions from this server's settings and the roles' own, as revision
    0028's ``refresh_settings`` did: a later revision that changes a role's timeouts, or a major
    version that adds settings, calls this one."""
    r28 = _r28()
    op.execute(r28.settings_functions(settings_body(r28.server_settings(), r28.role_settings())))


def upgrade() -> None:
    refresh_settings()


def downgrade() -> None:
    _r28().refresh_settings()
