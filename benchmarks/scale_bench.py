"""Scale-out benchmark: two replicas on PostgreSQL against one on PostgreSQL and one on SQLite.

    python benchmarks/scale_bench.py [--duration 10] [--rounds 2] [--connections 64]

Three set-ups of the real ``forge serve`` (one uvicorn worker each), all started at once,
each on its own database:

    SQLite x1   one replica on SQLite (the embedded default): the baseline
    PG x1       one replica on PostgreSQL
    PG x2       two replicas on one PostgreSQL database and one Redis (FORGE_EVENT_BUS=redis)

Each is populated as http_bench.py does it (a user, 50 sessions, a chat), then loaded
with two of http_bench.py's scenarios at ``--connections`` (64):

    list GET (50)   GET  /api/v1/sessions   authenticated, 50 items
    POST message    POST /api/v1/messages   authenticated, one INSERT per request

There is no load balancer here, so every measurement is two ``wrk`` processes at once
with half the connections each: both on the one replica, or one on each replica. Their
req/s and counts add up; p50 and p99 are the worse of the two, since percentiles of two
histograms cannot be merged from wrk's summaries. The replicas' CPU time (user + system,
from /proc) over each measurement, divided by its requests, gives the CPU each request
cost: the figure that says what a free core would serve, where req/s depend on what
else the shared cores run. Measurements interleave (each set-up once per scenario and
round, the order reversed every other round), and the ratios to the SQLite baseline are
taken per round, then their median is reported.

PostgreSQL (``--postgres``) gets two throw-away databases ``forge_bench_scale_<hex>_{1,2}``,
migrated with ``forge migrate`` and dropped at the end; the Redis keys use the prefix
``forge-bench-<hex>:`` and are deleted. Exit status: 0 when no request failed, 1 when
some did, 2 on a setup failure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import PIPE

import redis
from bench_services import clear_redis, database_url, migrate, postgres
from http_bench import (
    API,
    LUA_GET,
    LUA_POST,
    BenchError,
    Fixture,
    Result,
    Server,
    forge_executable,
    free_port,
    machine,
    parse_wrk,
    populate,
    request,
    start_server,
)
from scale_figures import Measured, combine, cpu_ticks, failed, figures_table, ratios_table

WRK_PROCESSES = 2
WRK_OPTIONS = ("--threads=1", "--timeout=5s", "--latency")  # as http_bench.py runs it
SCENARIOS = ("list GET (50)", "POST message")


@dataclass
class Setup(Measured):
    servers: list[Server] = field(default_factory=list)
    scripts: dict[str, tuple[str, Path]] = field(default_factory=dict)  # scenario: path, lua

    def targets(self) -> list[str]:
        """The base URL each wrk process loads: the one replica twice, or one each."""
        return [self.servers[n % len(self.servers)].base for n in range(WRK_PROCESSES)]


# ---------------------------------------------------------------- set-ups


def replicas_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far; NaN without /proc."""
    try:
        stats = [Path(f"/proc/{pid}/stat").read_text() for pid in pids]
    except OSError:
        return float("nan")
    return sum(cpu_ticks(stat) for stat in stats) / os.sysconf("SC_CLK_TCK")


def launch(name: str, folder: Path, extra: dict[str, str]) -> Server:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [forge_executable(), "serve", f"--port={port}"]
    return start_server(name, argv, port, folder, "sqlite", extra)


def start_setups(
    setups: list[Setup], tmp: Path, pg_urls: list[str], args: argparse.Namespace
) -> None:
    # One signing secret, so a token issued by one replica is accepted by the other.
    common = {"FORGE_JWT_SECRET": secrets.token_hex(32)}
    redis_env = {
        "FORGE_EVENT_BUS": "redis",
        "FORGE_REDIS_URL": args.redis,
        "FORGE_REDIS_PREFIX": args.redis_prefix,
    }
    pg1 = {**common, "FORGE_DATABASE_URL": pg_urls[0]}
    pg2 = {**common, "FORGE_DATABASE_URL": pg_urls[1], **redis_env}
    # Appended one by one, so the caller can stop whatever started before a failure.
    setups.append(Setup("SQLite x1", servers=[launch("sqlite", tmp / "sqlite", common)]))
    setups.append(Setup("PG x1", servers=[launch("pg1", tmp / "pg1", pg1)]))
    setups.append(Setup("PG x2", servers=[launch("pg2a", tmp / "pg2", pg2)]))
    setups[-1].servers.append(launch("pg2b", tmp / "pg2", pg2))


def prepare(setup: Setup, folder: Path) -> None:
    """Populate through the first replica, check every replica serves the same list,
    and write the set-up's wrk scripts."""
    fixture: Fixture = populate(setup.servers[0])
    for server in setup.servers[1:]:
        status, body = request(server, "GET", f"{API}/sessions", token=fixture.token)
        if status != 200 or body != fixture.list_body:
            raise BenchError(f"{server.name} does not serve the same list: {status} {body[:200]!r}")
    # The very body http_bench.py posts.
    message = json.dumps(
        {"chat_id": fixture.chat_id, "role": "user", "content": "Hello", "tokens": 5}
    )
    get_lua = folder / f"{setup.servers[0].name}-get.lua"
    post_lua = folder / f"{setup.servers[0].name}-post.lua"
    get_lua.write_text(LUA_GET.format(token=fixture.token))
    post_lua.write_text(LUA_POST.format(token=fixture.token, body=message))
    setup.scripts = {SCENARIOS[0]: (f"{API}/sessions", get_lua)}
    setup.scripts[SCENARIOS[1]] = (f"{API}/messages", post_lua)


# ---------------------------------------------------------------- wrk


