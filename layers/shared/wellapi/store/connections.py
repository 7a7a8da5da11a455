"""The database connections of one execution environment.

One connection per role, opened on first use and kept while the environment is warm: an
execution environment serves one request at a time, in Lambda and in the local emulator (one
process per environment), so nothing here is shared between threads. Connections run in
autocommit mode. A request is one transaction of one message: ``BEGIN``, the transaction's
settings, a proof made for this moment, the request's statements and ``COMMIT``, each bound to
its values and all pipelined over the extended query protocol before one Sync (``send``;
``wellapi.http.proofs``). Nothing session-scoped is ever
set; the statements with values are kept prepared under names from their text, checked before
each reuse (``wellapi.store.sql.named_pipeline``).

A role's connection is pg8000 and the standard library only: the statements are SQL text
(``wellapi.sqltext``), and importing SQLAlchemy would double an API function's cold start for
one connection. Alembic's engine is built in ``wellapi.handlers.migration`` from the same
``connection_factory``.
"""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from dataclasses import replace as replace_settings
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import pg8000.dbapi

from wellapi.errors import LOCK_NOT_AVAILABLE, DatabaseUnavailable, sqlstate_of
from wellapi.settings import Settings, SettingsError, get_settings
from wellapi.store import driver
from wellapi.store.notices import tell_of_settings_set_again
from wellapi.store.sql import (
    SUBVERTED_SQLSTATE,
    BoundStatement,
    Prepared,
    named_pipeline,
    pipeline,
)

if TYPE_CHECKING:
    import ssl

logger = logging.getLogger(__name__)
# Set by Lambda in every execution environment.
LAMBDA_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"

Row = list[Any]
# What one message of a transaction sends: its statements, each with its values.
Statements = Sequence[BoundStatement]

_DISCONNECT_ERRORS = (pg8000.dbapi.InterfaceError, OSError, EOFError)
# SQLSTATE query_canceled: a statement timeout, or a cancel. A timeout the session set itself
# (statement_timeout = 1) can cancel a transaction's message before the transaction's own
# settings hold: the connection is replaced, and the message sent again.
QUERY_CANCELED = "57014"


def url_connect_kwargs(url: str) -> dict[str, Any]:
    """pg8000 keyword arguments for a ``postgresql://user:password@host:port/db`` URL.

    A ``host`` query parameter naming a directory (as libpq allows) selects a Unix socket.
    """
    u = urlsplit(url)
    kwargs: dict[str, Any] = {
        "user": unquote(u.username) if u.username else "postgres",
        "database": unquote(u.path.lstrip("/")) or "postgres",
    }
    if u.password:
        kwargs["password"] = unquote(u.password)
    socket_dir = parse_qs(u.query).get("host", [""])[0]
    if socket_dir.startswith("/"):
        kwargs["unix_sock"] = f"{socket_dir}/.s.PGSQL.{u.port or 5432}"
    else:
        kwargs["host"] = u.hostname or "127.0.0.1"
        kwargs["port"] = u.port or 5432
    return kwargs


# Trust anchors shipped in the package (see certs/README.md): RDS Proxy presents an ACM
# certificate, which chains to the Amazon roots; a direct RDS connection chains to the RDS CAs.
PACKAGED_CA_FILES = ("amazon-root-cas.pem", "rds-global-bundle.pem")


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """TLS that verifies the server certificate and host name, never the system's CA store.

    ``ca_bundle`` (``DB_CA_BUNDLE``) replaces the packaged trust anchors.
    """
    # Imported here, as pg8000 does: only the TLS modes (iam, secret) pay for loading it.
    import ssl

    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    certs = Path(__file__).parent / "certs"
    pem = "".join((certs / name).read_text("ascii") for name in PACKAGED_CA_FILES)
    return ssl.create_default_context(cadata=pem)


# An IAM token is accepted for 15 minutes after it is made; one made ahead is used only while
# it has at least five of them left. Its age is read on the wall clock: a SnapStart snapshot
# may be restored hours after init, and only the wall clock is set right again on restore.
FIRST_TOKEN_SECONDS = 600.0


