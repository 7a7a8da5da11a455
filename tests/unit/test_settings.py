"""Settings come from the environment, are checked once, on first use, and cached.

Nothing in the shipped package reads the environment (or opens anything) while it is imported:
a Lambda environment imports the code during its init phase, and a bad variable must surface as
a validation error where the settings are first used, not as an import crash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields

import pytest

from wellapi.errors import DatabaseUnavailable
from wellapi.http.response import error_response
from wellapi.settings import Settings, SettingsError, get_settings
from wellapi.store import connections as db

# Every variable the settings model reads (field names are matched case-insensitively).
SETTINGS_VARIABLES = {f.name.upper() for f in fields(Settings)}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment with none of the settings variables, and an empty settings cache."""
    for key in list(os.environ):
        if key.upper() in SETTINGS_VARIABLES:
            monkeypatch.delenv(key)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_url_mode_reads_the_database_url_and_typed_values_from_the_environment(environment):
    environment.setenv("DATABASE_URL", "postgresql://u:p@db.example:6432/well")
    environment.setenv("DB_PORT", "6543")
    environment.setenv("DB_CONNECT_TIMEOUT_SECONDS", "1.5")
    environment.setenv("AWS_REGION", "us-east-2")

    settings = Settings.from_environment()

    assert settings.db_auth == "url"
    assert settings.database_url == "postgresql://u:p@db.example:6432/well"
    assert settings.db_port == 6543
    assert settings.db_connect_timeout_seconds == 1.5
    assert settings.aws_region == "us-east-2"


def test_proxy_modes_read_their_inputs_from_the_environment(environment):
    environment.setenv("DB_AUTH", "secret")
    environment.setenv("DB_HOST", "proxy.example.internal")
    environment.setenv("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:db")
    environment.setenv("DB_CA_BUNDLE", "/opt/ca.pem")

    settings = Settings.from_environment()

    assert (settings.db_auth, settings.db_host, settings.db_secret_arn, settings.db_ca_bundle) == (
        "secret",
        "proxy.example.internal",
        "arn:aws:secretsmanager:eu-west-1:1:secret:db",
        "/opt/ca.pem",
    )
    assert settings.database_url is None


WRITER_URL = "postgresql://u:p@writer/well"
READER_URL = "postgresql://u:p@reader/well"


@pytest.mark.parametrize(
    ("variables", "reader", "reads_from"),
    [
        ({"DATABASE_URL": WRITER_URL}, False, (WRITER_URL, None)),
        ({"DATABASE_URL": WRITER_URL, "DATABASE_READER_URL": READER_URL}, True, (READER_URL, None)),
        ({"DB_AUTH": "iam", "DB_HOST": "proxy", "DB_READER_HOST": ""}, False, (None, "proxy")),
        ({"DB_AUTH": "iam", "DB_HOST": "proxy", "DB_READER_HOST": "ro"}, True, (None, "ro")),
    ],
)
def test_reads_go_to_the_reader_endpoint_only_when_one_is_set(
    environment, variables, reader, reads_from
):
    for name, value in variables.items():
        environment.setenv(name, value)

    read = db.settings_for(db.READER)

    assert get_settings().has_reader is reader
    assert (read.database_url, read.db_host) == reads_from
    # Everything else is the API's own: its role, its timeouts.
    assert (read.db_user, read.db_read_timeout_seconds) == (
        get_settings().db_user,
        get_settings().db_read_timeout_seconds,
    )


def test_defaults_recycle_connections_before_the_proxy_idle_timeout(environment):
    environment.setenv("DATABASE_URL", "postgresql://u@h/db")

    settings = Settings.from_environment()

    assert 0 < settings.db_pool_recycle_seconds < 30 * 60
    assert settings.db_user == "well_api"
    assert settings.db_port == 5432


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "DATABASE_URL is required"),
        ({"DB_AUTH": "url"}, "DATABASE_URL is required"),
        ({"DB_AUTH": "iam"}, "DB_HOST"),
        ({"DB_AUTH": "secret", "DB_SECRET_ARN": "arn:x"}, "DB_HOST"),
        ({"DB_AUTH": "secret", "DB_HOST": "proxy.example.internal"}, "DB_SECRET_ARN"),
        ({"DB_AUTH": "password", "DATABASE_URL": "postgresql://u@h/db"}, "DB_AUTH"),
        ({"DATABASE_URL": "postgresql://u@h/db", "DB_PORT": "five"}, "DB_PORT"),
        ({"DATABASE_URL": "postgresql://u@h/db", "DB_POOL_RECYCLE_SECONDS": "0"}, "RECYCLE"),
        ({"DATABASE_URL": "postgresql://u@h/db", "DB_POOL_RECYCLE_SECONDS": "1800"}, "RECYCLE"),
        ({"DATABASE_URL": "postgresql://u@h/db", "DB_RETRY_AFTER_SECONDS": "0"}, "RETRY_AFTER"),
        ({"DATABASE_URL": "postgresql://u@h/db", "AUTH_CACHE_SECONDS": "-1"}, "AUTH_CACHE"),
    ],
    ids=[
        "nothing-set",
        "url-without-url",
        "iam-without-host",
        "secret-without-host",
        "secret-without-arn",
        "unknown-auth-mode",
        "port-not-a-number",
        "recycle-disabled",
        "recycle-not-before-proxy-idle-timeout",
        "no-wait-before-retrying",
        "negative-key-cache",
    ],
)
def test_bad_combinations_are_rejected(environment, variables, message):
    for key, value in variables.items():
        environment.setenv(key, value)

    with pytest.raises(SettingsError, match=message):
        Settings.from_environment()


