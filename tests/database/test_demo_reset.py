"""``wellapi seed --reset`` (``make demo-reset``) puts the demo back, so every example works again.

On a database of its own, seeded by ``wellapi seed`` as ``make run`` seeds: every Delete
example of the OpenAPI document and of ``events/`` is run, and the examples naming those rows
fail; after the command, the API events of ``events/`` get their designed answer again (as
``test_events`` runs them), and so do the OpenAPI examples (as ``test_openapi_examples`` runs
them), after each other, with a reset between. The demo keys of ``.local/demo.json`` are kept,
another tenant's rows are never touched, and a ``DATABASE_URL`` database without the demo is
refused before anything is written there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.database import test_events as events
from tests.database import test_openapi_examples as examples
from tests.support import factories as f
from tests.support import histories
from tests.support import read_factories as rf
from tests.support.api import JSONAPI, Lambda, Reply, call, event
from wellapi.domain import SCHEMA
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import RESOURCES
from wellapi.roles import API_ROLE
from welldev import cli, demo_reset, seed
from welldev import database as local_db
from welldev.claims import claims, sign_event
from welldev.function_roles import functions_connected_as

# The five resources' tables, whose demo rows the examples change.
RESOURCE_TABLES = tuple(resource.table.name for resource in RESOURCES.values())
# The Delete examples of the OpenAPI document, and the operations they are.
DELETES = [
    *((resource, "delete") for resource in RESOURCES),
    ("workspace_providers", "remove"),
    ("workspace_group_workspaces", "unenrol"),
]


@pytest.fixture(scope="module")
def demo(
    server: local_db.LocalDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[local_db.LocalDatabase, Path]]:
    """A database seeded by ``wellapi seed``, the commands run from a directory of their own."""
    name = f"wellapi_demo_reset_{os.getpid()}"
    db = local_db.prepare(server, name, replace=True)
    root = tmp_path_factory.mktemp("demo_reset")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", db.admin_url)
        patch.delenv("PORT", raising=False)
        patch.chdir(root)
        assert cli.main(["seed"]) == 0
        with functions_connected_as(db, API_ROLE):
            yield db, root
    local_db.drop_database(server, name)


def demo_claims(db: local_db.LocalDatabase) -> dict[str, dict[str, str]]:
    admin = local_db.admin_connection(db.admin_url)
    try:
        ada = seed.demo_members()[0]
        return {
            kind: claims(admin, ada.person_id, ada.workspace_id, kind)
            for kind in ("member", "service")
        }
    finally:
        admin.close()


def demo_state(db: local_db.LocalDatabase) -> dict[str, list[Any]]:
    """Every row of the resources' tables and what the seed sets in them, without times.

    ``created_at`` is the row's own and ``updated_at`` moves at every write; a row is compared
    by whether it is live.
    """
    admin = local_db.admin_connection(db.admin_url)
    try:
        state = {}
        for table in RESOURCE_TABLES:
            rows = admin.run(
                f"SELECT to_jsonb(t) - 'pk' - 'created_at' - 'updated_at' - 'deleted_at', "
                f"t.deleted_at IS NULL FROM {SCHEMA}.{table} t"
            )
            state[table] = sorted((json.dumps(r[0], sort_keys=True), r[1]) for r in rows)
        for table in demo_reset.SYNC_STATE:
            state[table.name] = admin.run(f"SELECT count(*) FROM {SCHEMA}.{table.name}")
        return state
    finally:
        admin.close()


def reset(db: local_db.LocalDatabase, capsys: pytest.CaptureFixture[str]) -> str:
    """``wellapi seed --reset`` on ``db`` (the functions' DATABASE_URL is their own role's)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", db.admin_url)
        assert cli.main(["seed", "--reset"]) == 0
    return capsys.readouterr().err


