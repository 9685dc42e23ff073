"""Settings, read from ``FORGE_*`` environment variables and a ``.env`` file.

``forge`` refuses to start on a bad value, with one line naming the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MEMORY_URL = "memory://"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FORGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./forge.db"
    data_dir: Path = Path("./forge-data")
    jwt_secret: SecretStr | None = None
    auth_backend: Literal["local"] = "local"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = []
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    access_token_ttl_seconds: int = Field(3600, ge=60, le=86400)
    auto_migrate: bool | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("jwt_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value != MEMORY_URL and not value.startswith(("sqlite", "postgres")):
            raise ValueError("must be a sqlite://, postgresql:// or memory:// URL")
        return value

    @property
    def uses_memory(self) -> bool:
        return self.database_url == MEMORY_URL

    @property
    def migrates_on_start(self) -> bool:
        """``forge serve`` migrates SQLite on its own; PostgreSQL waits for ``forge migrate``."""
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.database_url.startswith("sqlite")


class SettingsError(Exception):
    """A bad setting, described in one line that names the variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "FORGE_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
        raise SettingsError(f"invalid setting {name}: {error['msg']}") from None
