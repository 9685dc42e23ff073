"""Settings, read from ``FORGE_*`` environment variables and a ``.env`` file.

The Supabase settings keep the names Supabase gives them (``SUPABASE_URL``, ...).
``forge`` refuses to start on a bad value, with one line naming the variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from forge_adapters.runpod import DEFAULT_BASE_URL as RUNPOD_BASE_URL
from forge_core.errors import InvalidInput
from forge_core.qa import parse_build_volume
from forge_core.services.content import DEFAULT_MAX_UPLOAD_BYTES

MEMORY_URL = "memory://"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
InferenceKind = Literal["template", "runpod", "openai"]


def _unprefixed(name: str) -> AliasChoices:
    """A setting read from ``name`` (no ``FORGE_`` prefix), or by its field name in code."""
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FORGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = "sqlite+aiosqlite:///./forge.db"
    # PostgreSQL connections per replica: the pool, kept once opened, and the overflow,
    # opened for a burst and closed after (engine.POOL_SIZE says why none by default).
    database_pool_size: int = Field(15, ge=1, le=200)
    database_max_overflow: int = Field(0, ge=0, le=200)
    data_dir: Path = Path("./forge-data")
    jwt_secret: SecretStr | None = None
    auth_backend: Literal["local", "supabase"] = "local"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = []
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    log_format: Literal["json", "text"] = "json"
    metrics_token: SecretStr | None = None
    access_token_ttl_seconds: int = Field(3600, ge=60, le=86400)
    auto_migrate: bool | None = None
    renderer: Literal["manifold", "openscad"] = "manifold"
    render_timeout: float = Field(120.0, gt=0, le=3600)
    # Warm Manifold render workers per replica (each a process of ~60 MB).
    render_workers: int = Field(2, ge=1, le=32)
    pipeline_workers: int = Field(2, ge=1, le=64)
    # How many times SCAD from a generate_scad run that fails is sent back to be repaired.
    repair_attempts: int = Field(2, ge=0, le=5)
    # How long a replica's claim on a run or job lasts without a heartbeat: the longest
    # another replica waits to take over the work of one that died.
    lease_seconds: int = Field(30, ge=2, le=30)
    build_volume: Annotated[tuple[float, float, float], NoDecode] = (256.0, 256.0, 256.0)
    scad_library: Path | None = None
    supabase_url: str | None = Field(None, validation_alias=_unprefixed("SUPABASE_URL"))
    supabase_anon_key: SecretStr | None = Field(
        None, validation_alias=_unprefixed("SUPABASE_ANON_KEY")
    )
    supabase_service_role_key: SecretStr | None = Field(
        None, validation_alias=_unprefixed("SUPABASE_SERVICE_ROLE_KEY")
    )
    supabase_jwt_secret: SecretStr | None = Field(
        None, validation_alias=_unprefixed("SUPABASE_JWT_SECRET")
    )
    supabase_jwt_audience: str = Field(
        "authenticated", min_length=1, validation_alias=_unprefixed("SUPABASE_JWT_AUDIENCE")
    )
    object_store: Literal["local", "s3", "memory"] = "local"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    inference_backend: InferenceKind | None = None
    inference_timeout_seconds: float = Field(30.0, gt=0, le=600)
    inference_max_retries: int = Field(4, ge=0, le=10)
    runpod_api_key: SecretStr | None = Field(None, validation_alias=_unprefixed("RUNPOD_API_KEY"))
    runpod_endpoint_id: str | None = Field(None, validation_alias=_unprefixed("RUNPOD_ENDPOINT_ID"))
    runpod_base_url: str = Field(RUNPOD_BASE_URL, validation_alias=_unprefixed("RUNPOD_BASE_URL"))
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api_key: SecretStr | None = None
    max_runs_per_user: int = Field(5, ge=1, le=1000)
    max_upload_bytes: int = Field(DEFAULT_MAX_UPLOAD_BYTES, ge=1, le=5 * 1024**3)
    event_bus: Literal["memory", "redis"] = "memory"
    redis_url: SecretStr = SecretStr(DEFAULT_REDIS_URL)  # may hold a password
    # Channels and keys start with it: several deployments can share one Redis.
    redis_prefix: str = Field("forge:", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    rate_limit_auth_per_minute: int = Field(20, ge=1, le=1_000_000)
    rate_limit_runs_per_minute: int = Field(30, ge=1, le=1_000_000)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("build_volume", mode="before")
    @classmethod
    def _parse_volume(cls, value: object) -> object:
        """``256x256x256``: three positive sizes in millimetres (the core's rule)."""
        if not isinstance(value, str):
            return value
        try:
            return parse_build_volume(value)
        except InvalidInput:
            raise ValueError("must be three sizes in mm, like 256x256x256") from None

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

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("scad_library")
    @classmethod
    def _library_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("must be an existing folder")
        return value

    @field_validator("supabase_url", "runpod_base_url", "openai_base_url")
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
    def _inference_backend_is_configured(self) -> Settings:
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

    @field_validator("s3_endpoint_url")
    @classmethod
    def _s3_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value or None

    @model_validator(mode="after")
    def _object_store_chosen(self) -> Settings:
        """FORGE_S3_BUCKET alone selects S3; a memory:// database keeps its objects in memory."""
        if "object_store" not in self.model_fields_set:
            if self.s3_bucket:
                self.object_store = "s3"
            elif self.uses_memory:
                self.object_store = "memory"
        if self.object_store == "s3" and not self.s3_bucket:
            raise ValueError("FORGE_S3_BUCKET: must be set when FORGE_OBJECT_STORE=s3")
        return self

    @model_validator(mode="after")
    def _supabase_complete(self) -> Settings:
        """SUPABASE_URL alone selects Supabase, unless FORGE_AUTH_BACKEND says local."""
        if self.supabase_url and "auth_backend" not in self.model_fields_set:
            self.auth_backend = "supabase"
        if self.auth_backend != "supabase":
            return self
        if not self.supabase_url:
            raise ValueError("SUPABASE_URL: must be set when FORGE_AUTH_BACKEND=supabase")
        if self.supabase_api_key is None:
            raise ValueError(
                "SUPABASE_ANON_KEY: must be set (or SUPABASE_SERVICE_ROLE_KEY) with Supabase auth"
            )
        return self

    @property
    def supabase_api_key(self) -> str | None:
        """The ``apikey`` sent to Supabase: the anon key, else the service role key."""
        key = self.supabase_anon_key or self.supabase_service_role_key
        return key.get_secret_value() if key is not None else None

    @property
    def inference_kind(self) -> InferenceKind:
        """The chosen backend; RunPod when it is configured and none is chosen, else templates."""
        if self.inference_backend is not None:
            return self.inference_backend
        return "runpod" if self.runpod_endpoint_id else "template"

    @property
    def rate_limit_store(self) -> Literal["memory", "redis"]:
        """Redis (shared by the replicas) when the bus runs on it or its URL is set."""
        if self.event_bus == "redis" or "redis_url" in self.model_fields_set:
            return "redis"
        return "memory"

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
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing_setting":
            raise SettingsError(f"missing setting {message}") from None
        if not error["loc"]:  # a check across settings names its variable itself
            name, _, message = message.partition(": ") if ": " in message else ("", "", message)
            raise SettingsError(f"invalid setting {name or 'settings'}: {message}") from None
        raise SettingsError(f"invalid setting {_variable(error['loc'])}: {message}") from None


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable a field is read from."""
    name = str(loc[0])
    if name.isupper():  # an alias: read as it is, without the FORGE_ prefix
        return name
    field = Settings.model_fields.get(name)
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    if isinstance(alias, str):
        return alias
    return "FORGE_" + name.upper()