def run_the_delete_examples(db: local_db.LocalDatabase) -> None:
    keys = demo_claims(db)
    for resource, operation in DELETES:
        status = examples.send(keys, resource, operation).status
        # The unenrol example removes the enrolment the group's Delete example removed: 404.
        assert status == (404 if operation == "unenrol" else 204), (resource, operation)
    admin = local_db.admin_connection(db.admin_url)
    try:
        deletes = [e for e in events.API_EVENTS if events._route(e[0]).method == "DELETE"]
        signed = {name: sign_event(admin, events._event(name)) for _, name in deletes}
    finally:
        admin.close()
    for function_id, name in deletes:
        reply = events._handler_of(function_id)(signed[name], Lambda())
        # The OpenAPI examples removed the same rows already: 404 now.
        assert reply["statusCode"] in (204, 404), name


def test_after_every_delete_example_the_reset_makes_every_example_work_again(
    demo, capsys: pytest.CaptureFixture[str]
):
    db, root = demo
    seeded = demo_state(db)
    keys_before = (root / ".local" / "demo.json").read_text()

    run_the_delete_examples(db)
    keys = demo_claims(db)
    # What the issue saw: the examples that name the deleted rows now fail.
    for resource in RESOURCES:
        assert examples.send(keys, resource, "retrieve").status == 404, resource
        assert examples.send(keys, resource, "related").status == 404, resource

    log = reset(db, capsys)
    assert "==> resetting the demo data of the database DATABASE_URL names, " in log
    assert "==> put back: " in log
    assert "; removed: " in log
    assert "==> kept the demo keys of the last run: demo:acme, demo:globex, demo:service" in log
    assert (root / ".local" / "demo.json").read_text() == keys_before
    assert demo_state(db) == seeded

    # Every event of events/ gets its designed answer, the sync batches and the sweep included.
    events.test_api_events_get_their_designed_answer_on_the_seeded_demo(db)
    events.test_sync_events_apply_and_only_the_poison_record_fails(db)
    events.test_sweep_event_leaves_no_revocation_pending(db)
    assert demo_state(db) != seeded

    reset(db, capsys)
    assert demo_state(db) == seeded
    keys = demo_claims(db)
    examples.test_the_read_examples_reach_demo_rows(keys)
    examples.test_the_create_and_update_examples_succeed_on_the_demo(keys)
    examples.test_the_enrolment_examples_do_what_they_say(keys)

    # And once more from there: the rows the examples added are gone, the demo as seeded.
    reset(db, capsys)
    assert demo_state(db) == seeded
    examples.test_the_create_and_update_examples_succeed_on_the_demo(demo_claims(db))


def updated_at(db: local_db.LocalDatabase) -> dict[str, list[Any]]:
    admin = local_db.admin_connection(db.admin_url)
    try:
        return {
            table: admin.run(f"SELECT updated_at FROM {SCHEMA}.{table} ORDER BY pk")
            for table in RESOURCE_TABLES
        }
    finally:
        admin.close()


def test_a_reset_of_an_untouched_demo_changes_nothing(demo, capsys: pytest.CaptureFixture[str]):
    db, _ = demo
    reset(db, capsys)
    before = updated_at(db)
    assert "==> put back: none; removed: none; stored responses cleared: none" in reset(db, capsys)
    assert updated_at(db) == before


def test_the_reset_never_touches_another_tenants_rows(demo, capsys: pytest.CaptureFixture[str]):
    db, _ = demo
    admin = local_db.admin_connection(db.admin_url)
    try:
        tenant = f.tenant(admin)
        made = [rf.make_row(admin, tenant, table) for table in RESOURCE_TABLES]
        made.append(rf.make_row(admin, tenant, "workspace_providers", deleted=True))
    finally:
        admin.close()

    def theirs() -> list[Any]:
        conn = local_db.admin_connection(db.admin_url)
        try:
            return [
                conn.run(f"SELECT t.* FROM {SCHEMA}.{row.resource} t WHERE pk = :pk", pk=row.pk)
                for row in made
            ]
        finally:
            conn.close()

    before = theirs()
    reset(db, capsys)
    assert theirs() == before


