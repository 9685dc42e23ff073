"""The 3D pipeline under load: 20 quadcopter jobs at once on the real ``forge serve``.

    python benchmarks/pipeline_load.py [--jobs 20] [--workers 1,2,4] [--renderers manifold,openscad]

For each renderer and worker count it starts ``forge serve`` (embedded defaults: SQLite and local
objects in a temporary folder, ``FORGE_PIPELINE_WORKERS`` set), registers and logs in a
user, makes a session and a chat, and creates the jobs (pending) with the template
backend's quadcopter SCAD in ``spec.scad_code``. Then:

- **idle baseline**: ``GET /api/v1/health`` is probed every ~50 ms for ``--idle``
  seconds while nothing else happens;
- **load**: every job is started at once (``POST /jobs/{id}/start`` from as many
  threads), and the same probing goes on until every job has ended.

Meanwhile the server's memory is sampled every 20 ms from /proc: its own RSS (VmRSS,
and VmHWM, the kernel's peak) and, separately, the summed RSS of its child processes
(the ``openscad`` renders, or the Manifold render workers). Reported: wall time (first
start to last completion, by the server's own timestamps), jobs/min, per-job latency,
successes, health latency idle against under load (p50, p99, max, and how many probes
took over 100 ms), peak memory.
Exit status: 0 when every job succeeded, 1 otherwise, 2 on a setup failure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from http_bench import (
    API,
    BenchError,
    Server,
    expect,
    forge_executable,
    free_port,
    request,
    start_server,
)
from load_probes import HealthProbe, MemorySampler, status_kib

from forge_adapters.template_backend import execute
from forge_core.inference import JobInput

MiB = 1024 * 1024
SLOW_MS = 100.0


# ---------------------------------------------------------------- one run


@dataclass
class Outcome:
    renderer: str
    workers: int
    jobs: list[dict[str, Any]]
    wall: float  # first start to last completion, server clock
    idle: list[float | None]
    load: list[float | None]
    idle_rss: int  # KiB
    hwm: int  # KiB, VmHWM at the end
    memory: MemorySampler
    load_avg: float
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.renderer}, {self.workers}"

    @property
    def succeeded(self) -> int:
        return sum(job["status"] == "succeeded" for job in self.jobs)

    @property
    def latencies(self) -> list[float]:
        return [_seconds(job["completed_at"]) - _seconds(job["started_at"]) for job in self.jobs]


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def quadcopter_scad() -> str:
    """The template backend's quadcopter frame, as pipeline_stages.py renders it."""
    output = execute(JobInput.create("generate_scad", requirements_json={"model_type": "drone"}))
    return str(output["scad_code"])


def prepare(server: Server, jobs: int, scad: str) -> tuple[str, str, list[str]]:
    """Register, log in, make a session and a chat, and the pending jobs."""
    user = {"email": "load@example.com", "password": "load-password-1"}
    expect(server, "POST", f"{API}/auth/register", 201, {**user, "display_name": "Load"})
    token = expect(server, "POST", f"{API}/auth/login", 200, user)["access_token"]
    session = expect(server, "POST", f"{API}/sessions", 201, {"name": "load"}, token)["id"]
    chat = expect(
        server, "POST", f"{API}/chats", 201, {"session_id": session, "title": "load"}, token
    )
    spec = {"scad_code": scad, "chat_id": chat["id"], "requirements_json": {"model_type": "drone"}}
    ids = [
        expect(
            server,
            "POST",
            f"{API}/jobs",
            201,
            {"session_id": session, "prompt": f"quadcopter {n}", "spec": spec},
            token,
        )["id"]
        for n in range(jobs)
    ]
    return token, session, ids


def start_all(server: Server, token: str, ids: list[str]) -> None:
    def start(job_id: str) -> int:
        return request(server, "POST", f"{API}/jobs/{job_id}/start", token=token)[0]

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        statuses = list(pool.map(start, ids))
    if any(status != 200 for status in statuses):
        raise BenchError(f"POST /jobs/{{id}}/start answered {sorted(set(statuses))}")