def run_at_once(
    setup: Setup, scenario: str, seconds: float, args: argparse.Namespace
) -> list[Result]:
    """wrk processes started together, each with its share of the connections."""
    path, script = setup.scripts[scenario]
    options = [
        *WRK_OPTIONS,
        f"--connections={args.connections // WRK_PROCESSES}",
        f"--duration={max(1, round(seconds))}s",
        f"--script={script}",
    ]
    processes = [
        subprocess.Popen(["wrk", *options, base + path], stdout=PIPE, stderr=PIPE, text=True)
        for base in setup.targets()
    ]
    outputs = [process.communicate() for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        if process.returncode != 0:
            raise BenchError(f"wrk failed ({process.returncode}): {err or out}")
    return [parse_wrk(out) for out, _ in outputs]


def measure_once(setup: Setup, scenario: str, args: argparse.Namespace) -> str:
    """One measurement, kept in ``setup``; its line for the progress log."""
    pids = [server.process.pid for server in setup.servers]
    cpu = replicas_cpu_seconds(pids)
    parts = run_at_once(setup, scenario, args.duration, args)
    cpu = replicas_cpu_seconds(pids) - cpu
    result = combine(parts)
    setup.results.setdefault(scenario, []).append(result)
    setup.cpu_ms.setdefault(scenario, []).append(1000 * cpu / max(1, result.requests))
    split = " + ".join(f"{part.rps:,.0f}" for part in parts)
    return (
        f"{result.rps:7,.0f} req/s ({split})  p50 {result.p50_ms:6.2f} ms  "
        f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}  "
        f"CPU {setup.cpu_ms[scenario][-1]:.2f} ms/req"
    )


def measure(setups: list[Setup], args: argparse.Namespace, loads: list[float]) -> None:
    """Warm every set-up up, then the rounds: each scenario on each set-up back to back,
    the set-up order reversed every other round. ``loads`` gets the 1-minute load
    average read before each measurement."""
    for setup in setups:
        for scenario in SCENARIOS:
            run_at_once(setup, scenario, args.warmup, args)
    for number in range(args.rounds):
        order = setups if number % 2 == 0 else setups[::-1]
        for scenario in SCENARIOS:
            for setup in order:
                loads.append(os.getloadavg()[0])
                line = measure_once(setup, scenario, args)
                print(
                    f"  round {number + 1} {setup.label:9} {scenario:13} {line}  "
                    f"load {loads[-1]:.2f}",
                    flush=True,
                )


# ---------------------------------------------------------------- report


def report(setups: list[Setup], args: argparse.Namespace, loads: list[float]) -> int:
    """Print the figures and the ratios; the number of failed requests."""
    print(
        f"\nwrk: {WRK_PROCESSES} processes x {args.connections // WRK_PROCESSES} connections "
        f"(1 thread each), {args.duration:g} s x {args.rounds} round(s); medians over rounds; "
        f"p50/p99 = the worse wrk process; 1-min load before measurements "
        f"{min(loads):.2f} to {max(loads):.2f} on {os.cpu_count()} CPUs\n"
    )
    print("\n".join([*figures_table(setups, SCENARIOS), "", *ratios_table(setups, SCENARIOS)]))
    errors = failed(setups)
    if errors:
        print(f"\nWARNING: {errors} failed requests; the figures above are suspect.")
    return errors


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="One replica on SQLite, one on PostgreSQL, two on PostgreSQL + Redis."
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per scenario")
    parser.add_argument(
        "--connections", type=int, default=64, help="connections in all, split over 2 wrk"
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a database to connect to as a user who may create databases",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the Redis server")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    if args.connections < WRK_PROCESSES or args.connections % WRK_PROCESSES:
        parser.error(f"--connections must be a multiple of {WRK_PROCESSES}")
    return args


def run(tmp: Path, names: list[str], args: argparse.Namespace, setups: list[Setup]) -> int:
    """Create and migrate the databases, start and populate the set-ups (appended to
    ``setups``, so the caller can stop them), measure; the number of failed requests."""
    version = postgres(args.postgres, *(f'CREATE DATABASE "{name}"' for name in names))
    print(f"{machine()}; PostgreSQL {version}", flush=True)
    pg_urls = [database_url(args.postgres, name) for name in names]
    for url in pg_urls:
        migrate(url, tmp / "migrate")
    start_setups(setups, tmp, pg_urls, args)
    for setup in setups:
        prepare(setup, tmp)
    loads: list[float] = []
    measure(setups, args, loads)
    errors = report(setups, args, loads)
    if args.json:
        raw = {s.label: {k: [r.__dict__ for r in v] for k, v in s.results.items()} for s in setups}
        args.json.write_text(json.dumps(raw, indent=2))
    return errors


def clean_up(setups: list[Setup], names: list[str], args: argparse.Namespace) -> None:
    for server in (server for setup in setups for server in setup.servers):
        server.stop()
    try:
        postgres(args.postgres, *(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names))
        clear_redis(args.redis, args.redis_prefix)
    except (BenchError, redis.RedisError) as exc:
        print(f"scale_bench: cleaning up: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("scale_bench: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    tag = secrets.token_hex(4)
    args.redis_prefix = f"forge-bench-{tag}:"
    names = [f"forge_bench_scale_{tag}_{n}" for n in (1, 2)]
    setups: list[Setup] = []
    with tempfile.TemporaryDirectory(prefix="forge-scale-") as tmp:
        try:
            errors = run(Path(tmp), names, args, setups)
        except BenchError as exc:
            print(f"scale_bench: {exc}", file=sys.stderr)
            return 2
        finally:
            clean_up(setups, names, args)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