def test_an_unavailable_database_tells_clients_the_configured_wait(environment):
    environment.setenv("DATABASE_URL", "postgresql://u@h/db")
    environment.setenv("DB_RETRY_AFTER_SECONDS", "7")
    assert db.unavailable().headers() == {"Retry-After": "7"}
    # An outage mapped from a driver's failure, or reported by the authorizer, is told the same.
    assert error_response(DatabaseUnavailable(), None).headers["Retry-After"] == "7"


def test_get_settings_validates_once_and_returns_the_cached_model(environment):
    environment.setenv("DATABASE_URL", "postgresql://u@first/db")
    first = get_settings()

    environment.setenv("DATABASE_URL", "postgresql://u@second/db")
    environment.setenv("DB_AUTH", "iam")  # would now be invalid: no DB_HOST

    assert get_settings() is first
    assert get_settings().database_url == "postgresql://u@first/db"
    assert get_settings.cache_info().misses == 1

    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="DB_HOST"):
        get_settings()


def test_an_invalid_environment_fails_on_first_use_not_before(environment):
    environment.setenv("DB_AUTH", "iam")  # invalid: no DB_HOST

    with pytest.raises(SettingsError):
        get_settings()
    # A failed validation is not cached: fixing the environment is enough.
    environment.setenv("DB_HOST", "proxy.example.internal")
    assert get_settings().db_host == "proxy.example.internal"


# Runs in a fresh interpreter: os.environ is replaced by a spy that records every read made
# by code of the wellapi package itself (a library configuring itself when wellapi sets it up,
# such as a module-level logger, is that library's business), then the modules are imported.
IMPORT_PROBE = """
import importlib.util, json, os, sys, sysconfig

PACKAGE = os.path.dirname(importlib.util.find_spec("wellapi").origin) + os.sep
STDLIB = sysconfig.get_paths()["stdlib"] + os.sep
reads = []


def record(key):
    # The reader is the first caller outside the standard library (os, collections.abc...).
    frame = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith((STDLIB, "<frozen "))
    ):
        frame = frame.f_back
    if frame is not None and frame.f_code.co_filename.startswith(PACKAGE):
        where = frame.f_code.co_filename[len(PACKAGE):]
        reads.append(f"{key} ({where}:{frame.f_lineno})")


class Spy(type(os.environ)):
    def __getitem__(self, key):
        record(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        record(key)
        return super().__contains__(key)

    def __iter__(self):
        record("<every variable>")
        return super().__iter__()


original = os.environ
os.environ = Spy(
    original._data, original.encodekey, original.decodekey,
    original.encodevalue, original.decodevalue,
)

import wellapi.settings, wellapi.store.connections, wellapi.store.sql, wellapi.errors
import wellapi.resources.tables
import wellapi.roles, wellapi.handlers.migration

print(json.dumps({
    "reads": reads,
    "settings_cached": wellapi.settings.get_settings.cache_info().currsize,
    "engine_cached": wellapi.store.connections.cached_pools(),
    "boto3_imported": "boto3" in sys.modules,
}))
try:
    wellapi.settings.get_settings()
except Exception as error:
    print(type(error).__name__)
"""


def test_importing_the_shipped_modules_reads_no_environment_and_builds_nothing():
    # An environment that cannot validate: importing must still succeed.
    env = {"PATH": os.environ.get("PATH", ""), "DB_AUTH": "iam", "HOME": os.environ["HOME"]}

    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    report_line, error_line = done.stdout.strip().splitlines()
    report = json.loads(report_line)
    assert report == {
        "reads": [],
        "settings_cached": 0,
        "engine_cached": 0,
        "boto3_imported": False,
    }
    # ...and the bad environment is reported where the settings are first used.
    assert error_line == "SettingsError"
