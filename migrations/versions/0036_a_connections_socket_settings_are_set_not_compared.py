"""a connection's socket settings are set by every transaction, not compared

Revision ID: 0036
Revises: 0035
Create Date: 2026-11-27

Revisions 0028 to 0034 compare every setting a role may change with the value this migration's
own session showed once it set it, and set each one only when something differs. Four settings
show what the connection's socket does, not what was set: ``tcp_keepalives_idle``,
``tcp_keepalives_interval``, ``tcp_keepalives_count`` and ``tcp_user_timeout``. Over a Unix
socket each shows 0 whatever it is set to; over TCP, 0 shows as the operating system's own
value (7200, 75, 9). A migration that ran over a Unix socket (the local stack's, the tests')
recorded 0, so every transaction of a role connected over TCP (``make run``'s functions, ``sam
local invoke``) found them different and compared and set all 160 settings one by one: 0.37 ms
of database CPU a transaction instead of 0.15 on the local stack. A server whose configuration
gives one of them a value (``tcp_keepalives_idle = 300``) had it recorded as 0 the same way, and
each transaction set the operating system's value in its place.

These four are now set by every transaction, before anything is compared, to the value the
server's configuration and the role's own settings give them (``pg_settings.reset_val``, and
``ALTER ROLE ... SET``): set as written, not as shown, whatever the socket. A value a session set
for itself is undone for the transaction as before; an unchanged one costs no system call
(PostgreSQL sets a socket option only when its value changes). The rest is compared and set as
revision 0034 does. Measured with this revision's and 0037's procedure taking turns with
revision 0034's in one run on the local stack: a Retrieve's database CPU 1.03x over the
migration's own transport (the opening 12 us more), 0.76x over TCP (248 us less).
"""

from collections.abc import Sequence
from functools import cache
from typing import Any

from alembic import op
from sqlalchemy import text

from wellapi.handlers.migration import revision_module

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The settings whose shown value is the socket's, not what was set.
SOCKET = (
    "tcp_keepalives_count",
    "tcp_keepalives_idle",
    "tcp_keepalives_interval",
    "tcp_user_timeout",
)
# Where revision 0028's body lets go of the session's advisory locks, after its timers.
AFTER_TIMERS = "  PERFORM pg_catalog.pg_advisory_unlock_all();"


@cache
def _r(number: str) -> Any:
    """Revision ``number`` (0028's helpers, 0034's body), loaded once."""
    return revision_module(number)


def socket_settings() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The socket settings as this server's configuration and each application role's own
    settings write them (not as this session's socket shows them)."""
    bind = op.get_bind()
    rows = bind.execute(
        text("SELECT name, reset_val FROM pg_settings WHERE name = ANY (:names)"),
        {"names": list(SOCKET)},
    )
    server = {str(name): str(value) for name, value in rows}
    roles = {
        role: {name: value for name, value in written.items() if name in SOCKET}
        for role, written in _r("0028").role_settings_as_written().items()
    }
    return server, roles


def settings_body(
    server: dict[str, str],
    roles: dict[str, dict[str, str]],
    socket: tuple[dict[str, str], dict[str, dict[str, str]]],
) -> str:
    """Revision 0034's body without the socket settings, which are set first, as written."""
    r28 = _r("0028")
    kept = {name: value for name, value in server.items() if name not in SOCKET}
    body: str = _r("0034").settings_body(kept, roles)
    if body.count(AFTER_TIMERS) != 1:
        raise RuntimeError("revision 0034's body is not what this revision expects")
    socket_server, socket_roles = socket
    sets = [
        f"  PERFORM pg_catalog.set_config({r28._literal(name)}, "
        f"{r28._value(name, socket_server, socket_roles)}, true);"
        for name in SOCKET
    ]
    return body.replace(AFTER_TIMERS, "\n".join([*sets, AFTER_TIMERS]))


def refresh_settings() -> None:
    """(Re)write the two functions from this server's settings and the roles' own, as revisions
    0028 to 0034 did: a later revision that changes a role's timeouts, or a major version that
    adds settings, calls this one."""
    r28 = _r("0028")
    body = settings_body(r28.server_settings(), r28.role_settings(), socket_settings())
    op.execute(r28.settings_functions(body))


def upgrade() -> None:
    refresh_settings()


def downgrade() -> None:
    _r("0034").refresh_settings()
