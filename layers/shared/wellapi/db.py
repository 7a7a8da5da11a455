"""The database connection of one execution environment.

One engine, created on first use, with a pool of one connection (a Lambda environment serves
one request at a time). Connections run in autocommit mode: a request is a single
simple-protocol query, which PostgreSQL executes as one implicit transaction, so no BEGIN or
COMMIT round trips are spent and nothing session-scoped is ever set (RDS Proxy would pin).
"""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import unquote

import pg8000.dbapi
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from wellapi.errors import DatabaseUnavailable
from wellapi.settings import Settings, get_settings

logger = logging.getLogger(__name__)
# Set by Lambda in every execution environment.
LAMBDA_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"

Row = list[Any]

_DISCONNECT_ERRORS = (pg8000.dbapi.InterfaceError, OSError, EOFError)


def url_connect_kwargs(url: str) -> dict[str, Any]:
    """pg8000 keyword arguments for a ``postgresql://user:password@host:port/db`` URL.

    A ``host`` query parameter naming a directory (as libpq allows) selects a Unix socket.
    """
    u = make_url(url)
    kwargs: dict[str, Any] = {
        "user": u.username or "postgres",
        "database": u.database or "postgres",
    }
    if u.password:
        kwargs["password"] = unquote(u.password)
    socket_dir = u.query.get("host")
    if isinstance(socket_dir, str) and socket_dir.startswith("/"):
        kwargs["unix_sock"] = f"{socket_dir}/.s.PGSQL.{u.port or 5432}"
    else:
        kwargs["host"] = u.host or "127.0.0.1"
        kwargs["port"] = u.port or 5432
    return kwargs


# Trust anchors shipped in the package (see certs/README.md): RDS Proxy presents an ACM
# certificate, which chains to the Amazon roots; a direct RDS connection chains to the RDS CAs.
PACKAGED_CA_FILES = ("amazon-root-cas.pem", "rds-global-bundle.pem")


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """TLS that verifies the server certificate and host name, never the system's CA store.

    ``ca_bundle`` (``DB_CA_BUNDLE``) replaces the packaged trust anchors.
    """
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    certs = resources.files("wellapi").joinpath("certs")
    pem = "".join(certs.joinpath(name).read_text("ascii") for name in PACKAGED_CA_FILES)
    return ssl.create_default_context(cadata=pem)


# An IAM token is accepted for 15 minutes after it is made; one made ahead is used only while
# it has at least five of them left.
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
    ahead = [(make(), time.monotonic())]

    def token() -> str:
        if ahead:
            made, at = ahead.pop()
            if time.monotonic() - at < FIRST_TOKEN_SECONDS:
                return made
        return make()

    return token


def _secret_credentials_factory(settings: Settings) -> Callable[[], tuple[str, str]]:
    import boto3

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


def _socket_of(dbapi_connection: Any) -> socket.socket | None:
    sock = getattr(dbapi_connection, "_usock", None)
    if isinstance(sock, ssl.SSLSocket):
        return sock
    return sock if isinstance(sock, socket.socket) else None


def _socket_listener(*, autocommit: bool, read_timeout: float | None) -> Callable[[Any, Any], None]:
    """What every new connection gets before first use."""

    def configure(dbapi_connection: Any, _record: Any) -> None:
        if autocommit:
            dbapi_connection.autocommit = True
        sock = _socket_of(dbapi_connection)
        if sock is None:
            return
        # pg8000 keeps its connect timeout on the socket for good. Reads get their own bound,
        # above the role's server-side statement_timeout, so a statement is cancelled by the
        # server first, while a dead network still fails fast instead of hanging the function.
        sock.settimeout(read_timeout)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            # pg8000 leaves Nagle on; large results then stall ~40 ms on delayed ACKs.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    return configure


