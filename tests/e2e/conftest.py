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
from contextlib import contextmanager
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


@contextmanager
def forge_server(workdir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``forge serve`` in ``workdir`` on its embedded defaults; yield its base URL."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    environment.update(env or {})
    log = (workdir / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [*forge_command(), "serve", "--port", str(port)],
        cwd=workdir,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, workdir / f"serve-{port}.log")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
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
