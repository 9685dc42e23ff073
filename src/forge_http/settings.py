"""Settings, read from ``FORGE_*`` environment variables and a ``.env`` file.

``forge`` refuses to start on a bad value, with one line naming the variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from forge_adapters.runpod import DEFAULT_BASE_URL as RUNPOD_BASE_URL

MEMORY_URL = "memory://"
InferenceKind = Literal["template", "runpod", "openai"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FORGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
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
    inference_backend: InferenceKind | None = None
    inference_timeout_seconds: float = Field(30.0, gt=0, le=600)
    inference_max_retries: int = Field(4, ge=0, le=10)
    runpod_api_key: SecretStr | None = Field(None, validation_alias="RUNPOD_API_KEY")
    runpod_endpoint_id: str | None = Field(None, validation_alias="RUNPOD_ENDPOINT_ID")
    runpod_base_url: str = Field(RUNPOD_BASE_URL, validation_alias="RUNPOD_BASE_URL")
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api_key: SecretStr | None = None

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

    @field_validator("runpod_base_url", "openai_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("runpod_endpoint_id")
    @classmethod
    def _path_safe_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", value):
            raise ValueError("must be letters, digits, '-' or '_'")
        return value

    @field_validator("runpod_endpoint_id", "openai_model", "inference_backend", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _backend_is_configured(self) -> Settings:
        required: dict[str, list[tuple[str, object]]] = {
            "runpod": [
                ("RUNPOD_ENDPOINT_ID", self.runpod_endpoint_id),
                ("RUNPOD_API_KEY", self.runpod_api_key),
            ],
            "openai": [
                ("FORGE_OPENAI_BASE_URL", self.openai_base_url),
                ("FORGE_OPENAI_MODEL", self.openai_model),
            ],
        }
        for name, value in required.get(self.inference_kind, []):
            if value is None:
                raise PydanticCustomError(
                    "missing_setting",
                    "{name}: required when the inference backend is {kind}",
                    {"name": name, "kind": self.inference_kind},
                )
        return self

    @property
    def inference_kind(self) -> InferenceKind:
        """The chosen backend; RunPod when it is configured and none is chosen, else templates."""
        if self.inference_backend is not None:
            return self.inference_backend
        return "runpod" if self.runpod_endpoint_id else "template"

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
        if error["type"] == "missing_setting":
            raise SettingsError(f"missing setting {error['msg']}") from None
        raise SettingsError(f"invalid setting {_variable(error['loc'])}: {error['msg']}") from None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable a field is read from."""
    if not loc:
        return "settings"
    name = str(loc[0])
    if name.isupper():  # an alias: read as it is, without the FORGE_ prefix
        return name
    field = Settings.model_fields.get(name)
    if field is not None and isinstance(field.validation_alias, str):
        return field.validation_alias
    return "FORGE_" + name.upper()
