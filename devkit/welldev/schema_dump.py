"""The migrated schema as a reviewer reads it: ``migrations/schema.sql``, made by ``make generate``.

pg_dump's schema-only text of a database migrated to head, made stable: no line that names the
dump's time, tool or server, the migrating role (the owner, whose name each deployment picks)
written ``migration_owner``. Then what pg_dump leaves to ``pg_dumpall``, which the migrations make
too: each role's attributes, the roles it is a member of, its own settings in the database, and who
may connect to the database and make temporary tables in it. A test holds the file equal to a fresh
migration's dump, so every schema change shows in review as a diff of this file.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pg8000.native

from wellapi.roles import DEPLOYED_ROLES
from welldev import database, embedded_server
from welldev.commands.local_database import EMBEDDED_DATA_DIR

# Where `make generate` writes the dump, and the scratch database it migrates to make it.
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "migrations" / "schema.sql"
SCRATCH = "well_schema_dump"
# The name the dump gives the owner of every object: whoever ran the migrations.
OWNER = "migration_owner"
# pg_dump's lines that change with the run, not the schema: its version, the server's, the
# random key of psql's restricted mode, the session settings of its restore.
_VOLATILE = re.compile(
    r"^(\\restrict|\\unrestrict|-- Dumped (from|by) |SET |SELECT pg_catalog\.set_config)"
)
# The partitions of the provenance ledgers, a period each (well_private.make_ledger_period()).
LEDGER_PERIODS = "core_api.*_workspace_connectors_p[0-9]*"
# The name PostgreSQL 18 gives a NOT NULL constraint, shown where pg_dump would guess another
# (a long column's): the constraint is the same on every major, and 16 and 17 name none.
_NOT_NULL_NAME = re.compile(r" CONSTRAINT \w+ NOT NULL\b")
ROLE_ATTRIBUTES = (
    "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, "
    "rolreplication, rolbypassrls, rolconnlimit FROM pg_catalog.pg_roles "
    "WHERE rolname = ANY (:roles) ORDER BY rolname"
)
ROLE_SETTINGS = (
    "SELECT r.rolname, s.setdatabase <> 0, s.setconfig FROM pg_catalog.pg_db_role_setting s "
    "JOIN pg_catalog.pg_roles r ON r.oid = s.setrole "
    "WHERE r.rolname = ANY (:roles) AND s.setdatabase IN "
    "(0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())) "
    "ORDER BY r.rolname, s.setdatabase"
)
# Settings whose value is a list, written unquoted (quoted, it would be one element).
LIST_SETTINGS = frozenset(
    {"search_path", "temp_tablespaces", "local_preload_libraries", "session_preload_libraries"}
)
# Which of the roles each is a member of, and how (the healer's SET without INHERIT).
ROLE_MEMBERSHIPS = (
    "SELECT m.rolname, r.rolname, a.inherit_option, a.set_option, a.admin_option "
    "FROM pg_catalog.pg_auth_members a JOIN pg_catalog.pg_roles r ON r.oid = a.roleid "
    "JOIN pg_catalog.pg_roles m ON m.oid = a.member "
    "WHERE m.rolname = ANY (:roles) AND r.rolname = ANY (:roles) ORDER BY 1, 2"
)
DATABASE_ACL = (
    "SELECT pg_catalog.array_to_string(datacl, ' ') FROM pg_catalog.pg_database "
    "WHERE datname = current_database()"
)


def dump(db: database.LocalDatabase) -> str:
    """The normalised dump of ``db`` (migrated, administrative URL)."""
    with database.admin_connection(db.admin_url) as conn:
        owner = str(conn.run("SELECT current_user")[0][0])
        roles = _roles(conn)
    text = subprocess.run(  # noqa: S603 - the wheel's pg_dump, no shell
        [
            str(embedded_server.PG_DUMP),
            "--schema-only",
            "--no-password",
            # A ledger's periods (its partitions) are made by the date the database was
            # migrated, not by the migrations: each is its ledger's table, under its own name.
            f"--exclude-table={LEDGER_PERIODS}",
            "--dbname",
            _libpq_url(db),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    kept = "\n".join(line for line in text.splitlines() if not _VOLATILE.match(line))
    kept = _NOT_NULL_NAME.sub(" NOT NULL", kept)
    kept = _sorted_grants(kept)
    owned = re.sub(rf"(?<![\w'\"]){re.escape(owner)}(?![\w'\"])", OWNER, kept + roles)
    return re.sub(r"\n{3,}", "\n\n", owned).strip() + "\n"


def _sorted_grants(text: str) -> str:
    """Each run of GRANT and REVOKE lines in one order, whatever the order of the grants that
    made them (pg_dump writes a column's in the order of its access list): REVOKE first."""
    lines, run = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith(("GRANT ", "REVOKE ")):
            run.append(line)
            continue
        lines.extend(sorted(run, key=lambda said: (said.startswith("GRANT "), said)))
        run = []
        lines.append(line)
    return "\n".join(lines[:-1])


def _libpq_url(db: database.LocalDatabase) -> str:
    """The administrative URL as libpq reads it (an empty password is no password)."""
    parts = urlsplit(db.admin_url)
    return db.admin_url if parts.password else db.admin_url.replace(":@", "@", 1)


def _roles(conn: pg8000.native.Connection) -> str:
    """The roles' attributes, memberships and settings, and the database's grants, as SQL."""
    lines = ["", "--", "-- The application roles and the database (pg_dumpall's part)", "--", ""]
    for name, *flags, limit in conn.run(ROLE_ATTRIBUTES, roles=list(DEPLOYED_ROLES)):
        words = ("SUPERUSER", "INHERIT", "CREATEROLE", "CREATEDB", "LOGIN", "REPLICATION")
        said = [("" if on else "NO") + word for word, on in zip(words, flags, strict=False)]
        said.append(("" if flags[-1] else "NO") + "BYPASSRLS")
        lines.append(f"ALTER ROLE {name} WITH {' '.join(said)} CONNECTION LIMIT {limit};")
    for member, role, *options in conn.run(ROLE_MEMBERSHIPS, roles=list(DEPLOYED_ROLES)):
        granted = ", ".join(
            f"{option} {str(bool(on)).upper()}"
            for option, on in zip(("INHERIT", "SET", "ADMIN"), options, strict=True)
        )
        lines.append(f"GRANT {role} TO {member} WITH {granted};")
    for name, in_database, config in conn.run(ROLE_SETTINGS, roles=list(DEPLOYED_ROLES)):
        where = " IN DATABASE current_database" if in_database else ""
        for item in sorted(config):
            setting, _, value = item.partition("=")
            said = value if setting in LIST_SETTINGS else pg8000.native.literal(value)
            lines.append(f"ALTER ROLE {name}{where} SET {setting} = {said};")
    lines.append(f"-- current_database's privileges: {conn.run(DATABASE_ACL)[0][0]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Migrate a scratch database to head (``DATABASE_URL``'s server, else the embedded one)
    and write its dump to the path given, by default ``migrations/schema.sql``."""
    parser = argparse.ArgumentParser(prog="python -m welldev.schema_dump", description=main.__doc__)
    parser.add_argument("target", nargs="?", type=Path, default=SCHEMA_FILE)
    target = parser.parse_args(argv).target
    server = database.resolve(EMBEDDED_DATA_DIR)
    scratch = database.prepare(server, SCRATCH, replace=True)
    try:
        target.write_text(dump(scratch), encoding="utf-8")
    finally:
        database.drop_database(server, SCRATCH)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
