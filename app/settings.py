"""Configuration, read from ``LOYALTY_*`` environment variables once, in create_app or the CLI."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Known to anyone who reads the code: fine for the embedded development database only.
DEVELOPMENT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOYALTY_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql:// or postgresql+asyncpg://). "
        "Unset: an embedded server is started with its data under data_dir.",
    )
    data_dir: Path = Path(".data")
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET),
        description="Server secret for card MACs and personal-data encryption. `loyalty serve` "
        "refuses the built-in development value unless the database is the embedded one.",
    )
    bootstrap_key: SecretStr | None = Field(
        default=None, description="If set, startup ensures tenant 'demo' has this admin key."
    )
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_import_bytes: int = Field(
        default=64 * 1024**3,
        gt=0,
        description="Body limit of the streamed history import (POST /v1/imports/transactions).",
    )
    db_pool_size: int = Field(default=10, gt=0)
    db_max_overflow: int = Field(default=10, ge=0)
    scheduler_interval_seconds: float = Field(
        default=300,
        ge=0,
        description="How often the in-process scheduler looks for due jobs (e.g. the daily "
        "points expiry); 0 disables it.",
    )
    docs_enabled: bool = Field(
        default=True, description="Serve /docs, /redoc and /openapi.json; false: all three 404."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="If set, /metrics answers only requests with 'Authorization: Bearer <token>'.",
    )
    metrics_port: int | None = Field(
        default=None,
        gt=0,
        lt=65536,
        description="If set, `loyalty serve` answers /metrics on this port (same host) instead "
        "of the API's port, with the counts of all its workers.",
    )
    hsts_max_age: int | None = Field(
        default=None,
        ge=0,
        description="Behind TLS: every response carries 'Strict-Transport-Security: "
        "max-age=<this>'. Unset: no such header.",
    )

    @property
    def uses_development_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEVELOPMENT_SECRET

    @field_validator("metrics_token", "metrics_port", "hsts_max_age", mode="before")
    @classmethod
    def _blank_env_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None
