"""The composition root: which adapter serves which port, decided from settings.

Layered as Core (settings, clock) -> Gateways (database engine, stores, backends) ->
Services (use cases). Tests and embedders swap a piece with ``provider.override(...)``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, fields
from typing import Any

from argon2 import PasswordHasher
from dependency_injector import containers, providers

from forge_adapters.catalog import MemoryCatalog
from forge_adapters.http_client import open_http_client
from forge_adapters.local_auth import LocalAuthProvider
from forge_adapters.memory import (
    MemoryAuthStore,
    MemoryEventLog,
    MemoryObjectStore,
    MemoryRateLimiter,
    MemoryRepository,
    MemoryRunStore,
    memory_job_leases,
    memory_run_leases,
)
from forge_adapters.mesh import TrimeshKit
from forge_adapters.runpod import RunPodBackend
from forge_adapters.scad_parser import LalrScadParser
from forge_adapters.sql import (
    SqlAuthStore,
    SqlEventLog,
    SqlRepository,
    SqlRunStore,
)
from forge_adapters.sql import job_leases as sql_job_leases
from forge_adapters.sql import run_leases as sql_run_leases
from forge_adapters.template_backend import TemplateBackend
from forge_core.entities import utc_now
from forge_core.ports import AuthProvider
from forge_core.rate_limits import RateLimits
from forge_core.services import (
    AssetContent,
    AssetMetas,
    Assets,
    ChatEvents,
    Chats,
    JobRunner,
    Jobs,
    JobWorker,
    Messages,
    Repairs,
    Runs,
    RunSupervisor,
    Sessions,
    Variants,
)
from forge_core.services.catalog import Components
from forge_core.services.retriever import Retriever
from forge_http.event_bus import open_event_bus, open_redis_event_bus
from forge_http.gateway_factories import (
    embeddings_kind,
    lease_owner,
    local_object_store,
    open_embeddings,
    open_engine,
    open_manifold_renderer,
    open_openai_backend,
    open_supabase_http,
    openscad_renderer,
    run_poll_delays,
    runpod_config,
    s3_object_store,
    seconds,
    signing_secret,
    sql_catalog,
    storage_kind,
    supabase_auth,
    supabase_client,
)
from forge_http.redis_gateway import open_redis, redis_rate_limiter
from forge_http.settings import Settings


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Object(utc_now)
    worker = providers.Singleton(lease_owner)


class Gateways(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()

    engine = providers.Resource(open_engine, core.settings)
    kind = providers.Callable(storage_kind, core.settings)
    repository = providers.Selector(
        kind,
        memory=providers.Singleton(MemoryRepository),
        sql=providers.Singleton(SqlRepository, engine),
    )
    auth_store = providers.Selector(
        kind,
        memory=providers.Singleton(MemoryAuthStore),
        sql=providers.Singleton(SqlAuthStore, engine),
    )
    # The memory log reads chats from the same memory repository.
    event_log = providers.Selector(
        kind,
        memory=providers.Singleton(MemoryEventLog, repository),
        sql=providers.Singleton(SqlEventLog, engine),
    )
    # The memory run store reads chats and messages from the same memory repository, and
    # stores a finalized run's end event in the same memory log.
    run_store = providers.Selector(
        kind,
        memory=providers.Singleton(MemoryRunStore, repository, event_log, core.clock),
        sql=providers.Singleton(SqlRunStore, engine, core.clock),
    )
    # Leases on runs and pipeline jobs, over the same stores.
    run_leases = providers.Selector(
        kind,
        memory=providers.Singleton(memory_run_leases, run_store),
        sql=providers.Singleton(sql_run_leases, engine),
    )
    job_leases = providers.Selector(
        kind,
        memory=providers.Singleton(memory_job_leases, repository),
        sql=providers.Singleton(sql_job_leases, engine),
    )
    redis = providers.Resource(open_redis, core.settings)
    event_bus = providers.Selector(
        core.settings.provided.event_bus,
        memory=providers.Resource(open_event_bus),
        redis=providers.Resource(open_redis_event_bus, redis, core.settings.provided.redis_prefix),
    )
    rate_limiter = providers.Selector(
        core.settings.provided.rate_limit_store,
        memory=providers.Singleton(MemoryRateLimiter),
        redis=providers.Singleton(redis_rate_limiter, redis, core.settings),
    )
    password_hasher = providers.Singleton(PasswordHasher)
    object_store = providers.Selector(
        core.settings.provided.object_store,
        memory=providers.Singleton(MemoryObjectStore),
        local=providers.Singleton(local_object_store, core.settings),
        s3=providers.Singleton(s3_object_store, core.settings),
    )
    renderer = providers.Selector(
        core.settings.provided.renderer,
        manifold=providers.Resource(open_manifold_renderer, core.settings),
        openscad=providers.Singleton(openscad_renderer, core.settings),
    )
    mesh_kit = providers.Singleton(TrimeshKit)
    scad_parser = providers.Singleton(LalrScadParser)
    supabase_http = providers.Resource(open_supabase_http)
    supabase_anon = providers.Singleton(supabase_client, supabase_http, core.settings, "anon")
    supabase_service = providers.Singleton(supabase_client, supabase_http, core.settings, "service")
    http_client = providers.Resource(
        open_http_client, core.settings.provided.inference_timeout_seconds
    )
    # Hybrid catalog search when FORGE_EMBEDDINGS_BASE_URL is set; BM25 alone otherwise.
    embeddings = providers.Selector(
        providers.Callable(embeddings_kind, core.settings),
        off=providers.Object(None),
        on=providers.Singleton(open_embeddings, http_client, core.settings),
    )
    catalog = providers.Selector(
        kind,
        memory=providers.Singleton(MemoryCatalog),
        sql=providers.Singleton(sql_catalog, engine, embeddings, core.settings),
    )
    inference = providers.Selector(
        core.settings.provided.inference_kind,
        template=providers.Singleton(TemplateBackend),
        runpod=providers.Singleton(
            RunPodBackend, http_client, providers.Callable(runpod_config, core.settings)
        ),
        openai=providers.Resource(open_openai_backend, http_client, core.settings),
    )


class Services(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    auth = providers.Selector(
        core.settings.provided.auth_backend,
        local=providers.Singleton(
            LocalAuthProvider,
            store=gateways.auth_store,
            jwt_secret=providers.Callable(signing_secret, core.settings),
            hasher=gateways.password_hasher,
            clock=core.clock,
            access_ttl=providers.Callable(seconds, core.settings.provided.access_token_ttl_seconds),
        ),
        supabase=providers.Singleton(
            supabase_auth, gateways.supabase_http, gateways.auth_store, core.settings, core.clock
        ),
    )
    limits = providers.Singleton(
        RateLimits,
        gateways.rate_limiter,
        auth_per_minute=core.settings.provided.rate_limit_auth_per_minute,
        runs_per_minute=core.settings.provided.rate_limit_runs_per_minute,
    )
    # Deleting a session, job or asset removes its stored objects too.
    sessions = providers.Singleton(
        Sessions, repo=gateways.repository, clock=core.clock, objects=gateways.object_store
    )
    chats = providers.Singleton(Chats, repo=gateways.repository, clock=core.clock)
    components = providers.Singleton(Components, catalog=gateways.catalog, clock=core.clock)
    retriever = providers.Singleton(Retriever, catalog=gateways.catalog)
    messages = providers.Singleton(Messages, repo=gateways.repository, clock=core.clock)
    events = providers.Singleton(
        ChatEvents,
        repo=gateways.repository,
        log=gateways.event_log,
        bus=gateways.event_bus,
        clock=core.clock,
    )
    repairs = providers.Singleton(
        Repairs,
        backend=gateways.inference,
        repo=gateways.repository,
        attempts=core.settings.provided.repair_attempts,
        clock=core.clock,
    )
    job_runner = providers.Singleton(
        JobRunner,
        repo=gateways.repository,
        renderer=gateways.renderer,
        mesh=gateways.mesh_kit,
        store=gateways.object_store,
        events=events,
        build_volume=core.settings.provided.build_volume,
        clock=core.clock,
        repairs=repairs,
    )
    job_worker = providers.Singleton(
        JobWorker,
        runner=job_runner,
        repo=gateways.repository,
        leases=gateways.job_leases,
        worker=core.worker,
        lease_seconds=core.settings.provided.lease_seconds,
        clock=core.clock,
    )
    jobs = providers.Singleton(
        Jobs,
        repo=gateways.repository,
        clock=core.clock,
        objects=gateways.object_store,
        queue=job_worker,
    )
    variants = providers.Singleton(
        Variants,
        repo=gateways.repository,
        parser=gateways.scad_parser,
        clock=core.clock,
        queue=job_worker,
    )
    assets = providers.Singleton(
        Assets, repo=gateways.repository, clock=core.clock, objects=gateways.object_store
    )
    content = providers.Singleton(
        AssetContent,
        repo=gateways.repository,
        objects=gateways.object_store,
        clock=core.clock,
        max_bytes=core.settings.provided.max_upload_bytes,
    )
    asset_metas = providers.Singleton(AssetMetas, repo=gateways.repository, clock=core.clock)
    supervisor = providers.Singleton(
        RunSupervisor,
        runs=gateways.run_store,
        leases=gateways.run_leases,
        backend=gateways.inference,
        events=events,
        worker=core.worker,
        pipeline=jobs,
        clock=core.clock,
        lease_seconds=core.settings.provided.lease_seconds,
        poll_delays=providers.Callable(run_poll_delays, core.settings),
    )
    runs = providers.Singleton(
        Runs,
        repo=gateways.repository,
        runs=gateways.run_store,
        backend=gateways.inference,
        clock=core.clock,
        events=events,
        supervisor=supervisor,
        max_runs_per_user=core.settings.provided.max_runs_per_user,
        limits=limits,
        retriever=retriever,
    )


class Application(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.Container(Core, settings=settings)
    gateways = providers.Container(Gateways, core=core)
    services = providers.Container(Services, core=core, gateways=gateways)


def build_container(settings: Settings | None = None) -> Application:
    return Application(settings=settings or Settings())


@dataclass(frozen=True, slots=True)
class ServiceSet:
    """The use cases, resolved once at start-up so a request costs no container lookups."""

    auth: AuthProvider
    sessions: Sessions
    chats: Chats
    messages: Messages
    jobs: Jobs
    variants: Variants
    assets: Assets
    asset_metas: AssetMetas
    events: ChatEvents
    runs: Runs
    supervisor: RunSupervisor
    job_worker: JobWorker
    content: AssetContent
    limits: RateLimits
    components: Components

    @classmethod
    async def resolve(cls, container: Application) -> ServiceSet:
        resolved: dict[str, Any] = {}
        for field in fields(cls):
            value = getattr(container.services, field.name)()
            # A provider that depends on an async Resource (the engine) answers a future.
            resolved[field.name] = await value if inspect.isawaitable(value) else value
        return cls(**resolved)


async def shutdown(container: Application) -> None:
    result = container.shutdown_resources()
    if inspect.isawaitable(result):
        await result
