"""Warm render workers, each a process of its own, lent out one render at a time.

A worker pays the evaluator's import once and then serves renders until it dies, is
killed, or has served ``renders_per_worker`` (then it is retired, so a slow leak in the
evaluator never grows without bound). A worker that dies or overstays its wall-clock
timeout is killed (its whole process group) and a replacement is started at once, in a
thread, so renders waiting for a worker keep their place and get the new one.

Everything here blocks: the renderer calls it from worker threads.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_adapters.manifold import frames

MiB = 1024 * 1024
START_TIMEOUT = 60.0  # the first import of the evaluator, on a loaded machine


@dataclass(frozen=True, slots=True)
class ManifoldLimits:
    timeout: float = 120.0  # wall-clock seconds per render
    memory_bytes: int = 2048 * MiB  # each worker's address space
    output_bytes: int = 256 * MiB  # the STL, and everything the model echoes
    workers: int = 2
    renders_per_worker: int = 200


class WorkerDied(Exception):
    """The worker ended during a render; ``signal`` is what ended it, if a signal did."""

    def __init__(self, signal_number: int | None, killed_on_time: bool) -> None:
        super().__init__(f"worker ended (signal {signal_number})")
        self.signal, self.killed_on_time = signal_number, killed_on_time


class WorkerUnavailable(Exception):
    """No worker could be started (the evaluator is missing, or it fails to import)."""


class Worker:
    """One worker process and its private folder."""

    def __init__(self, limits: ManifoldLimits, library: Path | None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="forge-manifold-"))
        self.renders, self.version = 0, ""
        self._killed = False
        config = {
            "folder": str(self.folder),
            "library": str(library) if library else None,
            "memory_bytes": limits.memory_bytes,
            "output_bytes": limits.output_bytes,
            "cpu_seconds": limits.timeout + 5,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "forge_adapters.manifold.worker", json.dumps(config)],
            cwd=self.folder,
            env=_environment(self.folder),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        try:
            header, _ = self._read(time.monotonic() + START_TIMEOUT)
        except (frames.WorkerGone, frames.WorkerLate) as exc:
            self.close()
            raise WorkerUnavailable("the render worker did not start") from exc
        self.version = str(header.get("version", ""))

    def render(
        self, source: bytes, assignments: dict[str, str], timeout: float
    ) -> tuple[dict[str, Any], bytes]:
        """The worker's reply; WorkerDied if it ended (killed at ``timeout`` included)."""
        self.renders += 1
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(frames.encode({"assignments": assignments}, source))
            self.process.stdin.flush()
            return self._read(time.monotonic() + timeout)
        except frames.WorkerLate:
            self.kill()
            raise self._died() from None
        except (frames.WorkerGone, BrokenPipeError, ValueError):
            raise self._died() from None

    def _read(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        assert self.process.stdout is not None
        return frames.read_by(self.process.stdout.fileno(), deadline)

    def _died(self) -> WorkerDied:
        code = self.process.wait()
        number = -code if code < 0 else None
        return WorkerDied(number, self._killed)

    def kill(self) -> None:
        """Ends the worker now, from any thread (a render waiting on it sees it die)."""
        self._killed = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Kills the worker and frees its pipes and folder (by the thread that holds it)."""
        self.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class WorkerPool:
    """Up to ``limits.workers`` workers; ``take`` lends one, ``give_back`` returns it."""

    def __init__(self, limits: ManifoldLimits, library: Path | None) -> None:
        self.limits, self.library = limits, library
        self._idle: queue.Queue[Worker | None] = queue.Queue()
        self._lock = threading.Lock()
        self._live = 0
        self._closed = False
        self._all: set[Worker] = set()

    def start(self) -> None:
        """Warm every worker now, in the background (renders wait for the first)."""
        with self._lock:
            missing = self.limits.workers - self._live
            self._live += missing
        for _ in range(missing):
            threading.Thread(target=self._spawn_into_queue, daemon=True).start()

    def take(self) -> Worker:
        """An idle worker, starting one if the pool is not full; waits otherwise."""
        with self._lock:
            if self._closed:
                raise WorkerUnavailable("the renderer is shut down")
            grow = self._idle.empty() and self._live < self.limits.workers
            if grow:
                self._live += 1
        if grow:
            return self._spawn()
        worker = self._idle.get()
        if worker is None:  # a replacement failed to start: try once more here
            with self._lock:
                self._live += 1
            return self._spawn()
        return worker

    def give_back(self, worker: Worker) -> None:
        """A worker after a render: reused, retired, or (if it died) replaced."""
        alive = worker.process.poll() is None and not worker._killed
        if alive and worker.renders < self.limits.renders_per_worker and not self._closed:
            self._idle.put(worker)
            return
        self._forget(worker)
        if not self._closed:
            with self._lock:
                self._live += 1
            threading.Thread(target=self._spawn_into_queue, daemon=True).start()

    def close(self) -> None:
        """Ends every worker; renders in progress fail, later ones are refused. Idle
        workers are closed here; a busy or starting one is killed, and the thread that
        holds it closes it (only the holder touches a worker's pipes)."""
        with self._lock:
            self._closed = True
            busy = set(self._all)
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            if worker is not None:
                busy.discard(worker)
                self._forget(worker)
        for worker in busy:
            worker.kill()

    def _spawn(self) -> Worker:
        try:
            worker = Worker(self.limits, self.library)
        except OSError as exc:
            with self._lock:
                self._live -= 1
            raise WorkerUnavailable(f"the render worker cannot start: {exc.strerror}") from exc
        with self._lock:
            self._all.add(worker)
        try:
            worker.wait_ready()
        except WorkerUnavailable:
            self._forget(worker)
            raise
        if self._closed:
            worker.close()
            raise WorkerUnavailable("the renderer is shut down")
        return worker

    def _spawn_into_queue(self) -> None:
        try:
            self._idle.put(self._spawn())
        except WorkerUnavailable:
            self._idle.put(None)  # wakes a waiting render, which tries itself and reports

    def _forget(self, worker: Worker) -> None:
        worker.close()
        with self._lock:
            if worker in self._all:
                self._all.discard(worker)
                self._live -= 1


def _environment(folder: Path) -> dict[str, str]:
    """No inherited variables (OPENSCADPATH, HOME's libraries): only what it needs."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(folder),
        "OPENSCAD_PARSER_CACHE_DIR": str(folder / "cache"),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }
