"""How each gateway is built from settings: engines, clients, stores and backends,
for the container (``forge_http.container``), which only wires them together."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.catalog import SqlCatalog
from forge_adapters.catalog.embeddings import EmbeddingsConfig, OpenAIEmbeddings
from forge_adapters.json_api import RetryPolicy
from forge_adapters.local_auth import load_or_create_secret
from forge_adapters.manifold import ManifoldLimits, ManifoldRenderer
from forge_adapters.objectstore_local import LocalObjectStore
from forge_adapters.objectstore_s3 import S3ObjectStore
from forge_adapters.openai_backend import OpenAIBackend, OpenAIConfig
from forge_adapters.openscad import OpenSCADRenderer, RenderLimits
from forge_adapters.runpod import RunPodConfig
from forge_adapters.sql import (
    create_engine,
    migrate,
    schema_problem,
)
from forge_adapters.supabase import (
    GoTrue,
    SupabaseAuthProvider,
    SupabaseClient,
    TokenVerifier,
)
from forge_adapters.supabase import http_client as supabase_http_client
from forge_core.entities import Clock
from forge_core.errors import Unavailable
from forge_core.ports import AuthStore
from forge_core.services.run_supervisor import IN_PROCESS_POLL_DELAYS, POLL_DELAYS
from forge_http.settings import Settings


async def open_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The database engine, migrated first where settings say so, else checked to be at
    the newest schema (Unavailable naming the fix if not); disposed at shutdown.
    PostgreSQL gets the pool the settings size; SQLite keeps its own."""
    pool: dict[str, int] = {}
    if settings.database_url.startswith("postgres"):
        pool = {
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
        }
    engine = create_engine(settings.database_url, **pool)
    try:
        if settings.migrates_on_start:
            await migrate(engine)
        elif (problem := await schema_problem(engine)) is not None:
            raise Unavailable(problem)  # not 503s for every request instead
        yield engine
    finally:
        await engine.dispose()


async def open_supabase_http() -> AsyncIterator[httpx.AsyncClient]:
    """The pooled client every Supabase call shares; closed at shutdown."""
    async with supabase_http_client() as client:
        yield client


def supabase_client(
    http: httpx.AsyncClient, settings: Settings, role: str
) -> SupabaseClient | None:
    """The seed's ``supabase_anon`` / ``supabase_service``: None without its key."""
    key = settings.supabase_anon_key if role == "anon" else settings.supabase_service_role_key
    if settings.supabase_url is None or key is None:
        return None
    return SupabaseClient(http, settings.supabase_url, key.get_secret_value())


def supabase_auth(
    http: httpx.AsyncClient, store: AuthStore, settings: Settings, clock: Clock
) -> SupabaseAuthProvider:
    assert settings.supabase_url is not None and settings.supabase_api_key is not None
    gotrue = GoTrue(http, settings.supabase_url, settings.supabase_api_key)
    secret = settings.supabase_jwt_secret
    verifier = TokenVerifier(
        gotrue,
        audience=settings.supabase_jwt_audience,
        jwt_secret=secret.get_secret_value() if secret is not None else None,
    )
    return SupabaseAuthProvider(gotrue, verifier, store, clock=clock)


def storage_kind(settings: Settings) -> str:
    return "memory" if settings.uses_memory else "sql"


def signing_secret(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    return load_or_create_secret(settings.data_dir)


def local_object_store(settings: Settings) -> LocalObjectStore:
    return LocalObjectStore(settings.data_dir / "objects")


def s3_object_store(settings: Settings) -> S3ObjectStore:
    assert settings.s3_bucket is not None  # the settings refuse s3 without a bucket
    return S3ObjectStore(
        settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region
    )


def open_manifold_renderer(settings: Settings) -> Iterator[ManifoldRenderer]:
    """The Manifold worker pool, warmed at start-up; its workers end at shutdown."""
    limits = ManifoldLimits(timeout=settings.render_timeout, workers=settings.render_workers)
    renderer = ManifoldRenderer(library=settings.scad_library, limits=limits)
    renderer.start()
    try:
        yield renderer
    finally:
        renderer.close()


def openscad_renderer(settings: Settings) -> OpenSCADRenderer:
    limits = RenderLimits(timeout=settings.render_timeout)
    return OpenSCADRenderer(library=settings.scad_library, limits=limits)


def seconds(value: int) -> timedelta:
    return timedelta(seconds=value)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        timeout=settings.inference_timeout_seconds, max_retries=settings.inference_max_retries
    )


def runpod_config(settings: Settings) -> RunPodConfig:
    key = settings.runpod_api_key
    return RunPodConfig(
        api_key=key.get_secret_value() if key else "",
        endpoint_id=settings.runpod_endpoint_id or "",
        base_url=settings.runpod_base_url,
        retry=retry_policy(settings),
    )


async def open_openai_backend(
    client: httpx.AsyncClient, settings: Settings
) -> AsyncIterator[OpenAIBackend]:
    """The OpenAI-compatible backend; its runs still waiting are stopped at shutdown."""
    key = settings.openai_api_key
    config = OpenAIConfig(
        base_url=settings.openai_base_url or "",
        model=settings.openai_model or "",
        api_key=key.get_secret_value() if key else None,
        retry=retry_policy(settings),
    )
    backend = OpenAIBackend(client, config)
    try:
        yield backend
    finally:
        await backend.aclose()


def lease_owner() -> str:
    """Who holds this process's leases: unique to one start of one process, so a
    restarted replica never mistakes its predecessor's leases for its own."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


def run_poll_delays(settings: Settings) -> tuple[float, ...]:
    """How often the run supervisor polls a run: RunPod over the network, on a backoff;
    the other backends keep their runs in this process, where a poll costs nothing."""
    return POLL_DELAYS if settings.inference_kind == "runpod" else IN_PROCESS_POLL_DELAYS


def embeddings_kind(settings: Settings) -> str:
    return "on" if settings.embeddings_base_url else "off"


def open_embeddings(client: httpx.AsyncClient, settings: Settings) -> OpenAIEmbeddings:
    """The embeddings service for hybrid catalog search (FORGE_EMBEDDINGS_*)."""
    assert settings.embeddings_base_url is not None and settings.embeddings_model is not None
    key = settings.embeddings_api_key
    config = EmbeddingsConfig(
        base_url=settings.embeddings_base_url,
        model=settings.embeddings_model,
        dimensions=settings.embeddings_dimensions,
        api_key=key.get_secret_value() if key else None,
        retry=retry_policy(settings),
    )
    return OpenAIEmbeddings(client, config)


def sql_catalog(
    engine: AsyncEngine, embedder: OpenAIEmbeddings | None, settings: Settings
) -> SqlCatalog:
    return SqlCatalog(
        engine, embeddings=embedder, min_similarity=settings.embeddings_min_similarity
    )