def _iam_password_factory(settings: Settings) -> Callable[[], str]:
    import boto3  # only functions that make credentials pay for importing boto3

    client = boto3.client("rds", region_name=settings.aws_region)

    def make() -> str:
        return str(
            client.generate_db_auth_token(
                DBHostname=settings.db_host,
                Port=settings.db_port,
                DBUsername=settings.db_user,
                Region=settings.aws_region,
            )
        )

    # The first token is made with the client (at init, see prepare_at_init), so the first
    # request only connects; every later connection makes its own.
    ahead = [(make(), time.time())]

    def token() -> str:
        if ahead:
            made, at = ahead.pop()
            if time.time() - at < FIRST_TOKEN_SECONDS:
                return made
        return make()

    return token


def _secret_credentials_factory(settings: Settings) -> Callable[[], tuple[str, str]]:
    import boto3  # as for IAM: only the functions that read the secret pay for boto3

    client = boto3.client("secretsmanager", region_name=settings.aws_region)
    secret_id = settings.db_secret_arn
    assert secret_id is not None  # Settings requires it when DB_AUTH=secret

    def credentials() -> tuple[str, str]:
        # Read per new connection, like IAM tokens: a rotated secret is picked up by the next
        # connection instead of locking a warm environment out until it is recycled.
        secret = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
        return str(secret["username"]), str(secret["password"])

    return credentials


def connection_factory(settings: Settings) -> Callable[[], Any]:
    """A function that opens one new pg8000 connection the way ``settings`` says."""
    timeout = settings.db_connect_timeout_seconds
    if settings.db_auth == "url":
        assert settings.database_url is not None
        kwargs = url_connect_kwargs(settings.database_url)

        def connect_url() -> Any:
            return pg8000.dbapi.connect(**kwargs, timeout=timeout)

        return connect_url

    context = tls_context(settings.db_ca_bundle)
    base = {"host": settings.db_host, "port": settings.db_port, "database": settings.db_name}
    if settings.db_auth == "iam":
        token = _iam_password_factory(settings)

        def connect_iam() -> Any:
            return pg8000.dbapi.connect(
                **base,
                user=settings.db_user,
                password=token(),
                ssl_context=context,
                timeout=timeout,
            )

        return connect_iam

    credentials = _secret_credentials_factory(settings)

    def connect_secret() -> Any:
        user, password = credentials()
        return pg8000.dbapi.connect(
            **base, user=user, password=password, ssl_context=context, timeout=timeout
        )

    return connect_secret


def configure_connection(
    dbapi_connection: Any, *, autocommit: bool, read_timeout: float | None
) -> None:
    """What every new connection gets before first use (the pools' and Alembic's)."""
    if autocommit:
        dbapi_connection.autocommit = True
        # A pool's connection keeps a request's statements prepared (``send``); Alembic's
        # does not.
        setattr(dbapi_connection, PREPARED, Prepared())
    sock = driver.socket_of(dbapi_connection)
    if sock is None:
        return
    # pg8000 keeps its connect timeout on the socket for good. Reads get their own bound,
    # above the role's server-side statement_timeout, so a statement is cancelled by the
    # server first, while a dead network still fails fast instead of hanging the function.
    sock.settimeout(read_timeout)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        # pg8000 leaves Nagle on; large results then stall ~40 ms on delayed ACKs.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _hung_up(dbapi_connection: Any) -> bool:
    """Whether the server has already closed an idle connection, known without a round trip.

    An idle connection in autocommit has nothing to read; if the socket is readable, the
    server has hung up (restart, proxy idle timeout) and the pool must connect anew.
    """
    sock = driver.socket_of(dbapi_connection)
    if sock is None:
        return False
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _close(dbapi_connection: Any) -> None:
    # A connection being thrown away may already be dead.
    with suppress(Exception):
        dbapi_connection.close()


class ConnectFailed(Exception):
    """A new connection could not be opened (the cause is the driver's error)."""


class OpeningFailed(Exception):
    """A transaction's message was cut short by its session before anything of it could be
    committed: it is safe to send again on another connection (the cause is the driver's
    error)."""


@dataclass
class _Opened:
    connection: Any
    opened_at: float
    # The settings the server reported when the connection opened (client_encoding,
    # DateStyle, TimeZone, standard_conforming_strings, ...): pg8000 encodes what it sends and
    # decodes what it reads by them.
    reported: dict[str, str]