def wait_until_ended(
    server: Server, token: str, session: str, count: int, limit: float
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        jobs = expect(server, "GET", f"{API}/jobs?session_id={session}&limit=100", 200, token=token)
        if len(jobs) == count and all(j["status"] not in ("pending", "running") for j in jobs):
            return list(jobs)
        time.sleep(0.2)
    raise BenchError(f"the jobs did not end within {limit:g} s")


def run_once(
    renderer: str, workers: int, args: argparse.Namespace, scad: str, tmp: Path
) -> Outcome:
    folder = tmp / f"{renderer}-{workers}"
    folder.mkdir()
    port = free_port()
    argv = [forge_executable(), "serve", f"--port={port}"]
    env = {"FORGE_PIPELINE_WORKERS": str(workers), "FORGE_RENDERER": renderer}
    server = start_server(f"forge-{workers}", argv, port, folder, extra_env=env)
    try:
        token, session, ids = prepare(server, args.jobs, scad)
        probe = HealthProbe(server, args.interval)
        memory = MemorySampler(server.process.pid)
        probe.start()
        time.sleep(args.idle)
        idle_rss = status_kib(server.process.pid, "VmRSS")["VmRSS"]
        memory.start()
        loaded = time.monotonic()
        start_all(server, token, ids)
        jobs = wait_until_ended(server, token, session, args.jobs, args.timeout)
        ended = time.monotonic()
        probe.done.set()
        memory.done.set()
        probe.join()
        memory.join()
        hwm = status_kib(server.process.pid, "VmHWM")["VmHWM"]
    finally:
        server.stop()
    first = min(_seconds(j["started_at"]) for j in jobs)
    last = max(_seconds(j["completed_at"]) for j in jobs)
    errors = sorted({str(j["error"]) for j in jobs if j["status"] != "succeeded"})
    return Outcome(
        renderer=renderer,
        workers=workers,
        jobs=jobs,
        wall=last - first,
        idle=probe.window(0, loaded),
        load=probe.window(loaded, ended),
        idle_rss=idle_rss,
        hwm=hwm,
        memory=memory,
        load_avg=os.getloadavg()[0],
        errors=errors,
    )


# ---------------------------------------------------------------- report


def latency_cells(samples: list[float | None]) -> str:
    """p50 / p99 / max ms, then over-100-ms (and failed) probes out of all."""
    answered = sorted(ms for ms in samples if ms is not None)
    failed = len(samples) - len(answered)
    if not answered:
        return f"- | - | - | all {len(samples)} failed"
    p99 = answered[min(len(answered) - 1, round(0.99 * (len(answered) - 1)))]
    slow = sum(ms > SLOW_MS for ms in answered) + failed
    return (
        f"{statistics.median(answered):.1f} | {p99:.1f} | {answered[-1]:.1f} "
        f"| {slow}/{len(samples)}" + (f" ({failed} failed)" if failed else "")
    )


def report(outcomes: list[Outcome], jobs: int) -> None:
    print(f"\n{jobs} quadcopter jobs started at once; health probed every ~50 ms\n")
    print("| renderer, workers | succeeded | wall s | jobs/min | job latency p50 / max s "
          "| load 1 min |")  # fmt: skip
    print("|---:|---:|---:|---:|---|---:|")
    for o in outcomes:
        lat = o.latencies
        print(
            f"| {o.name} | {o.succeeded}/{len(o.jobs)} | {o.wall:.1f} "
            f"| {60 * len(o.jobs) / o.wall:.0f} "
            f"| {statistics.median(lat):.1f} / {max(lat):.1f} | {o.load_avg:.1f} |"
        )
    print("\n| workers | health | p50 ms | p99 ms | max ms | over 100 ms |")
    print("|---:|---|---:|---:|---:|---:|")
    for o in outcomes:
        print(f"| {o.name} | idle (baseline) | {latency_cells(o.idle)} |")
        print(f"| {o.name} | under load | {latency_cells(o.load)} |")
    print("\n| workers | server RSS idle MiB | server RSS peak MiB | VmHWM MiB "
          "| renders peak MiB (most at once) | server + renders peak MiB |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|")
    for o in outcomes:
        m = o.memory
        print(
            f"| {o.name} | {o.idle_rss / 1024:.0f} | {m.server_peak / 1024:.0f} "
            f"| {o.hwm / 1024:.0f} | {m.children_peak / 1024:.0f} ({m.most_children}) "
            f"| {m.total_peak / 1024:.0f} |"
        )
    for o in outcomes:
        for error in o.errors:
            print(f"{o.name}: a job failed: {error}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="jobs started at once")
    parser.add_argument(
        "--workers", default="2", help="FORGE_PIPELINE_WORKERS values, comma-separated"
    )
    parser.add_argument(
        "--renderers", default="manifold,openscad", help="FORGE_RENDERER values, comma-separated"
    )
    parser.add_argument("--idle", type=float, default=5, help="seconds of idle baseline")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between probes")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the jobs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}")
    scad = quadcopter_scad()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="forge-load-") as tmp_name:
        try:
            for renderer in args.renderers.split(","):
                for workers in counts:
                    outcome = run_once(renderer, workers, args, scad, Path(tmp_name))
                    outcomes.append(outcome)
                    print(f"  {outcome.name}: {outcome.succeeded}/{args.jobs} succeeded "
                          f"in {outcome.wall:.1f} s", flush=True)  # fmt: skip
        except BenchError as exc:
            print(f"pipeline_load: {exc}", file=sys.stderr)
            return 2
    report(outcomes, args.jobs)
    return 0 if all(o.succeeded == len(o.jobs) for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
