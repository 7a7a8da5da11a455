"""The sync function when things break: the database, the connection, the function itself.

Nothing here mocks the database. "Down" is a sync engine pointed at a port nobody listens on,
or the server cancelling the write or terminating its backend while the write waits on a lock
the test holds. A crash is the function dying after (or before) the write commits: in process
(an exception no handler catches) and as a real process killed with ``os._exit``.
In every case the batch's effect is all or nothing, and its redelivery completes it exactly
once.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support.api import Lambda
from wellapi.handlers import sync as sync_module
from wellapi.store import connections as db
from wellapi.sync import batches as writer
from welldev import database as local_db
from welldev.database import LocalDatabase

ROOT = Path(__file__).resolve().parents[2]
# A batch event, and the idempotency keys of its good messages.
Batch = tuple[dict[str, Any], list[str]]
handler = sync_module.sync_handler()


class Crash(BaseException):
    """The function dying: nothing in the handler catches it, like a timeout or an OOM kill."""


# The sync function's timeout (template/sync.yaml): a fresh invocation has all of it.
SYNC_TIMEOUT_MS = 120_000


def deliver(event: dict[str, Any]) -> list[str]:
    return sqs.failed_ids(handler(event, Lambda(remaining_ms=SYNC_TIMEOUT_MS)))


@pytest.fixture
def tenant(api_database: LocalDatabase, admin: Connection) -> f.Tenant:
    return f.tenant(admin)


@pytest.fixture
def batch(admin: Connection, tenant: f.Tenant) -> Batch:
    """Three good messages over two ledgers, and one malformed; and the good messages' keys."""
    accounts = s.records(admin, tenant, "account", 3)
    people = s.records(admin, tenant, "people", 2)
    wc = tenant.workspace_connector_id
    good = [
        s.linked(wc, [a[1] for a in accounts]),
        s.linked(wc, [p[1] for p in people], record_type="people", direction="output"),
        s.unlinked(wc, [accounts[0][1]]),
    ]
    event = sqs.event(good[0], good[1], "{malformed", good[2])
    return event, [m["idempotency_key"] for m in good]


def expected_after_one_application(tenant: f.Tenant, admin: Connection) -> None:
    links = s.ledger(admin, tenant.workspace_connector_pk)
    assert len(links) == 5
    assert [(link.record_type, link.live) for link in links if not link.live] == [
        ("account", False)
    ]


def nothing_written(tenant: f.Tenant, admin: Connection, keys: list[str]) -> None:
    assert s.ledger(admin, tenant.workspace_connector_pk) == []
    assert s.receipts(admin, keys) == []


def assert_reported_as_a_batch_failure(printed: str, tenant: f.Tenant) -> None:
    """One ERROR line naming the batch's connectors and runs; all four messages failed."""
    (error,) = [line for line in s.log_lines(printed) if line["level"] == "ERROR"]
    assert error["message"].endswith("the whole batch will be retried")
    # Raised from the driver's error: said by its class, without the traceback that quotes it.
    assert error["error_type"] == "DatabaseUnavailable"
    assert "exception" not in error
    assert error["workspace_connector_ids"] == [str(tenant.workspace_connector_id)]
    assert error["sync_run_ids"] == ["run-1"]
    assert s.metric_values(printed)["MessagesFailed"] == 4


@pytest.fixture
def fresh_pools() -> Iterator[None]:
    """Pools and settings are rebuilt from the environment before and after the test."""
    db.reset_pools()
    yield
    db.reset_pools()


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the database is unreachable ----------------------------------------------------------


def test_an_unreachable_database_fails_every_record_and_the_redelivery_writes_once(
    admin: Connection,
    tenant: f.Tenant,
    batch: Batch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fresh_pools: None,
) -> None:
    event, keys = batch
    (database,) = admin.run("SELECT current_database()")[0]
    s.follow_stdout(monkeypatch)
    with monkeypatch.context() as down:
        down.setenv(
            "SYNC_DATABASE_URL", f"postgresql://well_sync:x@127.0.0.1:{closed_port()}/{database}"
        )
        down.setenv("DB_CONNECT_TIMEOUT_SECONDS", "1")
        db.reset_pools()
        capsys.readouterr()

        assert deliver(event) == sqs.message_ids(event)

    printed = capsys.readouterr().out
    nothing_written(tenant, admin, keys)
    assert_reported_as_a_batch_failure(printed, tenant)
    db.reset_pools()
    assert deliver(event) == [sqs.message_ids(event)[2]]
    expected_after_one_application(tenant, admin)
    assert deliver(event) == [sqs.message_ids(event)[2]]
    expected_after_one_application(tenant, admin)


# --- the write is interrupted by the server -----------------------------------------------


def _interrupt_the_waiting_write(
    database: LocalDatabase, function: str, *, then_release: bool = False
) -> Callable[[], None]:
    """Hold a lock the write needs; once the write waits on it, ``function`` its backend (and,
    with ``then_release``, let the lock go at once, so what the function does next can pass).

    Returns the function that joins the helper thread and releases the lock.
    """
    locker = local_db.admin_connection(database.admin_url)
    locker.run("BEGIN")
    # The people ledger is the batch's second message: the receipts and the first message's
    # rows are already written (uncommitted) when the write stops here.
    locker.run("LOCK TABLE core_api.people_workspace_connectors IN SHARE MODE")
    done = threading.Event()

    def interrupt() -> None:
        watcher = local_db.admin_connection(database.admin_url)
        try:
            deadline = time.monotonic() + 60  # only bounds a hang
            while time.monotonic() < deadline:
                waiting = watcher.run(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND usename = 'well_sync' AND wait_event_type = 'Lock'"
                )
                if waiting:
                    watcher.run(f"SELECT {function}(:pid)", pid=waiting[0][0])
                    if then_release:
                        locker.run("ROLLBACK")
                    return
                time.sleep(0.02)
        finally:
            watcher.close()
            done.set()

    thread = threading.Thread(target=interrupt, daemon=True)
    thread.start()

    def release() -> None:
        done.wait(60)
        thread.join(60)
        if not then_release:
            locker.run("ROLLBACK")
        locker.close()

    return release


