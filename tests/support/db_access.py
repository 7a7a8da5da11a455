"""Database access tests' tools: pools they dispose of, a TCP forwarder, moto and fake connects.

Enabled from ``tests/conftest.py`` (``pytest_plugins``) for its fixtures: ``pools``,
``forwarders``, ``aws`` and ``captured_connects``.

The embedded test server listens on a Unix socket only, and has no certificate: where a test
needs the pool to speak TCP or TLS, a ``Forwarder`` thread accepts on 127.0.0.1 and pipes the
bytes to the test server, terminating TLS with a context of the test's own.
"""

from __future__ import annotations

import gc
import json
import select
import socket
import ssl
import struct
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pg8000.dbapi
import pytest
from moto import mock_aws
from sqlalchemy import Engine

from wellapi.handlers.migration import migration_engine
from wellapi.roles import API_ROLE
from wellapi.settings import Settings
from wellapi.store import connections as db
from wellapi.store.sql import fixed
from welldev import database as local_db

PID = "SELECT pg_backend_pid()"


def backend_pid(pool: db.Pool | None = None, *, retry: bool = True) -> int:
    return int(db.execute([fixed(PID)], pool=pool, retry=retry)[0][0])


def api_pool(database: local_db.LocalDatabase, **overrides: Any) -> db.Pool:
    return db.build_pool(Settings(database_url=database.url_for(API_ROLE), **overrides))


def causes(error: BaseException | None) -> list[BaseException]:
    """``error`` and every error it was raised from or while handling, outermost first."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def reset_environment_pools() -> None:
    """Forget the execution environment's pool (and settings), as a new environment would."""
    db.reset_pools()


@pytest.fixture
def pools() -> Iterator[list[db.Pool | Engine]]:
    """Pools (and engines) a test builds, disposed at the end so no connection outlives it.

    A connection that failed may be held by its error's traceback, in a cycle with the test's
    frame (``pytest.raises(...) as raised``): collected now, it is closed while the test's
    sockets still exist, not at the interpreter's exit.
    """
    built: list[db.Pool | Engine] = []
    yield built
    for pool in built:
        pool.dispose()
    gc.collect()


# --- a byte pipe from 127.0.0.1 to the test server, optionally terminating TLS ----------------

SSL_REQUEST = struct.pack("!ii", 8, 80877103)


@dataclass
class Forwarder:
    """Accepts TCP on 127.0.0.1 and pipes each connection to the test server.

    With ``tls``, it answers PostgreSQL's SSLRequest with ``S`` and terminates TLS with that
    context, as a TLS-enabled server (or RDS Proxy) would. With ``hang_up``, it accepts and
    closes at once: a server that is there but refuses to talk. With ``silent``, it accepts and
    never answers: a server that is there but stuck.
    """

    target: dict[str, Any]
    tls: ssl.SSLContext | None = None
    hang_up: bool = False
    silent: bool = False
    accepted: int = 0
    held: list[socket.socket] = field(default_factory=list)
    listener: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def close(self) -> None:
        self.listener.close()
        for client in self.held:
            client.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.hang_up:
                client.close()
                continue
            if self.silent:
                self.held.append(client)
                continue
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _upstream(self) -> socket.socket:
        if "unix_sock" in self.target:
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target["unix_sock"])
            return upstream
        return socket.create_connection((self.target["host"], self.target["port"]))

    def _pipe(self, client: socket.socket) -> None:
        try:
            if self.tls is not None:
                if client.recv(8, socket.MSG_WAITALL) != SSL_REQUEST:
                    client.close()
                    return
                client.sendall(b"S")
                client = self.tls.wrap_socket(client, server_side=True)
            upstream = self._upstream()
        except (OSError, ssl.SSLError):
            client.close()
            return
        with client, upstream:
            other = {client: upstream, upstream: client}
            while True:
                readable, _, _ = select.select(list(other), [], [])
                for source in readable:
                    try:
                        data = source.recv(65536)
                        # TLS may hold decrypted bytes select() cannot see.
                        while isinstance(source, ssl.SSLSocket) and source.pending():
                            data += source.recv(source.pending())
                        if not data:
                            return
                        other[source].sendall(data)
                    except (OSError, ssl.SSLError):
                        return


@pytest.fixture
def forwarders(database: local_db.LocalDatabase) -> Iterator[Callable[..., Forwarder]]:
    started: list[Forwarder] = []
    target = db.url_connect_kwargs(database.admin_url)

    def start(**options: Any) -> Forwarder:
        forwarder = Forwarder(target, **options)
        started.append(forwarder)
        return forwarder

    yield start
    for forwarder in started:
        forwarder.close()


def tcp_url(database: local_db.LocalDatabase, role: str, port: int) -> str:
    return (
        f"postgresql://{role}:{quote(local_db.LOCAL_ROLE_PASSWORD, safe='')}"
        f"@127.0.0.1:{port}/{database.name}"
    )


@contextmanager
def dbapi_connection_of(pool: db.Pool | Engine) -> Iterator[Any]:
    """A raw pg8000 connection of a request pool or of Alembic's engine."""
    if isinstance(pool, db.Pool):
        with pool.connection() as connection:
            yield connection
    else:
        with pool.connect() as connection:
            yield connection.connection.dbapi_connection


def built_for(settings: Settings, *, autocommit: bool) -> db.Pool | Engine:
    """The request pool (autocommit) or the migrations' engine for the same settings."""
    return db.build_pool(settings) if autocommit else migration_engine(settings)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Moto in front of every AWS API, with fake credentials and a region."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def create_secret(name: str, username: str, password: str) -> str:
    import boto3

    client = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = client.create_secret(
        Name=name, SecretString=json.dumps({"username": username, "password": password})
    )["ARN"]
    return str(arn)


def rotate_secret(arn: str, username: str, password: str) -> None:
    import boto3

    boto3.client("secretsmanager", region_name="eu-west-1").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": username, "password": password})
    )


@pytest.fixture
def captured_connects(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace pg8000.dbapi.connect: record the keyword arguments, connect to nothing."""
    calls: list[dict[str, Any]] = []

    def connect(**kwargs: Any) -> object:
        calls.append(kwargs)
        return types.SimpleNamespace(close=lambda: None)

    monkeypatch.setattr(pg8000.dbapi, "connect", connect)
    return calls
