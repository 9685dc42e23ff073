"""Samplers for benchmarks/pipeline_load.py, each a thread: a health prober and a /proc
memory sampler of a process and its descendants (Linux)."""

from __future__ import annotations

import http.client
import os
import threading
import time

from http_bench import API, Server


class HealthProbe(threading.Thread):
    """GET /health every ``interval`` s on one kept-alive connection; (time, ms or None)."""

    def __init__(self, server: Server, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.port, self.interval = server.port, interval
        self.samples: list[tuple[float, float | None]] = []
        self.done = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.done.is_set():
            started = time.monotonic()
            try:
                connection.request("GET", f"{API}/health")
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()  # reconnect next time
                ok = False
            took = time.monotonic() - started
            self.samples.append((started, took * 1000 if ok else None))
            self.done.wait(max(0.0, self.interval - took))
        connection.close()

    def window(self, start: float, end: float) -> list[float | None]:
        return [ms for at, ms in self.samples if start <= at < end]


def status_kib(pid: int, *fields: str) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in fields:
                    values[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass  # the process ended between the listing and the read
    return values


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of any of its threads, recursively)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    kids = [int(k) for k in children.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


class MemorySampler(threading.Thread):
    """The server's RSS and its children's summed RSS, every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.done = threading.Event()
        self.server_peak = self.children_peak = self.total_peak = 0  # KiB
        self.most_children = 0
        self.samples = 0

    def run(self) -> None:
        while not self.done.is_set():
            server = status_kib(self.pid, "VmRSS").get("VmRSS", 0)
            kids = descendants(self.pid)
            children = sum(status_kib(kid, "VmRSS").get("VmRSS", 0) for kid in kids)
            self.server_peak = max(self.server_peak, server)
            self.children_peak = max(self.children_peak, children)
            self.total_peak = max(self.total_peak, server + children)
            self.most_children = max(self.most_children, len(kids))
            self.samples += 1
            self.done.wait(self.interval)