def test_a_statement_cancelled_mid_batch_leaves_the_other_messages_applied_in_the_invocation(
    admin: Connection,
    api_database: LocalDatabase,
    tenant: f.Tenant,
    batch: Batch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The statement fails in the middle of the transaction (a timeout, a cancellation): the
    # batch's transaction is gone, and each message is written again in one of its own.
    event, keys = batch
    s.follow_stdout(monkeypatch)
    capsys.readouterr()
    release = _interrupt_the_waiting_write(api_database, "pg_cancel_backend", then_release=True)
    try:
        failed = deliver(event)
    finally:
        release()

    assert failed == [sqs.message_ids(event)[2]]
    expected_after_one_application(tenant, admin)
    printed = capsys.readouterr().out
    (split,) = s.log_lines(printed, "the batch write failed; writing its messages one at a time")
    assert (split["error_type"], split["sqlstate"]) == ("DatabaseError", "57014")
    assert "canceling statement" not in printed  # the server's message, never logged
    assert split["workspace_connector_ids"] == [str(tenant.workspace_connector_id)]
    assert s.metric_values(printed)["BatchesSplit"] == 1
    assert s.receipts(admin, keys) == sorted(keys)
    assert deliver(event) == [sqs.message_ids(event)[2]]
    expected_after_one_application(tenant, admin)


def test_a_connection_lost_mid_batch_leaves_nothing_and_the_redelivery_writes_once(
    admin: Connection,
    api_database: LocalDatabase,
    tenant: f.Tenant,
    batch: Batch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The connection is lost in the middle of the transaction (failover, proxy restart): the
    # database is unavailable, and every record goes back to the queue.
    event, keys = batch
    s.follow_stdout(monkeypatch)
    capsys.readouterr()
    release = _interrupt_the_waiting_write(api_database, "pg_terminate_backend")
    try:
        failed = deliver(event)
    finally:
        release()

    assert failed == sqs.message_ids(event)
    nothing_written(tenant, admin, keys)
    assert_reported_as_a_batch_failure(capsys.readouterr().out, tenant)
    assert deliver(event) == [sqs.message_ids(event)[2]]
    expected_after_one_application(tenant, admin)
    assert deliver(event) == [sqs.message_ids(event)[2]]
    expected_after_one_application(tenant, admin)


# --- the function dies --------------------------------------------------------------------


# The crashed invocation publishes no metrics; Powertools warns about that.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_crash_after_commit_then_redelivery_writes_nothing_new(
    admin: Connection,
    tenant: f.Tenant,
    batch: Batch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event, keys = batch
    real_apply = writer.apply

    def apply_then_die(planned: Any, **kwargs: Any) -> Any:
        real_apply(planned, **kwargs)
        raise Crash

    with monkeypatch.context() as crashing:
        crashing.setattr(sync_module, "apply", apply_then_die)
        with pytest.raises(Crash):
            deliver(event)

    expected_after_one_application(tenant, admin)
    assert s.receipts(admin, keys) == sorted(keys)
    before = s.ledger(admin, tenant.workspace_connector_pk)
    s.follow_stdout(monkeypatch)
    capsys.readouterr()

    assert deliver(event) == [sqs.message_ids(event)[2]]

    assert s.ledger(admin, tenant.workspace_connector_pk) == before
    printed = capsys.readouterr().out
    assert len(s.log_lines(printed, "message already applied")) == 3
    assert s.log_lines(printed, "message applied") == []
    assert s.metric_values(printed)["RowsLinked"] == 0


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_crash_before_commit_leaves_nothing_and_the_redelivery_writes_once(
    admin: Connection, tenant: f.Tenant, batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, keys = batch

    def die_before_writing(planned: Any, **kwargs: Any) -> Any:
        raise Crash

    with monkeypatch.context() as crashing:
        crashing.setattr(sync_module, "apply", die_before_writing)
        with pytest.raises(Crash):
            deliver(event)

    nothing_written(tenant, admin, keys)
    assert deliver(event) == [sqs.message_ids(event)[2]]
    expected_after_one_application(tenant, admin)


KILLED_AFTER_COMMIT = """
import json, os, sys
from tests.support.api import Lambda
from wellapi.handlers import sync as handler
from wellapi.sync import batches as writer

real_apply = writer.apply

def apply_then_exit(planned, **kwargs):
    real_apply(planned, **kwargs)
    os._exit(17)  # no finally block, no response, no SQS delete

handler.apply = apply_then_exit
handler.sync_handler()(json.load(sys.stdin), Lambda())
os._exit(0)
"""


def test_a_process_killed_right_after_commit_is_redelivered_without_effect(
    admin: Connection, tenant: f.Tenant, batch: Batch
) -> None:
    event, keys = batch

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_COMMIT],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )

    assert killed.returncode == 17, killed.stderr
    expected_after_one_application(tenant, admin)
    before = s.ledger(admin, tenant.workspace_connector_pk)
    assert deliver(event) == [sqs.message_ids(event)[2]]
    assert s.ledger(admin, tenant.workspace_connector_pk) == before
    assert s.receipts(admin, keys) == sorted(keys)
