"""``wellapi migrate``: the local database at the migrations' head (Alembic only if behind)."""

from __future__ import annotations

import argparse

from welldev import revisions
from welldev.commands.local_database import admin_connection
from welldev.console import step


def main(args: argparse.Namespace) -> int:
    with admin_connection(roles=True):
        step(f"at head ({', '.join(revisions.head())})")
    return 0
