"""Database access behind RDS Proxy: one lazy pool, TCP_NODELAY, retries, TLS, no pinning.

Everything runs against the real test PostgreSQL. Where a test needs the pool to speak TCP
(the embedded server listens on a Unix socket only) or TLS (the test server has no certificate),
a small forwarder thread in this file accepts on 127.0.0.1 and pipes the bytes to the test
server; the TLS variant terminates TLS with a certificate from a CA generated here. Only the two
connect-argument tests replace ``pg8000.dbapi.connect``, and they run no query.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
import select
import socket
import ssl
import struct
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.signers
import pg8000.core
import pg8000.dbapi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto import mock_aws
from sqlalchemy import Engine

from wellapi import db, errors
from wellapi.http.handler import api_handler
from wellapi.migrate import migration_engine
from wellapi.roles import API_ROLE, SYNC_ROLE
from wellapi.settings import Settings, get_settings
from welldev import database as local_db

PID = "SELECT pg_backend_pid()"
PACKAGED_CAS = {
    "proxy": Path(db.__file__).parent / "certs" / "amazon-root-cas.pem",
    "rds": Path(db.__file__).parent / "certs" / "rds-global-bundle.pem",
}


def backend_pid(pool: db.Pool | None = None, *, retry: bool = True) -> int:
    return int(db.execute(PID, pool=pool, retry=retry)[0][0])


def api_pool(database: local_db.LocalDatabase, **overrides: Any) -> db.Pool:
    return db.build_pool(Settings(database_url=database.url_for(API_ROLE), **overrides))


def reset_environment_pools() -> None:
    """Forget the execution environment's pool (and settings), as a new environment would."""
    db.reset_pools()


@pytest.fixture
def pools() -> Iterator[list[db.Pool | Engine]]:
    """Pools (and engines) a test builds, disposed at the end so no connection outlives it."""
    built: list[db.Pool | Engine] = []
    yield built
    for pool in built:
        pool.dispose()


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
        f"postgresql://{role}:{local_db.quote_password(local_db.LOCAL_ROLE_PASSWORD)}"
        f"@127.0.0.1:{port}/{database.name}"
    )


