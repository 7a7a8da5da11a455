"""Alembic environment. The caller passes an open connection (see ``wellapi.handlers.migration``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from wellapi.domain import SCHEMA, refuse_unsupported_server
from wellapi.resources.tables import metadata

target_metadata = metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    if type_ == "schema":
        return name == SCHEMA
    return True


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through wellapi.handlers.migration, which supplies a connection"
        )
    # Before anything is written: a server too old fails here, in one line, not in a later
    # revision or in the functions' first request.
    refuse_unsupported_server(int(connection.execute(text("SHOW server_version_num")).scalar_one()))
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table_schema=SCHEMA,
        include_schemas=True,
        include_name=include_name,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
