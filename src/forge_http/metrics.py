"""``GET /metrics``: Prometheus text format.

Requests by route template and status (``forge_http_requests_total``) and latency
histograms (``forge_http_request_duration_seconds``) are counted at the app's edge
(``edge.py``), outside Litestar's exception handler: Litestar's own
Prometheus middleware sits inside it, so a request its auth middleware refuses would be
counted with status 200 and an unknown path not at all. Open chat sockets are a gauge
the socket route keeps; runs and jobs by state are read at scrape time. The route is
outside ``/api/v1`` and the OpenAPI schema; it is public unless ``FORGE_METRICS_TOKEN``
is set, in which case it wants ``Authorization: Bearer <that token>``.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Gauge,
    generate_latest,
)

from forge_core.entities import JobStatus, RunStatus
from forge_core.errors import Unauthenticated
from forge_core.ports import Repository, RunStore
from forge_http.request_counts import RequestCounts
from forge_http.security import PUBLIC

# Process-wide, as prometheus_client expects (one registry per process).
OPEN_SOCKETS = Gauge("forge_open_sockets", "Chat sockets open now")
REQUESTS = RequestCounts()
REGISTRY.register(REQUESTS)
JOBS = Gauge("forge_jobs", "Jobs of every user, by status", ["status"])
RUNS = Gauge("forge_runs", "Inference runs of every user, by status", ["status"])
UNMATCHED = "unmatched"  # a path no route serves: one label, whatever was asked


log = logging.getLogger("forge.metrics")


class StatusGauges:
    """Sets the jobs and runs gauges from one grouped count each, when scraped."""

    def __init__(self, repo: Repository, runs: RunStore, timeout: float = 2.0) -> None:
        self._repo, self._runs, self._timeout = repo, runs, timeout

    async def refresh(self) -> None:
        try:
            with anyio.fail_after(self._timeout):
                jobs, runs = await self._repo.jobs_by_status(), await self._runs.runs_by_status()
        except Exception as exc:  # the scrape still answers, with the last known values
            log.warning("metrics: counting jobs and runs failed: %s", type(exc).__name__)
            return
        for status in JobStatus:
            JOBS.labels(status.value).set(jobs.get(status.value, 0))
        for run_status in RunStatus:
            RUNS.labels(run_status.value).set(runs.get(run_status.value, 0))


def metrics_route(token: str | None) -> HTTPRouteHandler:
    @get("/metrics", opt=PUBLIC, include_in_schema=False)
    async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
        if token is not None:
            sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(sent.encode(), token.encode()):
                raise Unauthenticated("/metrics wants 'Authorization: Bearer <metrics token>'")
        await request.app.state.status_gauges.refresh()
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return metrics