# --- certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    ca_name: str
    server_context: ssl.SSLContext


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(directory: Path, ca_name: str, server_name: str = "localhost") -> Pki:
    """A CA and a server certificate it signed for ``server_name``, written as PEM files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(server_name))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file = directory / "server.pem"
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file = directory / "server.key"
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    return Pki(ca_file, ca_name, server_context)


def ca_common_names(context: ssl.SSLContext) -> list[str]:
    return [
        value
        for cert in context.get_ca_certs()
        for rdn in cert["subject"]
        for key, value in rdn
        if key == "commonName"
    ]


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


# --- one pool per execution environment ---------------------------------------------------


def test_environment_engine_is_created_on_first_use_once_and_connects_lazily(api_database):
    reset_environment_pools()
    assert db.cached_pools() == 0

    pool = db.get_pool()

    assert db.get_pool() is pool
    assert db.get_pool("api") is pool
    assert pool.idle_count() == 0  # creating the pool opened no connection
    assert pool.lent_count() == 0
    first = backend_pid()
    assert backend_pid() == first  # the one pooled connection serves every request
    assert pool.idle_count() == 1


def test_pool_holds_one_connection_and_a_second_checkout_reports_unavailable(api_database, pools):
    pool = api_pool(api_database, db_connect_timeout_seconds=0.2)
    pools.append(pool)
    assert pool.size == 1

    with pool.connection():
        started = time.monotonic()
        with pytest.raises(errors.DatabaseUnavailable):
            db.execute("SELECT 1", pool=pool)
        assert time.monotonic() - started < 2

    assert db.execute("SELECT 1", pool=pool) == [[1]]


def test_pooled_connection_is_recycled_before_the_proxy_idle_timeout(api_database, pools):
    settings = Settings(database_url=api_database.url_for(API_ROLE))
    pool = db.build_pool(settings)
    pools.append(pool)
    assert pool.recycle_seconds == settings.db_pool_recycle_seconds < 30 * 60

    first = backend_pid(pool)
    assert backend_pid(pool) == first  # young: reused
    pool._idle[-1].opened_at -= settings.db_pool_recycle_seconds + 1  # as if it were that old

    assert backend_pid(pool) != first


def test_engine_runs_in_autocommit_one_implicit_transaction_per_query(api_database, admin, pools):
    pool = api_pool(api_database)
    pools.append(pool)
    xact = "SELECT pg_current_xact_id()::text"

    (first,), (same,) = db.execute(f"{xact}; {xact}", pool=pool)
    ((next_query,),) = db.execute(xact, pool=pool)

    assert first == same  # the statements of one query share its implicit transaction
    assert next_query != first  # which ended with the query: no COMMIT was needed
    with pool.connection() as conn:
        assert conn.autocommit is True
        cursor = conn.cursor()
        cursor.execute(PID)
        pid = cursor.fetchone()[0]
    assert admin.run("SELECT state FROM pg_stat_activity WHERE pid = :pid", pid=pid) == [["idle"]]


# --- TCP_NODELAY ----------------------------------------------------------------------------


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


def nodelay(pool: db.Pool | Engine) -> tuple[int, int, bool]:
    with dbapi_connection_of(pool) as dbapi_connection:
        sock = dbapi_connection._usock
        return (
            sock.family,
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
            dbapi_connection.autocommit,
        )


@pytest.mark.parametrize("autocommit", [True, False], ids=["request-pool", "migration-engine"])
def test_every_tcp_connection_has_tcp_nodelay(api_database, forwarders, pools, autocommit):
    forwarder = forwarders()
    url = tcp_url(api_database, API_ROLE, forwarder.port)
    pool = built_for(Settings(database_url=url), autocommit=autocommit)
    pools.append(pool)

    family, flag, engine_autocommit = nodelay(pool)
    assert family == socket.AF_INET
    assert flag != 0
    assert engine_autocommit is autocommit

    pool.dispose()  # the next connection is a new one: it gets the option too
    assert nodelay(pool)[1] != 0
    assert forwarder.accepted == 2


def test_pg8000_alone_leaves_nagle_on_which_is_why_the_engine_sets_nodelay(
    api_database, forwarders
):
    forwarder = forwarders()
    conn = pg8000.dbapi.connect(
        **db.url_connect_kwargs(tcp_url(api_database, API_ROLE, forwarder.port))
    )
    try:
        assert conn._usock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        conn.close()


# --- dropped connections --------------------------------------------------------------------


def terminate(admin, pid: int) -> None:
    # The timeout makes pg_terminate_backend wait until the backend has exited.
    assert admin.run("SELECT pg_terminate_backend(:pid, 5000)", pid=pid) == [[True]]


def sleep_on(pid: int) -> str:
    """A read that sleeps only on backend ``pid``: the first attempt hangs, a retry does not."""
    return f"SELECT pg_backend_pid() FROM pg_sleep(CASE WHEN pg_backend_pid() = {pid} THEN 4 END)"


class Killer(threading.Thread):
    """Terminates backend ``pid`` once it is busy sleeping, from its own admin connection."""

    def __init__(self, admin_url: str, pid: int) -> None:
        super().__init__(daemon=True)
        self.admin_url, self.pid, self.killed = admin_url, pid, False

    def run(self) -> None:
        conn = local_db.admin_connection(self.admin_url)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not self.killed:
                busy = conn.run(
                    "SELECT 1 FROM pg_stat_activity "
                    "WHERE pid = :pid AND state = 'active' AND wait_event = 'PgSleep'",
                    pid=self.pid,
                )
                if busy:
                    self.killed = conn.run("SELECT pg_terminate_backend(:pid)", pid=self.pid) == [
                        [True]
                    ]
                else:
                    time.sleep(0.005)
        finally:
            conn.close()


@pytest.mark.parametrize("retry", [True, False], ids=["retry", "no-retry"])
def test_connection_killed_between_reads_is_replaced_on_the_next_read(api_database, admin, retry):
    first = backend_pid()
    terminate(admin, first)

    # The pool sees the hung-up socket at checkout and connects anew before sending anything,
    # so even a caller that allows no retry gets its answer.
    second = backend_pid(retry=retry)

    assert second != first
    assert backend_pid() == second


def test_connection_dropped_during_a_read_is_retried_once_on_a_fresh_connection(
    api_database, pools
):
    pool = api_pool(api_database)
    pools.append(pool)
    first = backend_pid(pool)
    killer = Killer(api_database.admin_url, first)
    killer.start()

    started = time.monotonic()
    rows = db.execute(sleep_on(first), pool=pool)

    killer.join()
    assert killer.killed
    assert rows[0][0] != first
    assert time.monotonic() - started < 3  # the first attempt was cut short, not waited out


def test_connection_dropped_during_a_statement_without_retry_raises_database_unavailable(
    api_database, pools
):
    pool = api_pool(api_database)
    pools.append(pool)
    first = backend_pid(pool)
    killer = Killer(api_database.admin_url, first)
    killer.start()

    with pytest.raises(errors.DatabaseUnavailable) as raised:
        db.execute(sleep_on(first), pool=pool, retry=False)

    killer.join()
    assert killer.killed
    assert isinstance(raised.value.__cause__, pg8000.dbapi.InterfaceError)
    assert raised.value.headers() == {"Retry-After": "2"}  # DB_RETRY_AFTER_SECONDS' default
    assert raised.value.to_object()["code"] == "SERVICE_UNAVAILABLE"
    # The broken connection was thrown away: the next read works.
    assert backend_pid(pool) != first


@pytest.mark.parametrize(("retry", "attempts"), [(True, 2), (False, 1)])
def test_unreachable_database_is_tried_once_more_then_reported_unavailable(
    forwarders, pools, retry, attempts
):
    server = forwarders(hang_up=True)
    pool = db.build_pool(
        Settings(database_url=f"postgresql://well_api:x@127.0.0.1:{server.port}/well")
    )
    pools.append(pool)

    with pytest.raises(errors.DatabaseUnavailable) as raised:
        db.execute("SELECT 1", pool=pool, retry=retry)

    assert server.accepted == attempts
    assert "network error" not in str(raised.value)  # no driver text towards the client


@pytest.mark.parametrize("autocommit", [True, False], ids=["request-pool", "migration-engine"])
def test_statement_longer_than_the_connect_timeout_is_not_cut_by_the_client(
    api_database, pools, autocommit
):
    settings = Settings(database_url=api_database.url_for(API_ROLE), db_connect_timeout_seconds=0.2)
    pool = built_for(settings, autocommit=autocommit)
    pools.append(pool)

    # Statements are bounded by the server's statement_timeout, not by the connect timeout.
    with dbapi_connection_of(pool) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_sleep(0.5), 1")
        assert list(map(list, cursor.fetchall())) == [["", 1]]


def test_a_reply_that_never_comes_is_given_up_on_after_the_read_timeout(api_database, pools):
    settings = Settings(database_url=api_database.url_for(API_ROLE), db_read_timeout_seconds=0.3)
    pool = db.build_pool(settings)
    pools.append(pool)

    started = time.monotonic()
    with pytest.raises(errors.DatabaseUnavailable):
        db.execute("SELECT pg_sleep(2)", pool=pool, retry=False)
    assert time.monotonic() - started < 1.5


def test_the_sync_writer_waits_longer_than_its_statement_timeout(api_database):
    sync = db.settings_for("sync")
    assert sync.db_read_timeout_seconds > 60 > db.settings_for("api").db_read_timeout_seconds > 5


def test_server_that_never_answers_is_given_up_on_within_the_connect_timeout(forwarders, pools):
    server = forwarders(silent=True)
    pool = db.build_pool(
        Settings(
            database_url=f"postgresql://well_api:x@127.0.0.1:{server.port}/well",
            db_connect_timeout_seconds=0.3,
        )
    )
    pools.append(pool)

    started = time.monotonic()
    with pytest.raises(errors.DatabaseUnavailable):
        db.execute("SELECT 1", pool=pool)

    assert server.accepted == 2  # the first attempt and its one retry
    assert time.monotonic() - started < 3


# --- server-side statement timeout ----------------------------------------------------------


def test_api_role_gets_its_statement_timeout_from_the_server(api_database):
    assert db.execute("SHOW statement_timeout") == [["5s"]]


def test_api_role_plans_with_the_random_page_cost_of_ssd_storage_from_the_server(api_database):
    # Revision 0013: the ordered walk of a busy record's index must beat a bitmap of its rows.
    assert db.execute("SHOW random_page_cost") == [["1.1"]]


def test_statement_over_the_timeout_is_cancelled_with_an_unavailable_sqlstate(api_database):
    started = time.monotonic()
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:
        # Transaction-local, so nothing session-level is set: the one-second sleep is cut at
        # 50 ms exactly as the role's 5 s timeout would cut a longer one.
        db.execute("SELECT set_config('statement_timeout', '50ms', true); SELECT pg_sleep(1)")
    elapsed = time.monotonic() - started

    assert errors.sqlstate_of(raised.value) == "57014"
    assert errors.is_unavailable(errors.sqlstate_of(raised.value))
    assert isinstance(errors.database_error(raised.value), errors.DatabaseUnavailable)
    assert elapsed < 0.9
    # The shortened timeout died with its transaction; the connection is still good.
    assert db.execute("SHOW statement_timeout") == [["5s"]]


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("57014", True),  # query_canceled (statement timeout)
        ("57P01", True),  # admin_shutdown
        ("08006", True),  # connection_failure
        ("53300", True),  # too_many_connections
        ("40001", True),  # serialization_failure
        ("40P01", True),  # deadlock_detected
        ("23505", False),  # unique_violation: a rule, not an outage
        ("42501", False),  # insufficient_privilege
        (None, False),
    ],
)
def test_sqlstates_meaning_try_again_are_classified_unavailable(sqlstate, unavailable):
    assert errors.is_unavailable(sqlstate) is unavailable


def test_driver_failures_map_to_unavailable_and_rule_violations_are_left_to_the_caller():
    assert isinstance(
        errors.database_error(pg8000.dbapi.InterfaceError("network error")),
        errors.DatabaseUnavailable,
    )
    assert isinstance(errors.database_error(ConnectionResetError()), errors.DatabaseUnavailable)
    assert isinstance(
        errors.database_error(pg8000.dbapi.DatabaseError({"C": "40001"})),
        errors.DatabaseUnavailable,
    )
    assert errors.database_error(pg8000.dbapi.DatabaseError({"C": "23505"})) is None
    assert errors.database_error(ValueError("not a driver error")) is None


def test_sqlstate_and_constraint_are_read_from_driver_errors_only():
    driver_error = pg8000.dbapi.DatabaseError(
        {"S": "ERROR", "C": "23505", "n": "workspace_providers_workspace_provider_active_unique"}
    )
    assert errors.sqlstate_of(driver_error) == "23505"
    assert errors.constraint_of(driver_error) == (
        "workspace_providers_workspace_provider_active_unique"
    )
    assert errors.sqlstate_of(pg8000.dbapi.DatabaseError({"S": "ERROR"})) is None
    assert errors.constraint_of(pg8000.dbapi.DatabaseError({"C": "57014"})) is None
    assert errors.sqlstate_of(ValueError("57014")) is None
    assert errors.constraint_of(ValueError()) is None


# --- three ways to connect ------------------------------------------------------------------


def test_url_mode_connects_over_a_unix_socket_or_tcp_as_the_url_says():
    assert db.url_connect_kwargs("postgresql://u:p%40ss@db.example:6432/well") == {
        "user": "u",
        "password": "p@ss",
        "database": "well",
        "host": "db.example",
        "port": 6432,
    }
    assert db.url_connect_kwargs("postgresql:///?host=/run/pg") == {
        "user": "postgres",
        "database": "postgres",
        "unix_sock": "/run/pg/.s.PGSQL.5432",
    }
    assert db.url_connect_kwargs("postgresql://u@/well?host=/run/pg&port=1") == {
        "user": "u",
        "database": "well",
        "unix_sock": "/run/pg/.s.PGSQL.5432",
    }
    assert db.url_connect_kwargs("postgresql://u@:7000/well?host=/run/pg")["unix_sock"] == (
        "/run/pg/.s.PGSQL.7000"
    )
    assert db.url_connect_kwargs("postgresql://u@/well") == {
        "user": "u",
        "database": "well",
        "host": "127.0.0.1",
        "port": 5432,
    }


def assert_verifying_tls(context: Any, ca_name: str) -> None:
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert ca_common_names(context) == [ca_name]  # only our CA: no system-wide trust


def _iam_environment(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """DB_AUTH=iam settings and a counter of the IAM tokens made."""
    monkeypatch.setenv("DB_AUTH", "iam")
    monkeypatch.setenv("DB_HOST", "proxy.proxy-abc.eu-west-1.rds.amazonaws.com")
    tokens: list[str] = []
    generate = botocore.signers.generate_db_auth_token

    def counting(self: Any, *args: Any, **kwargs: Any) -> str:
        tokens.append(generate(self, *args, **kwargs))
        return tokens[-1]

    monkeypatch.setattr(botocore.signers, "generate_db_auth_token", counting)
    get_settings.cache_clear()
    db.reset_pools()
    return tokens


def test_iam_mode_makes_a_token_for_every_new_connection_and_requires_verified_tls(
    aws, monkeypatch, tmp_path, captured_connects
):
    pki = make_pki(tmp_path, "Test RDS CA (IAM)")
    tokens = _iam_environment(monkeypatch)
    monkeypatch.setenv("DB_NAME", "well")
    monkeypatch.setenv("DB_CA_BUNDLE", str(pki.ca_file))
    connect = db.connection_factory(Settings.from_environment())
    assert len(tokens) == 1  # made with the client, for the first connection

    connect()
    connect()

    assert len(tokens) == 2  # the first connection took the token made ahead
    assert [call["password"] for call in captured_connects] == tokens
    for call in captured_connects:
        assert {k: call[k] for k in ("host", "port", "database", "user")} == {
            "host": "proxy.proxy-abc.eu-west-1.rds.amazonaws.com",
            "port": 5432,
            "database": "well",
            "user": "well_api",
        }
        assert_verifying_tls(call["ssl_context"], pki.ca_name)
    token = tokens[0]
    assert token.startswith("proxy.proxy-abc.eu-west-1.rds.amazonaws.com:5432/?Action=connect")
    assert "DBUser=well_api" in token
    assert "X-Amz-Expires=900" in token


def test_in_lambda_an_api_function_makes_its_token_and_connects_during_init(
    aws, monkeypatch, captured_connects
):
    tokens = _iam_environment(monkeypatch)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "well-retrieve")
    try:
        api_handler("account_workspace_connectors", "retrieve")  # what the module import runs

        assert len(tokens) == 1
        assert [call["password"] for call in captured_connects] == tokens
        assert db.get_pool().idle_count() == 1  # the first request finds it open
    finally:
        get_settings.cache_clear()
        db.reset_pools()


def test_outside_lambda_init_opens_nothing_and_makes_no_credentials(aws, monkeypatch):
    tokens = _iam_environment(monkeypatch)
    try:
        api_handler("account_workspace_connectors", "retrieve")  # no AWS_LAMBDA_FUNCTION_NAME

        assert tokens == []
        assert db.cached_pools() == 0
    finally:
        get_settings.cache_clear()
        db.reset_pools()


@pytest.fixture
def lambda_with_url(api_database, monkeypatch) -> Iterator[None]:
    """A Lambda environment reaching the test database by URL, with a fresh pool."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "well-retrieve")
    monkeypatch.setenv("DB_AUTH", "url")
    monkeypatch.setenv("DATABASE_URL", api_database.url_for(API_ROLE))
    reset_environment_pools()
    yield
    reset_environment_pools()