# A reported setting that may change under a connection without anybody's SQL: a standby
# promoted in place.
_REPORTED_BY_THE_SERVER = frozenset({"in_hot_standby"})


def _reported(dbapi_connection: Any) -> dict[str, str]:
    statuses = getattr(dbapi_connection, "parameter_statuses", {})
    return {k: v for k, v in statuses.items() if k not in _REPORTED_BY_THE_SERVER}


def _between_transactions(dbapi_connection: Any) -> bool:
    """Whether the server's last answer left no transaction open (pg8000's ReadyForQuery
    status, None before the first query): inside one, a reported setting is the transaction's
    own (its search_path)."""
    return driver.transaction_status(dbapi_connection) in (None, b"I")


class Pool:
    """The environment's one connection of a role, opened on first use and kept while warm.

    An execution environment serves one request at a time, so one connection is all it ever
    lends, to one request at a time, and nothing here guards against a second caller. The
    connection is replaced when it is next taken if it is older than ``recycle_seconds`` (RDS
    Proxy drops clients idle for 30 minutes) or the server has hung up. One that failed at the
    network level is closed, never used again; one that received an error from the server is
    in a known state and is kept.
    """

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        recycle_seconds: float,
        read_timeout: float | None,
    ) -> None:
        self.recycle_seconds = recycle_seconds
        self._connect = connect
        self._read_timeout = read_timeout
        self._idle: _Opened | None = None
        self._lent = False

    def idle_count(self) -> int:
        return 0 if self._idle is None else 1

    def lent_count(self) -> int:
        return 1 if self._lent else 0

    def _take(self) -> _Opened:
        kept, self._idle = self._idle, None
        if kept is not None:
            too_old = time.monotonic() - kept.opened_at > self.recycle_seconds
            # A reported setting that is no longer what the connection opened with was set
            # for the session by SQL that ran on it: the server's side is undone by every
            # transaction's settings (``SETTINGS``), the driver's own state is not.
            changed = (
                _between_transactions(kept.connection)
                and _reported(kept.connection) != kept.reported
            )
            if not too_old and not changed and not _hung_up(kept.connection):
                return kept
            _close(kept.connection)
        try:
            connection = self._connect()
        except Exception as error:
            raise ConnectFailed(type(error).__name__) from error
        configure_connection(connection, autocommit=True, read_timeout=self._read_timeout)
        return _Opened(connection, time.monotonic(), _reported(connection))

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """Lend the connection for the ``with`` block."""
        opened = self._take()
        self._lent = True
        reusable = False
        try:
            yield opened.connection
            reusable = True
        except (pg8000.dbapi.DatabaseError, NamesSubverted):
            reusable = True  # the server answered: the connection is ready for the next query
            raise
        finally:
            self._lent = False
            if reusable:
                self._idle = opened
            else:
                _close(opened.connection)

    def open_one(self) -> None:
        """Open the connection ahead of the first request, unless it is open already."""
        if self._idle is None:
            with self.connection():
                pass

    def dispose(self) -> None:
        """Close the idle connection (after a network failure, it is suspect)."""
        kept, self._idle = self._idle, None
        if kept is not None:
            _close(kept.connection)

    def run(self, statements: Statements) -> list[Row]:
        """``statements`` as one message. A statement that fails in a transaction the message
        opened leaves it aborted: it is rolled back before the connection is lent again."""
        with self.connection() as connection:
            try:
                return send(connection, statements)
            except pg8000.dbapi.DatabaseError as error:
                _rows(connection.cursor(), "ROLLBACK")  # outside a transaction, only a warning
                _raise_if_subverted(error)
                raise

    def run_in_transaction(
        self,
        statements: Statements,
        *,
        commit: bool = True,
        read_only: bool = False,
        proof: BoundStatement | None = None,
    ) -> list[Row]:
        """``statements`` in a transaction of its own, as one message: ``BEGIN`` (read-only
        when ``read_only``, so the database itself refuses any write in it), the
        transaction's settings (``SETTINGS``), ``proof`` (a request's), the statements, and
        ``COMMIT`` when ``commit`` (the drainer's read keeps its transaction for its mark).

        A statement that fails leaves the transaction aborted: it is rolled back. One the
        session cut short before the transaction's settings held (``_cut_short``) fails as
        ``OpeningFailed``, to be sent again on a new connection: nothing of it was committed.
        So does a message without ``COMMIT`` whose connection the server closed under it (a
        read that timed out is not waited out twice). Whether a message with ``COMMIT`` was
        committed before its connection went nobody can tell: that is the caller's to retry.
        """
        with self.connection() as connection:
            cursor = connection.cursor()
            try:
                if not _between_transactions(connection):
                    cursor.execute("ROLLBACK")  # one a failed caller left open
                opening = READ_ONLY_OPENING if read_only else OPENING
                proving = () if proof is None else (proof,)
                closing = (COMMIT,) if commit else ()
                return send(connection, (*opening, *proving, *statements, *closing))
            except _DISCONNECT_ERRORS as error:
                if commit or _timed_out(error):
                    raise
                raise OpeningFailed(type(error).__name__) from error
            except pg8000.dbapi.DatabaseError as error:
                if _cut_short(cursor, error):
                    raise OpeningFailed(sqlstate_of(error) or "") from error
                _raise_if_subverted(error)
                raise
            except ValueError:
                cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.close()

    def run_proven(
        self, prove: Callable[[], BoundStatement], statements: Statements, *, read_only: bool
    ) -> list[Row]:
        """``statements`` in a transaction of its own, opened by ``prove()``, a proof made
        now, read-only for a read: one message, one round trip."""
        return self.run_in_transaction(statements, read_only=read_only, proof=prove())


