"""Running the Alembic migrations: from the command line, the tests and the deploy function.

The deploy function (``handler``) is invoked two ways:

- directly, with an event that has no ``RequestType`` (a person, a script): it runs
  ``alembic upgrade head`` and returns, an error propagating as the invocation's error;
- by CloudFormation, as the custom resource ``MigrationRun`` of template.yaml: it answers the
  custom-resource protocol, by PUTting the outcome to the event's pre-signed ``ResponseURL``,
  whatever happens (CloudFormation otherwise waits for the resource's ServiceTimeout).
  Create and Update upgrade to head, unless the database is at a revision this code does not
  know: that is a rollback to older code after a newer deploy migrated, and downgrading is not
  what a rollback should do to data, so it succeeds and leaves the schema alone. Delete
  succeeds and never downgrades either: deleting the stack must not drop the data.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from aws_lambda_powertools import Logger
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from wellapi.domain import SCHEMA
from wellapi.errors import LOCK_NOT_AVAILABLE, logged_failure, sqlstate_of
from wellapi.settings import Settings
from wellapi.store import connections

logger = Logger(service="wellapi-migrate", use_rfc3339=True)

# The custom resource's physical id. Constant, so that an Update never "replaces" the resource
# (a new id would make CloudFormation send a Delete for the old one).
PHYSICAL_RESOURCE_ID = "wellapi-schema-migrations"
# CloudFormation shows the reason in the stack's events; the whole response must stay < 4 KB.
MAX_REASON_CHARS = 300
RESPONSE_ATTEMPTS = 3
RESPONSE_TIMEOUT_SECONDS = 30
# user:password@ in anything URL-like that an error message might quote.
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def migrations_dir() -> Path:
    """Where the revisions are: beside the function code in Lambda, the repo's otherwise."""
    configured = os.environ.get("WELL_MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and (Path(task_root) / "env.py").exists():
        return Path(task_root)
    return Path(__file__).resolve().parents[4] / "migrations"


def migration_engine(settings: Settings) -> Engine:
    """Alembic's engine: the functions' connections, in transactions, without a read bound
    (a migration may run long; its statements are bounded by the server's lock timeout)."""
    engine = create_engine(
        "postgresql+pg8000://", creator=connections.connection_factory(settings), poolclass=NullPool
    )

    def configure(connection: Any, _record: Any) -> None:
        connections.configure_connection(connection, autocommit=False, read_timeout=None)

    event.listen(engine, "connect", configure)
    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str = "base") -> None:
    command.downgrade(alembic_config(connection), revision)


@contextmanager
def _transaction(settings: Settings) -> Iterator[Connection]:
    """One transaction on an engine of its own, disposed of afterwards."""
    engine = migration_engine(settings)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


# A statement that needs a lock the migration is waiting for queues behind the migration. The
# API role gives up on a lock after 2 s (well_api's lock_timeout): the migration gives up after 1 s,
# rolls back, pauses and tries again, so API traffic never waits out its own lock timeout
# behind a migration. Twenty tries over about a minute, well within the function's 300 s.
MIGRATION_LOCK_TIMEOUT_MS = 1000
LOCK_ATTEMPTS = 20
LOCK_PAUSE_SECONDS = 0.25
LOCK_PAUSE_MAX_SECONDS = 5.0