def test_in_lambda_with_a_url_init_connects_as_the_api_role(lambda_with_url):
    api_handler("account_workspace_connectors", "retrieve")

    pool = db.get_pool()
    assert pool.idle_count() == 1
    assert db.execute("SELECT current_user") == [[API_ROLE]]
    assert pool.idle_count() == 1  # the request used the connection init opened


def test_after_a_snapstart_restore_the_connection_is_opened_anew(lambda_with_url, monkeypatch):
    import snapshot_restore_py

    monkeypatch.setattr(snapshot_restore_py, "_after_restore_registry", [])
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    api_handler("account_workspace_connectors", "retrieve")
    in_snapshot = db.get_pool()
    snapshot_pid = backend_pid()

    for hook, args, kwargs in snapshot_restore_py.get_after_restore():  # as the runtime does
        hook(*args, **kwargs)

    assert db.get_pool() is not in_snapshot
    assert in_snapshot.idle_count() == 0  # closed: a restored copy must not share it
    assert db.get_pool().idle_count() == 1
    assert backend_pid() != snapshot_pid


def test_credentials_that_fail_during_init_are_left_to_the_first_request(aws, monkeypatch, caplog):
    _iam_environment(monkeypatch)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "well-retrieve")
    monkeypatch.delenv("DB_HOST")  # settings that cannot be built
    try:
        with caplog.at_level("WARNING", logger="wellapi.db"):
            api_handler("account_workspace_connectors", "retrieve")

        assert db.cached_pools() == 0
        assert "during init" in caplog.text
    finally:
        get_settings.cache_clear()
        db.reset_pools()


