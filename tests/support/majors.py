"""What differs between the PostgreSQL majors `make test` runs the database tiers on (the oldest
the project supports and the newest, the Makefile): a setting one of them lacks.

A test of an attack through such a setting holds, on a server without it, that no application
role can plant it at all: the attack has nothing to act through there.
"""

from __future__ import annotations

import pg8000.native

# SQLSTATE undefined_object: what PostgreSQL answers a setting it does not have.
UNRECOGNIZED = "42704"


def has_setting(conn: pg8000.native.Connection, name: str) -> bool:
    """Whether the server of ``conn`` has the setting ``name`` (``transaction_timeout`` came
    with PostgreSQL 17)."""
    return bool(conn.run("SELECT count(*) > 0 FROM pg_settings WHERE name = :n", n=name)[0][0])