# Each transaction names its isolation and access mode: the session's defaults are anybody's.
BEGIN = BoundStatement("BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE")
BEGIN_READ_ONLY = BoundStatement("BEGIN ISOLATION LEVEL READ COMMITTED, READ ONLY")
# After BEGIN in every transaction: every setting a role may change, set for this transaction
# to what the role runs with, so nothing a session left behind, set by hand or as the role's
# own default, reaches it. A procedure: it answers no row.
SETTINGS = BoundStatement("CALL core_api.set_transaction_settings()")
# What opens every transaction's message.
OPENING = (BEGIN, SETTINGS)
READ_ONLY_OPENING = (BEGIN_READ_ONLY, SETTINGS)
COMMIT = BoundStatement("COMMIT")


# SQLSTATE transaction_timeout (FATAL): the server ended the session, and its transaction.
TRANSACTION_TIMEOUT = "25P04"
# Whether the session's own statement_timeout is other than the one it started with: a
# cancel in a transaction's message came from the session's timer, not from the transaction's.
SESSION_TIMER_CHANGED = (
    # pg8000 lets a failed transaction's connection send only what starts with "ROLLBACK ".
    "ROLLBACK; SELECT setting IS DISTINCT FROM reset_val FROM pg_catalog.pg_settings "
    "WHERE name = 'statement_timeout'"
)


