"""Real ``forge serve`` processes on free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import forge_http

# Settings a developer's shell may hold; each test says which of them it wants.
OWN_SETTINGS = ("FORGE_", "SUPABASE_", "RUNPOD_")


@pytest.fixture(autouse=True)
def serve_this_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """``forge serve`` runs in a temporary folder, where a relative PYTHONPATH (``src``)
    finds nothing; point it at the code these tests import, so the server is that code."""
    monkeypatch.setenv("PYTHONPATH", str(Path(forge_http.__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def forge_command() -> list[str]:
    script = shutil.which("forge", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "forge_http.cli"]


@dataclass(frozen=True)
class Server:
    """A running ``forge serve``: its base URL, its process (a test may signal it) and
    the file its output goes to."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def api(self) -> str:
        return f"{self.base}/api/v1"


@contextmanager
def forge_process(workdir: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start ``forge serve`` in ``workdir`` with ``env`` over the caller's environment
    (less its own settings); yield it once it answers. After the block it is stopped with
    SIGTERM, unless a test has stopped it already."""
    with forge_processes(workdir, [env or {}]) as (server,):
        yield server


@contextmanager
def forge_processes(workdir: Path, envs: list[dict[str, str]]) -> Iterator[tuple[Server, ...]]:
    """``forge_process`` for several servers, started (and stopped) side by side."""
    processes: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        stack.callback(stop, processes)
        servers = []
        for env in envs:
            servers.append(stack.enter_context(_launched(workdir, env)))
            processes.append(servers[-1].process)
        for server in servers:
            wait_until_up(server.base, server.process, server.log)
        yield tuple(servers)


@contextmanager
def _launched(workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    environment.update(env)
    log_path = workdir / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*forge_command(), "serve", "--port", str(port)],
            cwd=workdir,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        yield Server(f"http://127.0.0.1:{port}", process, log_path)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to those still running, then the grace it gives them (plus a margin)
    before a SIGKILL."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def forge_server(workdir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``forge serve`` in ``workdir`` on its embedded defaults; yield its base URL."""
    with forge_process(workdir, env) as server:
        yield server.base


STARTUP_SECONDS = 120


def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    # Generous: on a loaded 2-core machine an app import alone has taken 11 s; this is a
    # wait for readiness, not a measure of it.
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"forge serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"forge serve did not come up:\n{log.read_text()}")