def _lock_retried[T](
    settings: Settings,
    work: Callable[[Connection], T],
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``work`` in one transaction that waits at most 1 s for any lock, tried again when it
    did (the transaction rolled back whole, so every try starts from the same schema) after a
    pause spent in ``sleep``."""
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            with _transaction(settings) as connection:
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {MIGRATION_LOCK_TIMEOUT_MS}")
                return work(connection)
        except DBAPIError as error:
            if sqlstate_of(error.orig or error) != LOCK_NOT_AVAILABLE or attempt == LOCK_ATTEMPTS:
                raise
            pause = min(LOCK_PAUSE_MAX_SECONDS, LOCK_PAUSE_SECONDS * 2 ** (attempt - 1))
            logger.warning(
                "the migration gave up waiting for a lock; it will try again",
                extra={"attempt": attempt, "pause_seconds": pause},
            )
            sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def upgrade_with(
    settings: Settings, revision: str = "head", sleep: Callable[[float], None] = time.sleep
) -> None:
    _lock_retried(settings, lambda connection: upgrade(connection, revision), sleep)


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at (none before the first migration)."""
    context = MigrationContext.configure(connection, opts={"version_table_schema": SCHEMA})
    return tuple(sorted(context.get_current_heads()))


@dataclass(frozen=True)
class Outcome:
    before: tuple[str, ...]
    after: tuple[str, ...]
    unknown: tuple[str, ...] = ()  # revisions of the database this code does not know

    @property
    def reason(self) -> str:
        before = ", ".join(self.before) or "none"
        after = ", ".join(self.after) or "none"
        if self.unknown:
            return (
                f"The database is at revision {before}, which this code does not know "
                "(a rollback): the schema was left as it is."
            )
        if self.before == self.after:
            return f"The schema is already at revision {after}."
        return f"The schema was migrated from revision {before} to {after}."


def upgrade_unless_newer(settings: Settings) -> Outcome:
    """Upgrade to head in one transaction, unless the database is at an unknown revision."""
    known = {script.revision for script in script_directory().walk_revisions()}

    def work(connection: Connection) -> Outcome:
        before = current_revisions(connection)
        unknown = tuple(r for r in before if r not in known)
        if unknown:
            return Outcome(before, before, unknown)
        upgrade(connection)
        return Outcome(before, current_revisions(connection))

    return _lock_retried(settings, work)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The deploy-time migration function: ``alembic upgrade head`` against RDS."""
    if "RequestType" in event:
        return answer_cloudformation(event, context)
    settings = Settings.from_environment()
    upgrade_with(settings)
    return {"status": "migrated", "revision": "head"}


def answer_cloudformation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle one custom-resource request and PUT the response; return what was sent."""
    request_type = event.get("RequestType")
    # Never the ResponseURL: its query string is a credential for writing the response.
    logger.info(
        "custom resource request",
        extra={
            "request_type": request_type,
            "logical_resource_id": event.get("LogicalResourceId"),
            "physical_resource_id": event.get("PhysicalResourceId"),
            "stack_id": event.get("StackId"),
            "request_id": event.get("RequestId"),
        },
    )
    status = "SUCCESS"
    data: dict[str, Any] = {}
    try:
        data = {"Revision": script_directory().get_current_head()}
        if request_type in ("Create", "Update"):
            outcome = upgrade_unless_newer(Settings.from_environment())
            if outcome.unknown:
                logger.warning(
                    "unknown database revision: not migrating", extra={"revisions": outcome.unknown}
                )
            reason = outcome.reason
        elif request_type == "Delete":
            reason = "The schema was kept: removing the stack never downgrades it."
        else:
            raise ValueError(f"unknown RequestType {request_type!r}")
        logger.info(reason)
    except Exception as error:
        logger.error("schema migration failed", **logged_failure(error))
        status, reason = "FAILED", failure_reason(error, context)
    response = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_RESOURCE_ID,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "NoEcho": False,
        "Data": data,
    }
    send_response(str(event["ResponseURL"]), response)
    return response


def failure_reason(error: Exception, context: Any) -> str:
    """A short, secret-free reason: the error's first line, and where the traceback is."""
    lines = str(error).strip().splitlines()
    message = _CREDENTIALS.sub("***@", lines[0] if lines else "")
    reason = f"{type(error).__name__}: {message}"
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 3] + "..."
    stream = getattr(context, "log_stream_name", None)
    return f"{reason} (see CloudWatch log stream {stream})" if stream else reason


def send_response(url: str, response: dict[str, Any]) -> None:
    """PUT the response to the pre-signed URL, as CloudFormation's cfn-response does."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    ):
        raise ValueError("ResponseURL must be an https URL")
    where = f"{parts.scheme}://{parts.netloc}{parts.path}"  # without the signature
    body = json.dumps(response).encode()
    # An empty Content-Type: the URL was signed without one (urllib would add its own).
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    for attempt in range(1, RESPONSE_ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as reply:  # noqa: S310
                logger.info(
                    "response sent",
                    extra={"to": where, "http_status": reply.status, "status": response["Status"]},
                )
                return
        except (urllib.error.URLError, OSError) as error:
            logger.warning(
                "could not send the response",
                extra={
                    "to": where,
                    "attempt": attempt,
                    "error_type": type(error).__name__,
                    "http_status": getattr(error, "code", None),
                },
            )
            if attempt == RESPONSE_ATTEMPTS:
                raise
            time.sleep(attempt)