def test_a_token_made_ahead_and_grown_old_is_not_used(aws, monkeypatch, captured_connects):
    tokens = _iam_environment(monkeypatch)
    clock = [1000.0]
    monkeypatch.setattr(db.time, "time", lambda: clock[0])
    connect = db.connection_factory(Settings.from_environment())
    clock[0] += db.FIRST_TOKEN_SECONDS

    connect()

    assert len(tokens) == 2
    assert captured_connects[0]["password"] == tokens[1]


def test_secret_mode_connects_with_the_secret_and_rereads_it_for_each_new_connection(
    aws, monkeypatch, tmp_path, captured_connects
):
    pki = make_pki(tmp_path, "Test RDS CA (secret)")
    arn = create_secret("well/db", "well_api", "first-password")
    monkeypatch.setenv("DB_AUTH", "secret")
    monkeypatch.setenv("DB_HOST", "proxy.proxy-abc.eu-west-1.rds.amazonaws.com")
    monkeypatch.setenv("DB_PORT", "5432")
    monkeypatch.setenv("DB_SECRET_ARN", arn)
    monkeypatch.setenv("DB_CA_BUNDLE", str(pki.ca_file))
    connect = db.connection_factory(Settings.from_environment())

    connect()
    rotate_secret(arn, "well_api", "rotated-password")
    connect()

    assert [(c["user"], c["password"]) for c in captured_connects] == [
        ("well_api", "first-password"),
        ("well_api", "rotated-password"),
    ]
    for call in captured_connects:
        assert (call["host"], call["port"], call["database"]) == (
            "proxy.proxy-abc.eu-west-1.rds.amazonaws.com",
            5432,
            "well",
        )
        assert_verifying_tls(call["ssl_context"], pki.ca_name)


