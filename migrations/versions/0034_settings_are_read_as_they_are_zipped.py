"""the transaction's settings are read as the names and values are zipped, not from a copy

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-27

Revision 0033 zips the names of every setting a role may change with the values the role runs
with by ``ROWS FROM (unnest(names), unnest(values))``: a function scan, which first copies both
arrays' elements into a tuple store, in every transaction, before the first setting is read.
The same two ``unnest`` calls in a select list run in step (PostgreSQL's ``ProjectSet``) and
hand each pair on as it is made: nothing is copied. On the bench VM that is about 0.011 ms of
database CPU a request (3 % of a Retrieve's 0.34 ms; 2 % of a default List's, 1 % of a
Create's), measured with both procedures taking turns, 15,000 requests each.

What is compared, and what is set when something differs, is unchanged: the same names and the
same values, zipped in the same order (the arrays are of one length; were one shorter, both
forms would pad it with NULLs, which differ from any setting and so set them all).
"""

from collections.abc import Sequence
from functools import cache
from typing import Any

from alembic import op

from wellapi.handlers.migration import revision_module

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Revision 0033's zip, and this revision's: the two arrays between them are kept as they are.
FUNCTION_SCAN = (
    (
        "       SELECT FROM ROWS FROM (\n         pg_catalog.unnest(",
        "       SELECT FROM (SELECT\n         pg_catalog.unnest(",
    ),
    (
        "]::text[]),\n         pg_catalog.unnest(CASE",
        "]::text[]) AS name,\n         pg_catalog.unnest(CASE",
    ),
    (" END)) AS s(name, wanted)\n", " END) AS wanted) AS s\n"),
)


@cache
def _r(number: str) -> Any:
    """Revision ``number`` (0028's helpers, 0033's body), loaded once."""
    return revision_module(number)


def settings_body(server: dict[str, str], roles: dict[str, dict[str, str]]) -> str:
    """Revision 0033's body, its two arrays zipped in the select list instead of ``ROWS FROM``."""
    body = _r("0033").settings_body(server, roles)
    for old, new in FUNCTION_SCAN:
        if body.count(old) != 1:
            raise RuntimeError("revision 0033's comparison is not what this revision expects")
        body = body.replace(old, new)
    return body


def refresh_settings() -> None:
    """(Re)write the two functions from this server's settings and the roles' own, as revisions
    0028 and 0033 did: a later revision that changes a role's timeouts, or a major version that
    adds settings, calls this one."""
    r28 = _r("0028")
    op.execute(r28.settings_functions(settings_body(r28.server_settings(), r28.role_settings())))


def upgrade() -> None:
    refresh_settings()


def downgrade() -> None:
    _r("0033").refresh_settings()