def _timed_out(error: BaseException) -> bool:
    """Whether a lost connection is a read that waited out its bound (pg8000 raises its
    ``InterfaceError`` from the socket's ``TimeoutError``)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__
    return False


def _cut_short(cursor: Any, error: pg8000.dbapi.DatabaseError) -> bool:
    """Whether a transaction's message failed by a timer its session set before the transaction's
    settings held (the transaction is rolled back either way).

    A transaction timeout ended the session (the transactions' settings turn it off, so the
    session's own ran). A cancel is the session's when its statement_timeout is not the one it
    started with (the transaction's settings are gone with the rollback); a session that
    cannot even answer that is cut short too. Any other error is the transaction's own.
    """
    code = sqlstate_of(error)
    if code == TRANSACTION_TIMEOUT:
        return True
    if code != QUERY_CANCELED:
        cursor.execute("ROLLBACK")
        return False
    try:
        ((changed,),) = _rows(cursor, SESSION_TIMER_CHANGED)
    except pg8000.dbapi.DatabaseError:
        return True
    return bool(changed)


def _rows(cursor: Any, sql: str) -> list[Row]:
    cursor.execute(sql)
    return [list(r) for r in cursor.fetchall()] if cursor.description else []


# The attribute of a connection that says what its session holds under our names.
PREPARED = "_well_prepared"
# SQLSTATEs after which the names a session held are no longer known to hold our statements:
# one not ours (the check), one gone (invalid_sql_statement_name), one whose plan no longer
# answers its columns after a migration (feature_not_supported: "cached plan must not change
# result type").
_NAMES_LOST = frozenset({SUBVERTED_SQLSTATE, "26000", "0A000"})
# A connection whose session lost our names this often sends every statement unnamed for the
# rest of its life: a proxy that does not keep a client's names on the backend it lends would
# otherwise cost every request a failed check and a second transaction.
NAMES_LOST_LIMIT = 3


def send(connection: Any, statements: Statements) -> list[Row]:
    """``statements`` pipelined over the extended query protocol, then one Sync: one round
    trip, the rows of every statement in order.

    The server runs them as a simple query's statements run: one implicit transaction unless
    one of them opens a block; after a failed statement it skips the rest up to the Sync, and
    the error is raised once every answer is read, the connection ready for its next query.
    ``connection`` is any pg8000 connection (the driver's own parameter conversion is used).
    On a pool's, the statements with values are kept prepared under their names
    (``wellapi.store.sql.named_pipeline``): a name's first message parses it, the later ones
    check it and bind it; after an error that says a name may not hold ours, each is parsed
    again.

    A message that sets its transaction's settings (``SETTINGS``) is written and read in UTF-8,
    the transaction's encoding from then on, whatever the session's: PostgreSQL reports a
    changed setting only before its ReadyForQuery, after the rows.
    """
    with _in_utf8(connection, enabled=SETTINGS in statements):
        try:
            return _sent(connection, statements)
        finally:
            tell_of_settings_set_again(connection)


@contextmanager
def _in_utf8(connection: Any, *, enabled: bool) -> Iterator[None]:
    """pg8000 encoding and decoding in UTF-8 meanwhile, then as before unless the server
    reported another encoding meanwhile."""
    if not enabled:
        yield
        return
    kept = driver.client_encoding(connection)
    reported = getattr(connection, "parameter_statuses", {}).get("client_encoding")
    driver.set_client_encoding(connection, "utf8")
    try:
        yield
    finally:
        if getattr(connection, "parameter_statuses", {}).get("client_encoding") == reported:
            driver.set_client_encoding(connection, kept)


def _sent(connection: Any, statements: Statements) -> list[Row]:
    prepared: Prepared | None = getattr(connection, PREPARED, None)
    framed = None if prepared is None else named_pipeline(connection, statements, prepared)
    message = pipeline(connection, statements) if framed is None else framed.data
    try:
        answer = driver.round_trip(connection, message, statements[0].text if statements else "")
    except pg8000.dbapi.DatabaseError as error:
        if prepared is not None and framed is not None:
            prepared.settle(framed, succeeded=False)
            if sqlstate_of(error) in _NAMES_LOST:
                prepared.held.clear()
                prepared.lost += 1
                if prepared.lost >= NAMES_LOST_LIMIT:
                    logger.warning("the session keeps losing our statements' names: unnamed now")
                    setattr(connection, PREPARED, None)
        raise
    if prepared is not None and framed is not None:
        prepared.settle(framed, succeeded=True)
    return answer.rows or []


class NamesSubverted(Exception):
    """A message failed its check of the names it binds (``wellapi.store.sql.check_statement``):
    a name held a statement that was not ours, so nothing of the message ran. Sent again, it
    parses every name afresh (the cause is the driver's error)."""


def _raise_if_subverted(error: BaseException) -> None:
    """``NamesSubverted`` for a message that failed its check (already rolled back)."""
    if sqlstate_of(error) == SUBVERTED_SQLSTATE:
        # SQL on this session put a statement of its own under one of our names: an attack.
        logger.warning("a statement held under one of our names was not ours")
        raise NamesSubverted(SUBVERTED_SQLSTATE) from error


def build_pool(settings: Settings) -> Pool:
    return Pool(
        connection_factory(settings),
        recycle_seconds=settings.db_pool_recycle_seconds,
        read_timeout=settings.db_read_timeout_seconds,
    )


# The pool of the API's reads: the reader endpoint's connection, as the API role.
READER = "read"
# The pool of the healer's login (wellapi.sync.role_defaults), beside a scheduled function's own.
HEAL = "heal"


def settings_for(role: str) -> Settings:
    """The API's settings, its reads', the sync writer's, the authorizer's, the drainer's or the
    operator's (its own URL when one is set), or the healer's."""
    settings = get_settings()
    update: dict[str, Any] = {}
    if role == READER and settings.has_reader:
        if settings.db_auth == "url":
            update["database_url"] = settings.database_reader_url
        else:
            update["db_host"] = settings.db_reader_host
    if role == "sync":
        update["db_read_timeout_seconds"] = settings.db_sync_read_timeout_seconds
        if settings.sync_database_url:
            update["database_url"] = settings.sync_database_url
    if role == "auth" and settings.auth_database_url:
        update["database_url"] = settings.auth_database_url
    if role == "drain" and settings.drain_database_url:
        update["database_url"] = settings.drain_database_url
    if role == "operator" and settings.operator_database_url:
        update["database_url"] = settings.operator_database_url
    if role == HEAL:
        update |= _heal_login(settings)
    return replace_settings(settings, **update) if update else settings


def _heal_login(settings: Settings) -> dict[str, Any]:
    """The healer's login: never the function's own, which could not set anything back."""
    variable, name, value = {
        "iam": ("HEAL_DB_USER", "db_user", settings.heal_db_user),
        "secret": ("HEAL_DB_SECRET_ARN", "db_secret_arn", settings.heal_db_secret_arn),
        "url": ("HEAL_DATABASE_URL", "database_url", settings.heal_database_url),
    }[settings.db_auth]
    if not value:
        raise SettingsError(f"Invalid settings: {variable} is required by the healer")
    return {name: value}


_pools: dict[str, Pool] = {}


# Set by Lambda to "snap-start" when this init is the one a SnapStart snapshot is taken of.
INITIALIZATION_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"


def prepare_at_init(role: str = "api") -> None:
    """In Lambda, open ``role``'s first connection now, during the function's init.

    Called when a function module is imported, that is during Lambda's init: the boto3 client
    and the first IAM token (or the secret) are made there and the connection is opened, so
    the first request only sends its query; init is what provisioned concurrency runs ahead of
    traffic and what a SnapStart snapshot holds. A snapshot's connection and token are stale
    by the time it is restored: both are replaced after restore. Anywhere else (tests, the
    local runtime) it does nothing. A failure is logged and left to the first request, which
    tries again: init itself must not fail on it.
    """
    if not os.environ.get(LAMBDA_FUNCTION_NAME):
        return
    _open_first_connection(role)
    if os.environ.get(INITIALIZATION_TYPE) == "snap-start":
        # Provided by the Lambda runtime; only a SnapStart init imports it.
        from snapshot_restore_py import register_after_restore  # type: ignore[import-untyped]

        register_after_restore(reopen_after_restore, role)


def _open_first_connection(role: str) -> None:
    try:
        get_pool(role).open_one()
    except Exception as error:
        logger.warning(
            "could not connect to the database during init; the first request will",
            extra={"role": role, "error_type": type(error).__name__},
        )


def reopen_after_restore(role: str) -> None:
    """After a SnapStart restore: a new pool (a new token) and a new first connection."""
    stale = _pools.pop(_pool_role(role), None)
    if stale is not None:
        stale.dispose()
    _open_first_connection(role)


def _pool_role(role: str) -> str:
    """The pool a role's connection is kept in: reads share the API's without a reader."""
    return "api" if role == READER and not get_settings().has_reader else role


def get_pool(role: str = "api") -> Pool:
    """The execution environment's connection of a role, created on first use.

    ``READER`` is the API role's connection to the reader endpoint, or its only connection
    when no reader is set.
    """
    role = _pool_role(role)
    pool = _pools.get(role)
    if pool is None:
        pool = _pools[role] = build_pool(settings_for(role))
    return pool


def cached_pools() -> int:
    return len(_pools)


def reset_pools() -> None:
    """Close every pool and forget the settings (tests, and the local runner's setup)."""
    for pool in _pools.values():
        pool.dispose()
    _pools.clear()
    get_settings.cache_clear()


def unavailable() -> DatabaseUnavailable:
    """The database cannot serve now: clients are told to wait as the settings say."""
    return DatabaseUnavailable(retry_after_seconds=get_settings().db_retry_after_seconds)


def read(statements: Statements, prove: Callable[[], BoundStatement]) -> list[Row]:
    """A request that only reads: read-only, on the reader endpoint when one is set."""
    return execute(statements, pool=get_pool(READER), prove=prove, read_only=True)


def execute(
    statements: Statements,
    *,
    retry: bool = True,
    pool: Pool | None = None,
    prove: Callable[[], BoundStatement] | None = None,
    read_only: bool = False,
) -> list[Row]:
    """Send ``statements`` and return the rows of every one of them, in order.

    With ``prove`` (what makes the statement of a proof, ``wellapi.http.proofs``), in a
    transaction of its own opened by a proof made now (``Pool.run_proven``), read-only when
    ``read_only``; without, as one message (``send``).
    A connection that drops is retried once when ``retry`` is true (reads, and writes whose
    repetition is harmless); otherwise the failure is reported as the database being
    unavailable, never as driver text. A message the session cut short is sent again once,
    on a new connection: nothing of it was committed.
    """
    pool = pool or get_pool()
    if prove is None:
        return _attempts(lambda: pool.run(statements), pool, retry)
    return _attempts(lambda: pool.run_proven(prove, statements, read_only=read_only), pool, retry)


def in_transaction(
    statements: Statements, *, retry: bool = True, pool: Pool | None = None, commit: bool = True
) -> list[Row]:
    """``statements`` in a transaction of its own without a proof (``Pool.run_in_transaction``): the
    sync writer's, the sweeper's and the drainer's; retried as ``execute`` says."""
    pool = pool or get_pool()
    return _attempts(lambda: pool.run_in_transaction(statements, commit=commit), pool, retry)


def _attempts(run: Callable[[], list[Row]], pool: Pool, retry: bool) -> list[Row]:
    for attempt in range(2):
        try:
            return run()
        except ConnectFailed as error:
            if attempt or not retry:
                raise unavailable() from error.__cause__
        except OpeningFailed as error:
            pool.dispose()
            if attempt:
                raise unavailable() from error.__cause__
        except NamesSubverted as error:
            # Nothing of the message ran; sent again, it parses every name it binds afresh
            # (``send`` forgot them), so it cannot fail the check twice.
            if attempt:
                raise unavailable() from error.__cause__
        except _DISCONNECT_ERRORS as error:
            pool.dispose()
            if attempt or not retry:
                raise unavailable() from error
    raise AssertionError("unreachable")  # pragma: no cover


# How many times a transaction waits out its lock_timeout for a lock a stalled session holds.
STALL_ATTEMPTS = 3


def end_stalled_sessions(pool: Pool) -> int:
    """End the sessions of application roles that outlived their role's timeouts (revision
    0028: only a session that turned its own timeouts off can); answers how many."""
    ((ended,),) = in_transaction([END_STALLED_SESSIONS], pool=pool)
    return int(ended)


END_STALLED_SESSIONS = BoundStatement("SELECT core_api.end_stalled_sessions()")


def execute_past_stalls(statements: Statements, *, pool: Pool | None = None) -> list[Row]:
    """``statements`` in a transaction of its own (``in_transaction``), not retried on a dropped
    connection; a lock it waited for past the role's lock_timeout is taken back.

    A session of any application role that holds what this transaction needs and has turned
    its own timeouts off is ended once it outlives them (``end_stalled_sessions``), and the
    transaction is sent again, up to ``STALL_ATTEMPTS`` times in all: the sync writer and the
    sweeper are stalled at most by the offending role's own bound (``well_private.
    session_bounds``: about 10 s for the API role, 60 s for the drainer's), never for good.
    """
    pool = pool or get_pool()
    for attempt in range(1, STALL_ATTEMPTS + 1):
        try:
            return in_transaction(statements, retry=False, pool=pool)
        except pg8000.dbapi.DatabaseError as error:
            if sqlstate_of(error) != LOCK_NOT_AVAILABLE or attempt == STALL_ATTEMPTS:
                raise
            ended = end_stalled_sessions(pool)
            logger.warning(
                "a lock was held past this role's lock_timeout",
                extra={"attempt": attempt, "sessions_ended": ended},
            )
    raise AssertionError("unreachable")  # pragma: no cover