def test_tls_context_trusts_exactly_the_configured_ca_bundle(monkeypatch, tmp_path):
    pki = make_pki(tmp_path, "Test RDS CA (bundle)")
    monkeypatch.setenv("DB_CA_BUNDLE", str(pki.ca_file))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")

    context = db.tls_context(Settings.from_environment().db_ca_bundle)

    assert_verifying_tls(context, pki.ca_name)


def test_tls_context_defaults_to_the_proxy_and_rds_cas_shipped_in_the_package(monkeypatch):
    monkeypatch.delenv("DB_CA_BUNDLE", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert Settings.from_environment().db_ca_bundle is None
    missing = [path for path in PACKAGED_CAS.values() if not path.is_file()]
    assert not missing, (
        f"CA certificates are not packaged: {missing}. RDS Proxy's certificate chains to the "
        "Amazon roots (amazon-root-cas.pem), a direct RDS connection to the RDS CAs "
        "(rds-global-bundle.pem); without them every IAM/secret connection fails."
    )
    expected = ssl.create_default_context(cafile=str(PACKAGED_CAS["proxy"]))
    expected.load_verify_locations(cafile=str(PACKAGED_CAS["rds"]))

    context = db.tls_context(None)

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert sorted(map(repr, context.get_ca_certs())) == sorted(map(repr, expected.get_ca_certs()))
    names = ca_common_names(context)
    assert "Amazon Root CA 1" in names  # RDS Proxy (ACM) chains here
    assert any(name.startswith("Amazon RDS") for name in names)  # direct RDS connections


@dataclass
class SecretMode:
    """DB_AUTH=secret pointed at a forwarder, with a secret holding real local credentials."""

    monkeypatch: pytest.MonkeyPatch
    database_name: str
    arn: str

    def settings(self, port: int, host: str, ca_file: Path) -> Settings:
        for key, value in {
            "DB_AUTH": "secret",
            "DB_HOST": host,
            "DB_PORT": str(port),
            "DB_NAME": self.database_name,
            "DB_SECRET_ARN": self.arn,
            "DB_CA_BUNDLE": str(ca_file),
            "DB_CONNECT_TIMEOUT_SECONDS": "2",
        }.items():
            self.monkeypatch.setenv(key, value)
        return Settings.from_environment()


@pytest.fixture
def secret_mode(aws, monkeypatch, api_database) -> SecretMode:
    arn = create_secret("well/db-live", API_ROLE, local_db.LOCAL_ROLE_PASSWORD)
    return SecretMode(monkeypatch, api_database.name, arn)


def test_secret_mode_reaches_a_server_whose_certificate_the_bundle_vouches_for(
    secret_mode, forwarders, tmp_path, pools
):
    pki = make_pki(tmp_path, "Test RDS CA (live)")
    proxy = forwarders(tls=pki.server_context)
    pool = db.build_pool(secret_mode.settings(proxy.port, "localhost", pki.ca_file))
    pools.append(pool)

    assert db.execute("SELECT current_user", pool=pool) == [[API_ROLE]]
    with pool.connection() as conn:
        sock = conn._usock
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0

    # A rotated secret is used by the next new connection, without a new environment.
    rotate_secret(secret_mode.arn, SYNC_ROLE, local_db.LOCAL_ROLE_PASSWORD)
    pool.dispose()
    assert db.execute("SELECT current_user", pool=pool) == [[SYNC_ROLE]]


@pytest.mark.parametrize(
    "case", ["certificate-from-another-ca", "certificate-for-another-host", "server-without-tls"]
)
def test_proxy_modes_never_talk_to_a_server_they_cannot_verify(
    secret_mode, forwarders, tmp_path, pools, case
):
    trusted = make_pki(tmp_path / "trusted", "Trusted RDS CA")
    rogue = make_pki(tmp_path / "rogue", "Rogue CA")
    if case == "certificate-from-another-ca":
        proxy, host = forwarders(tls=rogue.server_context), "localhost"
    elif case == "certificate-for-another-host":
        proxy, host = forwarders(tls=trusted.server_context), "127.0.0.1"
    else:
        proxy, host = forwarders(), "localhost"  # plain TCP: answers the SSLRequest with N
    pool = db.build_pool(secret_mode.settings(proxy.port, host, trusted.ca_file))
    pools.append(pool)

    with pytest.raises(errors.DatabaseUnavailable) as raised:
        db.execute("SELECT current_user", pool=pool)

    causes = []
    cause: BaseException | None = raised.value
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    texts = " | ".join(f"{type(c).__name__}: {c}" for c in causes)
    if case == "server-without-tls":
        assert "Server refuses SSL" in texts
    else:
        assert any(isinstance(c, ssl.SSLCertVerificationError) for c in causes), texts


# --- nothing that pins an RDS Proxy session -------------------------------------------------

PINNING = {
    "session SET": re.compile(r"(?:^|;)\s*SET\s+(?!LOCAL\b)", re.I),
    "session set_config": re.compile(r"\bset_config\s*\((?:[^()]|\([^()]*\))*,\s*false\s*\)", re.I),
    "PREPARE": re.compile(r"(?:^|;)\s*PREPARE\b", re.I),
    "DECLARE cursor": re.compile(r"(?:^|;)\s*DECLARE\b", re.I),
    "LISTEN": re.compile(r"(?:^|;)\s*LISTEN\b", re.I),
    "session advisory lock": re.compile(r"\bpg_(?:try_)?advisory_lock(?:_shared)?\s*\(", re.I),
    "temporary table": re.compile(r"\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?TEMP(?:ORARY)?\b", re.I),
    "sequence call": re.compile(r"\bnextval\s*\(", re.I),
}
COMMENTS = re.compile(r"/\*.*?\*/|--[^\n]*", re.S)


def pinning_reasons(method: str, statement: str) -> list[str]:
    if method in ("prepare_statement", "execute_named"):
        return ["named prepared statement"]
    text = COMMENTS.sub(" ", statement)
    return [reason for reason, pattern in PINNING.items() if pattern.search(text)]


@pytest.mark.parametrize(
    ("method", "statement", "reason"),
    [
        ("execute_simple", "SET statement_timeout = 0", "session SET"),
        ("execute_simple", "select 1; set search_path to core_api", "session SET"),
        ("execute_simple", "/* x */ SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", None),
        ("execute_unnamed", "SELECT set_config('well.x', '1', false)", "session set_config"),
        ("execute_simple", "PREPARE p AS SELECT 1", "PREPARE"),
        ("execute_simple", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "DECLARE cursor"),
        ("execute_simple", "LISTEN changes", "LISTEN"),
        ("execute_simple", "SELECT pg_advisory_lock(42)", "session advisory lock"),
        ("execute_simple", "create temporary table t (x int)", "temporary table"),
        ("execute_simple", "CREATE TEMP TABLE t AS SELECT 1", "temporary table"),
        ("execute_simple", "INSERT INTO t VALUES (nextval('s'))", "sequence call"),
        ("prepare_statement", "SELECT 1", "named prepared statement"),
    ],
)
def test_pinning_detector_flags_what_would_pin_a_proxy_session(method, statement, reason):
    reasons = pinning_reasons(method, statement)
    assert reasons == ([reason] if reason else ["session SET"])


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT set_config('well.workspace_pk', '7', true); SELECT 1",
        "SET LOCAL statement_timeout = '1s'",
        "SELECT pg_advisory_xact_lock(42)",
        "SELECT 'SET x' AS settings, offset_value FROM t -- SET",
        "begin transaction",
        "show transaction isolation level",
    ],
)
def test_pinning_detector_allows_transaction_scoped_statements(statement):
    assert pinning_reasons("execute_simple", statement) == []