def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Drop a connection the server has already closed, without spending a round trip.

    An idle connection in autocommit has nothing to read; if the socket is readable, the
    server has hung up (restart, proxy idle timeout) and the pool must connect anew.
    """
    sock = _socket_of(dbapi_connection)
    if sock is None:
        return
    readable, _, _ = select.select([sock], [], [], 0)
    if readable:
        raise exc.DisconnectionError("server closed the idle connection")


def build_engine(settings: Settings, *, autocommit: bool = True) -> Engine:
    engine = create_engine(
        "postgresql+pg8000://",
        creator=connection_factory(settings),
        poolclass=QueuePool,
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_recycle=settings.db_pool_recycle_seconds,
        pool_timeout=settings.db_connect_timeout_seconds,
    )
    # Migrations may run long: only autocommit (request) engines bound their reads.
    read_timeout = settings.db_read_timeout_seconds if autocommit else None
    event.listen(
        engine, "connect", _socket_listener(autocommit=autocommit, read_timeout=read_timeout)
    )
    event.listen(engine, "checkout", _on_checkout)
    return engine


def settings_for(role: str) -> Settings:
    """The API's settings, the sync writer's or the authorizer's (its own URL when one is set)."""
    settings = get_settings()
    update: dict[str, Any] = {}
    if role == "sync":
        update["db_read_timeout_seconds"] = settings.db_sync_read_timeout_seconds
        if settings.sync_database_url:
            update["database_url"] = settings.sync_database_url
    if role == "auth" and settings.auth_database_url:
        update["database_url"] = settings.auth_database_url
    return settings.model_copy(update=update) if update else settings


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def prepare_at_init(role: str = "api") -> None:
    """In Lambda with IAM or Secrets Manager credentials, build ``role``'s engine now.

    Called when a function module is imported, that is during Lambda's init: the boto3 client
    and the first IAM token are made there (init is what provisioned concurrency runs ahead of
    traffic), and the first request only opens its connection. Anywhere else (tests, the local
    runtime with ``DB_AUTH=url``) it does nothing and imports nothing. A failure is logged and
    left to the first request, which tries again: init itself must not fail on it.
    """
    if os.environ.get("DB_AUTH", "url") == "url" or not os.environ.get(LAMBDA_FUNCTION_NAME):
        return
    try:
        get_engine(role)
    except Exception as error:
        logger.warning(
            "could not make the database credentials during init; the first request will",
            extra={"role": role, "error_type": type(error).__name__},
        )


def get_engine(role: str = "api") -> Engine:
    """The execution environment's engine for a role, created on first use."""
    engine = _engines.get(role)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(role)
            if engine is None:
                engine = _engines[role] = build_engine(settings_for(role))
    return engine


def cached_engines() -> int:
    return len(_engines)


def reset_engines() -> None:
    """Close every engine and forget the settings (tests, and the local runner's setup)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
    get_settings.cache_clear()


def _run(engine: Engine, sql: str) -> list[Row]:
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            return [list(r) for r in cursor.fetchall()] if cursor.description else []
        finally:
            cursor.close()


def execute(sql: str, *, retry: bool = True, engine: Engine | None = None) -> list[Row]:
    """Send one simple-protocol query and return the rows of every statement in it, in order.

    A connection that drops is retried once when ``retry`` is true (reads, and writes whose
    repetition is harmless); otherwise the failure is reported as the database being
    unavailable, never as driver text.
    """
    engine = engine or get_engine()
    attempts = 2 if retry else 1
    for attempt in range(attempts):
        try:
            return _run(engine, sql)
        except exc.DBAPIError as error:
            # Connecting failed (SQLAlchemy wraps errors raised by the pool's creator).
            if attempt + 1 == attempts:
                raise DatabaseUnavailable() from error
        except exc.TimeoutError as error:
            raise DatabaseUnavailable() from error
        except _DISCONNECT_ERRORS as error:
            engine.pool.dispose()
            if attempt + 1 == attempts:
                raise DatabaseUnavailable() from error
    raise AssertionError("unreachable")  # pragma: no cover
