"""The Renderer port on ``openscad-evaluator`` and Manifold, in a pool of warm workers.

The source is vetted by the same SCAD sandbox as the OpenSCAD adapter's (so both refuse
the same file references, with the same errors), then rendered by a worker process that
limits itself (address space, file size, CPU time) and guards its file access (see
``guard``). The server kills a worker that overstays the wall-clock timeout, and starts
a replacement. A worker's reply becomes a RenderResult or the port's errors.
"""

from __future__ import annotations

import signal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import anyio.to_thread

from forge_adapters.manifold.pool import (
    ManifoldLimits,
    Worker,
    WorkerDied,
    WorkerPool,
    WorkerUnavailable,
)
from forge_adapters.openscad.sandbox import vet_scad
from forge_core.errors import RenderFailed, RenderLimitExceeded, Unavailable
from forge_core.ports import RendererInfo, RenderResult
from forge_core.render_request import RenderRequest


class ManifoldRenderer:
    """Renders SCAD to binary STL in warm worker processes; see the module docstring."""

    def __init__(self, *, library: Path | None = None, limits: ManifoldLimits | None = None):
        self._library = library.resolve() if library is not None else None  # workers' cwd differs
        self._limits = limits or ManifoldLimits()
        self._pool = WorkerPool(self._limits, self._library)

    def start(self) -> None:
        """Warm the workers now, in the background, instead of at the first render."""
        self._pool.start()

    def close(self) -> None:
        self._pool.close()

    async def about(self) -> RendererInfo:
        try:
            return RendererInfo("manifold", version("openscad-evaluator"))
        except PackageNotFoundError:
            raise Unavailable("renderer not installed") from None

    async def render(self, request: RenderRequest) -> RenderResult:
        source = vet_scad(request.source, self._library).encode("utf-8")
        call = _Call(self._pool, source, request.assignments(), self._limits.timeout)
        try:
            reply, mesh = await anyio.to_thread.run_sync(call.run, abandon_on_cancel=True)
        finally:
            call.cancel()  # a cancelled render stops now, not at its timeout
        return _result(reply, mesh, self._limits)


class _Call:
    """One render on one borrowed worker; ``run`` blocks in a thread, ``cancel`` kills."""

    def __init__(
        self, pool: WorkerPool, source: bytes, assignments: dict[str, str], timeout: float
    ) -> None:
        self._pool, self._source, self._assignments = pool, source, assignments
        self._timeout = timeout
        self._worker: Worker | None = None
        self._done = False

    def run(self) -> tuple[dict[str, Any], bytes]:
        try:
            self._worker = self._pool.take()
        except WorkerUnavailable as exc:
            raise Unavailable(f"renderer not installed: {exc}") from exc
        try:
            if self._done:  # cancelled while it waited for a worker
                raise Unavailable("the render was cancelled")
            return self._worker.render(self._source, self._assignments, self._timeout)
        except WorkerDied as died:
            raise _death(died, self._timeout) from None
        finally:
            self._done = True
            self._pool.give_back(self._worker)

    def cancel(self) -> None:
        if not self._done:
            self._done = True
            if self._worker is not None:
                self._worker.kill()


def _death(died: WorkerDied, timeout: float) -> Exception:
    if died.killed_on_time or died.signal == signal.SIGXCPU:
        return RenderLimitExceeded("time", f"the render took longer than {timeout:g} s")
    if died.signal == signal.SIGABRT:
        return RenderLimitExceeded("memory", "the render ran out of memory")
    name = signal.Signals(died.signal).name if died.signal else "an exit"
    return RenderFailed(f"the renderer stopped unexpectedly ({name})")


def _result(reply: dict[str, Any], mesh: bytes, limits: ManifoldLimits) -> RenderResult:
    if reply.get("ok"):
        warnings = tuple(str(w) for w in reply.get("warnings", ()))
        return RenderResult(mesh, "stl", warnings, float(reply.get("seconds", 0.0)))
    detail = str(reply.get("detail", "the render failed"))
    if reply.get("error") == "limit":
        which = str(reply.get("limit"))
        if which == "memory":
            detail = f"the render needs over {limits.memory_bytes} bytes"
        raise RenderLimitExceeded(which, detail)
    line = reply.get("line")
    raise RenderFailed(detail, int(line) if line is not None else None)