@pytest.fixture
def sent_sql(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every statement pg8000 puts on the wire, with the method that sent it."""
    sent: list[tuple[str, str]] = []
    for name in ("execute_simple", "execute_unnamed", "prepare_statement", "execute_named"):
        original = getattr(pg8000.core.CoreConnection, name)
        signature = inspect.signature(original)

        def recording(
            self: Any,
            *args: Any,
            _name: str = name,
            _original: Any = original,
            _signature: inspect.Signature = signature,
            **kwargs: Any,
        ) -> Any:
            bound = _signature.bind(self, *args, **kwargs)
            sent.append((_name, str(bound.arguments["statement"])))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(pg8000.core.CoreConnection, name, recording)
    return sent


READ = "SELECT workspace_id, name FROM core_api.workspaces WHERE deleted_at IS NULL LIMIT 5"
WRITE = "INSERT INTO core_api.workspaces (name) VALUES ('pinning probe') RETURNING workspace_id"


def test_ordinary_read_and_write_send_nothing_that_pins_a_proxy_session(
    api_database, monkeypatch, sent_sql
):
    reset_environment_pools()  # record from pool creation on
    admin_pool = db.build_pool(Settings(database_url=api_database.admin_url))
    try:
        db.execute(READ)
        written = db.execute(WRITE, pool=admin_pool, retry=False)
        db.execute(READ)
        monkeypatch.undo()  # stop recording before cleaning up
        db.execute(
            f"DELETE FROM core_api.workspaces WHERE workspace_id = '{written[0][0]}'",
            pool=admin_pool,
        )
    finally:
        admin_pool.dispose()

    assert len(written) == 1
    flagged = [(m, s, r) for m, s in sent_sql for r in pinning_reasons(m, s)]
    assert flagged == [], sent_sql
    # Each request is one simple-protocol message, in autocommit: no BEGIN/COMMIT around it.
    assert [(m, s) for m, s in sent_sql if s in (READ, WRITE)] == [
        ("execute_simple", READ),
        ("execute_simple", WRITE),
        ("execute_simple", READ),
    ]
    control = [s for _, s in sent_sql if s.split()[0].lower() in ("begin", "commit", "rollback")]
    # Not even once per connection: the pools run no driver or dialect initialisation.
    assert control == [], sent_sql
