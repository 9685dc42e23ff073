"""The Litestar application factory. No I/O here: start-up work lives in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from forge_http.access_log import AccessLog
from forge_http.allowed_methods import methods_by_path
from forge_http.console_files import console_router, console_url
from forge_http.container import Application, ServiceSet, build_container, shutdown
from forge_http.dependencies import DEPENDENCIES, CallerRequest
from forge_http.edge import Edge
from forge_http.errors import EXCEPTION_HANDLERS, log_handled_error
from forge_http.health_checks import resolve_checks, resolved
from forge_http.metrics import StatusGauges, metrics_route
from forge_http.openapi import tighten
from forge_http.pipeline_workers import pipeline_workers
from forge_http.routes import ROUTES
from forge_http.routes.content import content_routes
from forge_http.routes.health import forge_version
from forge_http.security import BearerAuth
from forge_http.supervisor import supervising
from forge_http.swagger import swagger_assets, swagger_page

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024  # JSON bodies; uploads have FORGE_MAX_UPLOAD_BYTES
log = logging.getLogger("forge_http.app")


def create_app(
    container: Application | None = None, *, access_log: AccessLog | None = None
) -> Litestar:
    """The app on ``container`` (the settings' own by default); ``forge serve`` passes
    the ``access_log`` that writes a line per request."""
    container = container or build_container()
    settings = container.settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.services = services = await ServiceSet.resolve(container)
        gateways = container.gateways
        app.state.health = await resolve_checks(gateways)
        app.state.renderer = await resolved(gateways.renderer)
        app.state.status_gauges = StatusGauges(
            await resolved(gateways.repository), await resolved(gateways.run_store)
        )
        log.info("the console is at %s", console_url(settings.host, settings.port))
        try:
            async with (
                supervising(services.supervisor),
                pipeline_workers(services.job_worker, settings.pipeline_workers),
            ):
                yield
        finally:
            await shutdown(container)

    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    uploads = content_routes(settings.max_upload_bytes)  # its own body limit
    api = Router(path=API_PREFIX, route_handlers=[*ROUTES, uploads])
    app = Litestar(
        route_handlers=[api, metrics_route(metrics_token), swagger_assets(), console_router()],
        lifespan=[lifespan],
        dependencies=DEPENDENCIES,
        middleware=[BearerAuth()],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        cors_config=CORSConfig(allow_origins=settings.cors_origins)
        if settings.cors_origins
        else None,
        request_max_body_size=MAX_BODY_BYTES,
        request_class=CallerRequest,  # the caller; JSON nested too deep is a 400
        logging_config=LoggingConfig(
            log_exceptions="always", exception_logging_handler=log_handled_error
        )
        if settings.log_level == "debug"
        else None,
        openapi_config=OpenAPIConfig(
            title="Forge",
            version=forge_version(),
            description="Chat-to-3D design backend: sessions, chats, jobs and assets.",
            path="/schema",
            render_plugins=[swagger_page()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
    )
    tighten(app.openapi_schema)  # built once here, from the routes alone: no I/O
    # Around everything, the exception handler and the router included, so that every
    # answer (a refused token, an unknown path) has its id, its log lines and its count.
    app.asgi_handler = Edge(app.asgi_handler, methods_by_path(app), access_log)
    return app
