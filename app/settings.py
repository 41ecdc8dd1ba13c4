"""Configuration, read from ``LOYALTY_*`` environment variables once, in create_app or the CLI."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOYALTY_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql:// or postgresql+asyncpg://). "
        "Unset: an embedded server is started with its data under data_dir.",
    )
    data_dir: Path = Path(".data")
    secret_key: SecretStr = Field(
        default=SecretStr("dev-only-insecure-secret-change-me"),
        description="Server secret for card MACs and personal-data encryption.",
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

    @field_validator("database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None
