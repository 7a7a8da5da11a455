"""A resource is its description and its migration (docs/adding-a-resource.md).

A copy of the repository gains a sixth resource, ``document_workspace_connectors`` (the ledger
the specifications name as the precedent, of a new parent, ``documents``), exactly as that page
says: the description's lines (``sixth_resource/description.patch``, at most
``HAND_WRITTEN_LIMIT`` lines), its migration (``sixth_resource/migration.py``), then ``make
generate``. Everything else (its functions and routes, events, template, nested stack,
OpenAPI document, change types, error codes, demo rows, the tests' parameters) follows from the
registry: the copy's own tests then run for it, its List, Retrieve, Create, Update, Delete and
related routes (its API events on the seeded demo), its sync messages, its change records and
feed, its tenancy, and the drift checks of the template, the OpenAPI document and the schema;
and every unit test that reads the documents, so that a step the page does not name (a count a
document keeps that the resource changes) fails here. The copy is a git repository, as a clone
is, with what the steps wrote added. The sixth resource is not shipped: only the copy has it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.embedded import server_home
from welldev import revisions

ROOT = Path(__file__).resolve().parents[2]
SIXTH = Path(__file__).with_name("sixth_resource")
HAND_WRITTEN_LIMIT = 150
# Its migration: the parent table, and the ledger's one definition applied to it.
MIGRATION_LIMIT = 40
LEDGER_CALL = "well_private.create_ledger('document', 'documents', 'document_id')"
KEY = "document_workspace_connectors"
# What the copy's tests check for it: whole files (drift, every event), and the tests of every
# resource or ledger, for the sixth alone.
WHOLE = (
    "tests/unit/test_template_source.py",
    "tests/database/test_openapi.py",
    "tests/database/test_migrations.py",
    "tests/database/test_schema_dump.py",
    "tests/database/test_events.py",
    # What holds every resource to the specification's words and the reviewed rights.
    "tests/unit/test_request_documents.py",
    "tests/database/test_read_documents.py",
    "tests/database/test_document_bytes.py",
    "tests/database/test_rls.py",
    "tests/database/test_role_privileges.py",
    "tests/database/test_session_wall.py",
)
# The copy's tests, in their files' order.
PYTEST = ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly")
# A unit test that reads the documents names one from the repository's root (`ROOT / "docs"`,
# `ROOT / "README.md"`) and a Markdown file.
READS_A_DOCUMENT = re.compile(r'ROOT\s*/\s*"(?:docs\b|README\.md")')
FOR_EACH_RESOURCE = (
    "tests/database/test_read_include_fields.py",
    "tests/database/test_read_round_trips.py",
    "tests/database/test_read_scope.py",
    "tests/database/test_read_sort_filter.py",
    "tests/database/test_related_routes.py",
    "tests/database/test_write_provenance.py",
    "tests/database/test_sync_handler.py",
    "tests/database/test_changes_feed.py",
    "tests/database/test_change_records.py",
    "tests/database/test_tenancy_rule.py",
    "tests/database/test_cross_tenant_matrix.py",
)


def generators() -> list[list[str]]:
    """What `make generate` runs, read from its recipe: each line a `python -m` command."""
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ngenerate:", 1)[1]
    lines = recipe.split("\n\n", 1)[0].splitlines()[1:]
    assert all(line.startswith("\t$(BIN)/python -m ") for line in lines), lines
    return [line.split("/python ", 1)[1].split() for line in lines]


def document_readers() -> list[str]:
    """The unit tests that read the documents (``docs/``, the READMEs)."""
    return [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "tests" / "unit").glob("test_*.py"))
        if READS_A_DOCUMENT.search(text := path.read_text(encoding="utf-8")) and ".md" in text
    ]


def _files() -> Iterator[str]:
    """The repository as a clone of it holds it, with what is not committed yet."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    yield from (name for name in listed.split("\0") if name and (ROOT / name).is_file())


# The environment as this run began, before a test set a role's connection variables in it.
BEFORE_THE_TESTS = dict(os.environ)


def _environment(copy: Path) -> dict[str, str]:
    """The copy's packages before this checkout's; no coverage of this run's."""
    env = {k: v for k, v in BEFORE_THE_TESTS.items() if not k.startswith("COV")}
    env["PYTHONPATH"] = os.pathsep.join(
        str(copy / part) for part in ("layers/shared", "devkit", ".")
    )
    return env


def _run(
    copy: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=copy,
        env=_environment(copy) | (env or {}),
        capture_output=True,
        text=True,
    )


# What a person writes beside the migration: the description, and the specification's words the
# tests hold it to (docs/adding-a-resource.md, steps 1 and 2).
PATCHES = ("description.patch", "specification.patch")
# The documents' bytes, recorded for it (step 4): the file only gains its documents.
DOCUMENT_BYTES = "tests/database/document_bytes.json"