def test_a_database_url_without_the_demo_is_refused_untouched(
    demo, server: local_db.LocalDatabase, capsys: pytest.CaptureFixture[str]
):
    name = f"wellapi_not_demo_{os.getpid()}"
    missing = server.with_database(name)
    with pytest.MonkeyPatch.context() as patch:
        # A database that does not exist: not created.
        patch.setenv("DATABASE_URL", missing.admin_url)
        assert cli.main(["seed", "--reset"]) == 1
        assert "holds no demo data: nothing reset" in capsys.readouterr().err
        assert local_db.connect_unless_missing(missing) is None
        # One that exists, without the schema or at head without the demo: left as it is.
        local_db.create_database(server, name)
        try:
            assert cli.main(["seed", "--reset"]) == 1
            local_db.prepare(server, name)
            assert cli.main(["seed", "--reset"]) == 1
            admin = local_db.admin_connection(missing.admin_url)
            try:
                assert admin.run(f"SELECT count(*) FROM {SCHEMA}.workspaces") == [[0]]
                assert admin.run(f"SELECT count(*) FROM {SCHEMA}.api_keys") == [[0]]
            finally:
                admin.close()
        finally:
            local_db.drop_database(server, name)


def select_with_key(db: local_db.LocalDatabase, key: str) -> Reply:
    """The documented select of a provider, retried safely: with an ``Idempotency-Key``."""
    route = OPERATIONS["select"].path(RESOURCES["workspace_providers"])
    spec = examples.DOCUMENT["paths"][route]["post"]
    parameters = {p["name"]: p["example"] for p in spec["parameters"] if p["in"] == "path"}
    (example,) = spec["requestBody"]["content"][JSONAPI]["examples"].values()
    return call(
        "workspace_providers",
        "select",
        event(
            "POST",
            route.format(**parameters),
            claims=demo_claims(db)["member"],
            path_parameters=parameters,
            body=json.dumps(example["value"]),
            headers={"content-type": JSONAPI, "idempotency-key": key},
            route=route,
        ),
    )


def kept_answers(db: local_db.LocalDatabase) -> int:
    """The stored responses of the demo keys' persons."""
    admin = local_db.admin_connection(db.admin_url)
    try:
        return int(
            admin.run(
                "SELECT count(*) FROM well_private.idempotency_keys i "
                f"WHERE i.person_pk IN (SELECT person_pk FROM {SCHEMA}.api_keys "
                "WHERE name LIKE 'demo:%')"
            )[0][0]
        )
    finally:
        admin.close()


def demo_disagreements(db: local_db.LocalDatabase) -> dict[str, Any]:
    """Where a consumer of the demo workspaces' records does not end where their rows are."""
    admin = local_db.admin_connection(db.admin_url)
    try:
        found: dict[str, Any] = {}
        for member in seed.demo_members():
            (workspace_pk,) = admin.run(
                f"SELECT pk FROM {SCHEMA}.workspaces WHERE workspace_id = :w",
                w=str(member.workspace_id),
            )[0]
            found |= histories.disagreements(
                histories.replay(histories.stored(admin, workspace_pk)),
                histories.rows_of(admin, workspace_pk),
            )
        return found
    finally:
        admin.close()


def test_the_reset_records_what_it_changes_and_clears_its_kept_answers_and_says_so(
    demo, capsys: pytest.CaptureFixture[str]
):
    db, _ = demo
    reset(db, capsys)
    first = select_with_key(db, "demo-reset-retry")
    assert select_with_key(db, "demo-reset-retry").headers.get("Idempotent-Replayed") == "true"
    run_the_delete_examples(db)
    assert kept_answers(db) > 0

    said = reset(db, capsys)
    again = select_with_key(db, "demo-reset-retry")

    assert "stored responses cleared: " in said
    assert "idempotency_keys" in said.split("stored responses cleared: ")[1]
    # The retry after the reset is a new request: the row it names is live, as its record says.
    assert first.status == again.status
    assert "Idempotent-Replayed" not in again.headers
    # The records of the seed, the examples and the reset itself tell where the demo is.
    assert demo_disagreements(db) == {}
    reset(db, capsys)
    assert kept_answers(db) == 0
    assert demo_disagreements(db) == {}
