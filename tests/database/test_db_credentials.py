"""The three ways to connect (URL, IAM token, Secrets Manager secret), TLS, and Lambda's init.

Only the connect-argument tests replace ``pg8000.dbapi.connect`` (``captured_connects``), and
they run no query; the live ones reach the real test PostgreSQL through a TLS-terminating
forwarder with a certificate from a CA made here (tests/support/pki.py).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.signers
import pytest

from tests.support.db_access import (
    backend_pid,
    create_secret,
    reset_environment_pools,
    rotate_secret,
)
from tests.support.pki import assert_verifying_tls, ca_common_names, make_pki
from wellapi import errors
from wellapi.handlers.api import api_handler
from wellapi.operations.read import RETRIEVE
from wellapi.roles import API_ROLE, SYNC_ROLE
from wellapi.settings import Settings, get_settings
from wellapi.store import connections as db
from wellapi.store import driver
from wellapi.store.sql import fixed
from welldev import database as local_db

CURRENT_USER = fixed("SELECT current_user")

PACKAGED_CAS = {
    "proxy": Path(db.__file__).parent / "certs" / "amazon-root-cas.pem",
    "rds": Path(db.__file__).parent / "certs" / "rds-global-bundle.pem",
}


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
        api_handler("account_workspace_connectors", RETRIEVE)  # what the module import runs

        assert len(tokens) == 1
        assert [call["password"] for call in captured_connects] == tokens
        assert db.get_pool().idle_count() == 1  # the first request finds it open
    finally:
        get_settings.cache_clear()
        db.reset_pools()


def test_outside_lambda_init_opens_nothing_and_makes_no_credentials(aws, monkeypatch):
    tokens = _iam_environment(monkeypatch)
    try:
        api_handler("account_workspace_connectors", RETRIEVE)  # no AWS_LAMBDA_FUNCTION_NAME

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
    api_handler("account_workspace_connectors", RETRIEVE)

    pool = db.get_pool()
    assert pool.idle_count() == 1
    assert db.execute([CURRENT_USER]) == [[API_ROLE]]
    assert pool.idle_count() == 1  # the request used the connection init opened


def test_after_a_snapstart_restore_the_connection_is_opened_anew(lambda_with_url, monkeypatch):
    import snapshot_restore_py

    monkeypatch.setattr(snapshot_restore_py, "_after_restore_registry", [])
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    api_handler("account_workspace_connectors", RETRIEVE)
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
        with caplog.at_level("WARNING", logger="wellapi.store.connections"):
            api_handler("account_workspace_connectors", RETRIEVE)

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
def secret_mode(aws, monkeypatch, api_database) -> Iterator[SecretMode]:
    arn = create_secret("well/db-live", API_ROLE, local_db.LOCAL_ROLE_PASSWORD)
    yield SecretMode(monkeypatch, api_database.name, arn)
    # A failure's answer reads the settings (Retry-After), which caches them from this test's
    # environment: forget them, so the next test reads its own.
    reset_environment_pools()


def test_secret_mode_reaches_a_server_whose_certificate_the_bundle_vouches_for(
    secret_mode, forwarders, tmp_path, pools
):
    pki = make_pki(tmp_path, "Test RDS CA (live)")
    proxy = forwarders(tls=pki.server_context)
    pool = db.build_pool(secret_mode.settings(proxy.port, "localhost", pki.ca_file))
    pools.append(pool)

    assert db.execute([CURRENT_USER], pool=pool) == [[API_ROLE]]
    with pool.connection() as conn:
        sock = driver.socket_of(conn)
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0

    # A rotated secret is used by the next new connection, without a new environment.
    rotate_secret(secret_mode.arn, SYNC_ROLE, local_db.LOCAL_ROLE_PASSWORD)
    pool.dispose()
    assert db.execute([CURRENT_USER], pool=pool) == [[SYNC_ROLE]]


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
        db.execute([CURRENT_USER], pool=pool)

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
