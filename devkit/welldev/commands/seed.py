"""``wellapi seed``: the demo data and keys, and ``.local/demo.json`` with the server's URL."""

from __future__ import annotations

import argparse

import pg8000.native

from welldev import demo_file, seed
from welldev.commands.local_database import admin_connection
from welldev.console import step


def main(args: argparse.Namespace) -> int:
    # The URL of the server that runs (recorded by `wellapi run`), not a default port: the
    # commands that read demo.json find the server by it.
    base_url = (args.url or demo_file.default_base_url()).rstrip("/")
    with admin_connection() as (_, conn):
        write_demo(conn, base_url)
    return 0


def seed_demo(conn: pg8000.native.Connection, keys_provider: seed.DemoKeys) -> seed.Demo:
    step("seeding demo data")
    return seed.seed(conn, keys_provider)


def write_demo(conn: pg8000.native.Connection, base_url: str) -> seed.Demo:
    """Seed with real keys (the previous ones while they still work), write ``.local/demo.json``."""
    path = demo_file.DEMO_FILE
    provider = seed.IssuedKeys(demo_file.read_demo(path))
    demo = seed_demo(conn, provider)
    seed.write_demo(path, demo, base_url)
    if provider.reused:
        step(f"kept the demo keys of the last run: {', '.join(provider.reused)}")
    if provider.issued:
        step(f"issued new demo keys: {', '.join(provider.issued)}")
    step(f"demo workspaces and keys in {path}")
    return demo
