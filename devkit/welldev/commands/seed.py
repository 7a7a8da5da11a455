"""``wellapi seed``: the demo data and keys, and ``.local/demo.json`` with the server's URL.

``wellapi seed --reset`` (``make demo-reset``) puts the demo back as seeded
(``welldev.demo_reset``), with ``wellapi run`` serving or not, on the embedded database or on
the one ``DATABASE_URL`` names if it holds the demo (else refused before anything is written).
"""

from __future__ import annotations

import argparse
import os
import sys

import pg8000.native

from welldev import database, demo_file, demo_reset, seed
from welldev.commands.local_database import EMBEDDED_DATA_DIR, admin_connection
from welldev.commands.local_database import USAGE_ERRORS as USAGE_ERRORS
from welldev.console import redact, step


def main(args: argparse.Namespace) -> int:
    # The running server's URL (`wellapi run` records it): the commands find the server by it.
    base_url = (args.url or demo_file.default_base_url()).rstrip("/")
    where = f"the embedded database in {EMBEDDED_DATA_DIR}"
    if args.reset and os.environ.get("DATABASE_URL"):
        named = database.resolve(EMBEDDED_DATA_DIR)
        if not demo_reset.holds_demo(named):
            print(
                f"wellapi: the database DATABASE_URL names ({redact(named.admin_url)}) holds no "
                "demo data: nothing reset. `wellapi seed` (or `make run`) seeds a database of "
                "yours first; unset DATABASE_URL to reset the embedded one.",
                file=sys.stderr,
            )
            return 1
        where = f"the database DATABASE_URL names, {redact(named.admin_url)}"
    with admin_connection() as (_, conn):
        if args.reset:
            step(f"resetting the demo data of {where}")
        write_demo(conn, base_url, reset=args.reset)
    return 0


def write_demo(conn: pg8000.native.Connection, base_url: str, *, reset: bool = False) -> None:
    """Seed (or reset) with real keys (the last ones while they work); write the demo file."""
    path = demo_file.DEMO_FILE
    provider = seed.IssuedKeys(demo_file.read_demo(path))
    if reset:
        demo, done = demo_reset.reset(conn, provider)
        step(done.describe())
    else:
        step("seeding demo data")
        demo = seed.seed(conn, provider)
    demo_file.write_demo(path, demo.document(base_url))
    if provider.reused:
        step(f"kept the demo keys of the last run: {', '.join(provider.reused)}")
    if provider.issued:
        step(f"issued new demo keys: {', '.join(provider.issued)}")
    step(f"demo workspaces and keys in {path}")
