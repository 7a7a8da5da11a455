"""Configuration read from the environment once, on first use, and validated as a model."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a function needs to know about where it runs.

    Three ways to reach the database, chosen by ``db_auth``:
    ``url`` (``DATABASE_URL``), ``iam`` (RDS Proxy with an IAM token per connection) and
    ``secret`` (RDS Proxy with credentials from a Secrets Manager secret).
    """

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str | None = None
    # Where DB_AUTH=url: the sync writer's own connection (its own role), when it shares a
    # process with the API functions (the local runtime). In AWS each function has its own
    # DB_USER and environment.
    sync_database_url: str | None = None
    # The same for the authorizer's role.
    auth_database_url: str | None = None
    db_auth: Literal["url", "iam", "secret"] = "url"
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "well"
    db_user: str = "well_api"
    db_secret_arn: str | None = None
    db_ca_bundle: str | None = None
    aws_region: str = Field(default="eu-west-1", validation_alias="AWS_REGION")
    # RDS Proxy closes client connections idle for 30 minutes; recycle well before that.
    # (0 or less would disable recycling in SQLAlchemy, so it is refused.)
    db_pool_recycle_seconds: int = Field(default=1500, gt=0, lt=1800)
    db_connect_timeout_seconds: float = 5.0
    # A Lambda environment serves one request at a time: one connection. The local runtime,
    # which serves concurrent requests from one process, raises it.
    db_pool_size: int = Field(default=1, ge=1, le=64)
    # Bounds on waiting for a reply, above each role's server-side statement_timeout (5 s for
    # the API, 60 s for the sync writer; migration 0002), below the functions' timeouts.
    db_read_timeout_seconds: float = Field(default=8.0, gt=0)
    db_sync_read_timeout_seconds: float = Field(default=70.0, gt=0)
    # Seconds a client is told to wait (Retry-After) when the database is unreachable.
    db_retry_after_seconds: int = Field(default=2, ge=1, le=3600)
    api_base_url: str = ""
    # How long the authorizer keeps its answer for a key (wellapi/auth.py): also how long a
    # revoked key may still work. 0 looks every key up on every request.
    auth_cache_seconds: int = Field(default=30, ge=0, le=300)

    @model_validator(mode="after")
    def _check_auth_inputs(self) -> Settings:
        if self.db_auth == "url" and not self.database_url:
            raise ValueError("DATABASE_URL is required when DB_AUTH=url")
        if self.db_auth in ("iam", "secret") and not self.db_host:
            raise ValueError("DB_HOST (the RDS Proxy endpoint) is required for DB_AUTH=iam|secret")
        if self.db_auth == "secret" and not self.db_secret_arn:
            raise ValueError("DB_SECRET_ARN is required when DB_AUTH=secret")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
