"""Configuration read from the environment once, on first use, and checked as a whole.

A frozen dataclass rather than pydantic-settings: every function reads its settings on its
first request, and pydantic-settings costs about 180 ms of CPU to import (it loads asyncio and
every settings source it supports), more than all the rest of an API function's cold start.
The fields are few and flat; each is parsed by the type of its default and checked below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache

from wellapi.roles import API_ROLE, HEAL_ROLE

DB_AUTH_MODES = ("url", "iam", "secret")
# The lengths a provenance ledger's period may have (core_api.make_ledger_periods_ahead()).
LEDGER_PERIODS = ("year", "quarter", "month")


class SettingsError(ValueError):
    """The environment does not describe a place the functions can run."""


@dataclass(frozen=True)
class Settings:
    """Everything a function needs to know about where it runs.

    Three ways to reach the database, chosen by ``db_auth``:
    ``url`` (``DATABASE_URL``), ``iam`` (RDS Proxy with an IAM token per connection) and
    ``secret`` (RDS Proxy with credentials from a Secrets Manager secret).
    Each field is read from the environment variable of its name in capitals.
    """

    database_url: str | None = None
    # Where DB_AUTH=url: the sync writer's own connection (its own role), when it shares a
    # process with the API functions (the local runtime). In AWS each function has its own
    # DB_USER and environment.
    sync_database_url: str | None = None
    # The same for the authorizer's role.
    auth_database_url: str | None = None
    # The same for the change drainer's role, and for the operator's.
    drain_database_url: str | None = None
    operator_database_url: str | None = None
    # The healer's login (wellapi.sync.role_defaults), which the scheduled functions use beside
    # their own: its URL where DB_AUTH=url, its user where DB_AUTH=iam, its secret where
    # DB_AUTH=secret.
    heal_database_url: str | None = None
    heal_db_user: str = HEAL_ROLE
    heal_db_secret_arn: str | None = None
    # Where the read functions (List, Retrieve, the related and relationship routes, the
    # changes feed) connect when set: a hot standby or an Aurora reader (DB_AUTH=url), or RDS
    # Proxy's read-only endpoint (DB_AUTH=iam|secret). Unset, they use the writer's.
    database_reader_url: str | None = None
    db_auth: str = "url"
    db_host: str | None = None
    db_reader_host: str | None = None
    db_port: int = 5432
    db_name: str = "well"
    db_user: str = API_ROLE
    db_secret_arn: str | None = None
    db_ca_bundle: str | None = None
    aws_region: str = "eu-west-1"
    # RDS Proxy closes client connections idle for 30 minutes; recycle well before that.
    db_pool_recycle_seconds: int = 1500
    # Connect and read bounds of the API functions, twice over (one retry), fit their 20 s
    # timeout (template.yaml; tests/unit/test_template.py checks the order).
    db_connect_timeout_seconds: float = 3.0
    # Bounds on waiting for a reply, above each role's server-side statement_timeout (5 s for
    # well_api, 60 s for well_sync), below the functions' timeouts.
    db_read_timeout_seconds: float = 6.0
    db_sync_read_timeout_seconds: float = 70.0
    # Seconds a client is told to wait (Retry-After) when the database is unreachable.
    db_retry_after_seconds: int = 2
    api_base_url: str = ""
    # The event bus the change drainer publishes to (its name or ARN; wellapi.handlers.drain).
    event_bus_name: str = ""
    # How long the authorizer keeps its answer for a key (wellapi/handlers/authorizer.py): also how
    # long a revoked key may still work. 0 looks every key up on every request.
    auth_cache_seconds: int = 30
    # The length of a provenance ledger's period (its partitions: year, quarter or month), and
    # how many periods after now the sweep function keeps made (wellapi.sync.periods).
    ledger_period: str = "year"
    ledger_periods_ahead: int = 1
    # How many days after its end a ledger period is archived (docs/archive.md; 0: never). The
    # API asks whether an id's period is archived only for an id older than that.
    ledger_retention_days: int = 0

    def __post_init__(self) -> None:
        problems = [p for p in self._problems() if p]
        if problems:
            raise SettingsError("Invalid settings: " + "; ".join(problems))

    def _problems(self) -> list[str | None]:
        return [
            _within("DB_POOL_RECYCLE_SECONDS", self.db_pool_recycle_seconds, 1, 1799),
            _within("DB_PORT", self.db_port, 1, 65535),
            _within("DB_RETRY_AFTER_SECONDS", self.db_retry_after_seconds, 1, 3600),
            _within("AUTH_CACHE_SECONDS", self.auth_cache_seconds, 0, 300),
            _within("LEDGER_PERIODS_AHEAD", self.ledger_periods_ahead, 1, 3),
            _within("LEDGER_RETENTION_DAYS", self.ledger_retention_days, 0, 36500),
            None
            if self.ledger_period in LEDGER_PERIODS
            else f"LEDGER_PERIOD must be one of {', '.join(LEDGER_PERIODS)}, "
            f"not {self.ledger_period!r}",
            _positive("DB_CONNECT_TIMEOUT_SECONDS", self.db_connect_timeout_seconds),
            _positive("DB_READ_TIMEOUT_SECONDS", self.db_read_timeout_seconds),
            _positive("DB_SYNC_READ_TIMEOUT_SECONDS", self.db_sync_read_timeout_seconds),
            None
            if self.db_auth in DB_AUTH_MODES
            else f"DB_AUTH must be one of {', '.join(DB_AUTH_MODES)}, not {self.db_auth!r}",
            "DATABASE_URL is required when DB_AUTH=url"
            if self.db_auth == "url" and not self.database_url
            else None,
            "DB_HOST (the RDS Proxy endpoint) is required for DB_AUTH=iam|secret"
            if self.db_auth in ("iam", "secret") and not self.db_host
            else None,
            "DB_SECRET_ARN is required when DB_AUTH=secret"
            if self.db_auth == "secret" and not self.db_secret_arn
            else None,
        ]

    @property
    def has_reader(self) -> bool:
        """Whether reads go to a reader endpoint of their own."""
        return bool(self.database_reader_url if self.db_auth == "url" else self.db_reader_host)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (names are matched in any case)."""
        given = {k.lower(): v for k, v in (os.environ if environ is None else environ).items()}
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = given.get(f.name)
            if raw is not None:
                values[f.name] = _parse(f.name, f.default, raw)
        return cls(**values)  # type: ignore[arg-type]


def _parse(name: str, default: object, raw: str) -> object:
    kind = type(default)
    if kind not in (int, float):
        return raw
    try:
        return kind(raw.strip())
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise SettingsError(
            f"Invalid settings: {name.upper()} must be {noun}, not {raw!r}"
        ) from None


def _within(name: str, value: int, low: int, high: int) -> str | None:
    return None if low <= value <= high else f"{name} must be from {low} to {high}, not {value}"


def _positive(name: str, value: float) -> str | None:
    return None if value > 0 else f"{name} must be above 0, not {value}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()