def hand_written_lines() -> int:
    added = [
        line
        for patch in PATCHES
        for line in (SIXTH / patch).read_text(encoding="utf-8").splitlines()
        if line.startswith("+")
    ]
    return len([line for line in added if not line.startswith("+++")])


def _add_migration(copy: Path) -> None:
    versions = (copy / "migrations" / "versions").glob("*.py")
    if any(LEDGER_CALL in path.read_text(encoding="utf-8") for path in versions):
        return  # a clone where the page was followed with this very example
    (head,) = revisions.head(copy / "migrations")
    number = f"{int(head) + 1:04d}"
    text = (SIXTH / "migration.py").read_text(encoding="utf-8")
    text = re.sub(r'^revision: str = "\d+"', f'revision: str = "{number}"', text, flags=re.M)
    text = re.sub(
        r"^down_revision: str \| None = None.*$",
        f'down_revision: str | None = "{head}"',
        text,
        flags=re.M,
    )
    (copy / "migrations" / "versions" / f"{number}_{KEY}.py").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def copy() -> Iterator[Path]:
    """The repository with the sixth resource added as docs/adding-a-resource.md says: under
    this one's ``.local``, as the embedded server its tests start needs (``server_home``)."""
    with server_home() as home:
        yield _added(home / "repository")


def _added(copy: Path) -> Path:
    for name in _files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    # A repository of its own, as a clone is: git must not find this one around it (it would
    # patch this one's files), and the tests that list the tracked files list the copy's.
    alone = os.environ | {"GIT_CEILING_DIRECTORIES": str(copy.parent)}
    subprocess.run(["git", "init", "-q"], cwd=copy, env=alone, check=True)
    for patch in PATCHES:
        applied = ["git", "apply", "--reverse", "--check", str(SIXTH / patch)]
        if subprocess.run(applied, cwd=copy, env=alone, capture_output=True).returncode != 0:
            subprocess.run(["git", "apply", str(SIXTH / patch)], cwd=copy, env=alone, check=True)
    _add_migration(copy)
    for generator in generators():
        done = _run(copy, *generator)
        assert done.returncode == 0, done.stderr
    recorded = _run(
        copy,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/database/test_document_bytes.py"),
        env={"WELLAPI_SNAPSHOT_UPDATE": "1"},
    )
    assert recorded.returncode == 0, recorded.stdout[-3000:]
    # What the steps wrote, committed as the page says.
    subprocess.run(["git", "add", "-A"], cwd=copy, env=alone, check=True)
    return copy


def test_the_sixth_resource_takes_at_most_150_hand_written_lines_outside_its_migration():
    assert hand_written_lines() <= HAND_WRITTEN_LIMIT


def test_its_migration_is_its_parent_table_and_the_ledgers_definition_applied():
    migration = (SIXTH / "migration.py").read_text(encoding="utf-8")

    assert migration.count("\n") <= MIGRATION_LIMIT
    assert LEDGER_CALL in migration


def test_the_tests_that_read_the_documents_and_what_make_generate_runs_are_found():
    assert {"tests/unit/test_doc_claims.py", "tests/unit/test_cost_doc.py"} <= set(
        document_readers()
    )
    assert ["-m", "welldev.openapi", "openapi.json"] in generators()


def test_make_generate_derives_its_functions_events_stack_and_openapi_paths(copy: Path):
    path = KEY.replace("_", "-")
    assert (copy / "stacks" / f"{path}.yaml").is_file()
    assert f"/v1/{path}" in (copy / "openapi.json").read_text(encoding="utf-8")
    operations = ("list", "retrieve", "create", "update", "delete", "related", "relationship")
    for operation in operations:
        assert (copy / "events" / f"{path}-{operation}.json").is_file(), operation
    assert "DocumentWorkspaceConnectorsListFunction" in (copy / "template.yaml").read_text()


def test_its_documents_bytes_are_added_and_no_others_change(copy: Path):
    before = json.loads((ROOT / DOCUMENT_BYTES).read_text(encoding="utf-8"))
    after = json.loads((copy / DOCUMENT_BYTES).read_text(encoding="utf-8"))

    kept = {name: text for name, text in before.items() if not name.startswith(KEY)}
    assert {name: after.get(name) for name in kept} == kept
    assert any(name.startswith(KEY) for name in after)


def test_the_copys_tests_hold_for_the_sixth_resource(copy: Path):
    whole = _run(copy, *PYTEST, *WHOLE)
    assert whole.returncode == 0, whole.stdout[-6000:]
    each = _run(copy, *PYTEST, "-k", "document", *FOR_EACH_RESOURCE)
    assert each.returncode == 0, each.stdout[-6000:]
    assert re.search(r"(\d+) passed", each.stdout), each.stdout[-2000:]


def test_the_documents_hold_for_the_sixth_resource(copy: Path):
    readers = _run(copy, *PYTEST, *document_readers())
    assert readers.returncode == 0, readers.stdout[-6000:]
