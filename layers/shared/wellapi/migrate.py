"""Running the Alembic migrations: from the command line, the tests and the deploy function."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from wellapi.db import build_engine
from wellapi.settings import Settings


def migrations_dir() -> Path:
    """Where the revisions are: beside the function code in Lambda, the repo's otherwise."""
    configured = os.environ.get("WELL_MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and (Path(task_root) / "env.py").exists():
        return Path(task_root)
    return Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str = "base") -> None:
    command.downgrade(alembic_config(connection), revision)


def upgrade_with(settings: Settings, revision: str = "head") -> None:
    engine = build_engine(settings, autocommit=False)
    try:
        with engine.begin() as connection:
            upgrade(connection, revision)
    finally:
        engine.dispose()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The deploy-time migration function: ``alembic upgrade head`` against RDS."""
    settings = Settings()
    upgrade_with(settings)
    return {"status": "migrated", "revision": "head"}
