"""HTTP benchmark: the real ``forge serve`` process against a bare-Litestar ceiling.

    python benchmarks/http_bench.py [--duration 10] [--connections 32] [--rounds 2]

Starts ``forge serve`` (one uvicorn worker) on SQLite in a temporary folder, registers
and logs in a user, creates 50 sessions and a chat, then loads it with ``wrk``:

    real    GET  /api/v1/sessions/{id}   (authenticated)
    real    GET  /api/v1/sessions        (authenticated, 50 items)
    real    POST /api/v1/messages        (authenticated, one INSERT per request)

In the same run it starts ``benchmarks/ceiling_app.py`` under the same uvicorn settings,
serving the very same bodies from memory, and loads it identically. After a short
warm-up, each round gives each side ``--duration`` seconds per scenario, cut into
``--slices`` short runs that alternate (real, ceiling, real, ceiling, ...; the pair
order flips every round), so both sides see the same drift of a shared machine. What
counts is the ratio real/ceiling, taken per round (paired) and reported as the median.

Targets: single GET >= 50% of the ceiling's req/s; 50-item list >= 35%.
With ``--profile N`` it also samples the real server with py-spy for N seconds under
the list load and prints the top functions.

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install -y wrk``; macOS: ``brew install wrk``).
Exit status: 0 when the targets are met, 1 when one is missed, 2 on a setup failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
API = "/api/v1"
LIST_SIZE = 50
TARGETS = {"single GET": 0.50, "list GET (50)": 0.35}
LUA_GET = """\
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
"""
LUA_POST = """\
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


class BenchError(Exception):
    """Setup went wrong: the message says what."""


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def forge_executable() -> str:
    beside = Path(sys.executable).with_name("forge")
    found = str(beside) if beside.exists() else shutil.which("forge")
    if not found:
        raise BenchError("the 'forge' command is not installed (pip install -e . in this venv)")
    return found


def bench_env(
    tmp: Path,
    database: str = "sqlite",
    extra: dict[str, str] | None = None,
    log_level: str | None = "warning",
) -> dict[str, str]:
    """The server's environment: no FORGE_* of the caller's; ``log_level=None`` leaves
    the server's own default (info, a JSON access line per request)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORGE_")}
    env.update(
        FORGE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/forge.db"
        if database == "sqlite"
        else "memory://",
        FORGE_DATA_DIR=str(tmp / "data"),
        PYTHONUNBUFFERED="1",
    )
    if log_level is not None:
        env["FORGE_LOG_LEVEL"] = log_level
    env.update(extra or {})
    return env


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    name: str,
    argv: list[str],
    port: int,
    tmp: Path,
    database: str = "sqlite",
    extra_env: dict[str, str] | None = None,
    log_level: str | None = "warning",
) -> Server:
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        # cwd is the temp folder, so no developer's ./.env leaks into the settings.
        process = subprocess.Popen(
            argv,
            cwd=tmp,
            env=bench_env(tmp, database, extra_env, log_level),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{name} exited with {process.returncode}:\n{log.read_text()}")
        try:
            status, _ = request(server, "GET", f"{API}/health")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise BenchError(f"{name} did not answer GET {API}/health within 30 s:\n{log.read_text()}")


# ---------------------------------------------------------------- setup over HTTP


def request(
    server: Server, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def expect(
    server: Server, method: str, path: str, status: int, body: Any = None, token: str | None = None
) -> Any:
    got, raw = request(server, method, path, body, token)
    if got != status:
        raise BenchError(f"{method} {path}: expected {status}, got {got}: {raw[:500]!r}")
    return json.loads(raw)


@dataclass
class Fixture:
    token: str
    session_id: str
    chat_id: str
    list_body: bytes
    single_body: bytes


def populate(server: Server) -> Fixture:
    user = {"email": "bench@example.com", "password": "bench-password-1"}
    expect(server, "POST", f"{API}/auth/register", 201, {**user, "display_name": "Bench"})
    token = expect(server, "POST", f"{API}/auth/login", 200, user)["access_token"]
    # The chat's session is one of the 50, so the list holds exactly 50 items.
    ids = [
        expect(server, "POST", f"{API}/sessions", 201, {"name": f"bench session {n:02d}"}, token)[
            "id"
        ]
        for n in range(LIST_SIZE)
    ]
    chat = expect(
        server, "POST", f"{API}/chats", 201, {"session_id": ids[0], "title": "bench"}, token
    )
    status, list_body = request(server, "GET", f"{API}/sessions", token=token)
    if status != 200 or len(json.loads(list_body)) != LIST_SIZE:
        raise BenchError(f"GET {API}/sessions: want {LIST_SIZE} items, got {list_body[:300]!r}")
    single_id = ids[LIST_SIZE // 2]
    status, single_body = request(server, "GET", f"{API}/sessions/{single_id}", token=token)
    if status != 200:
        raise BenchError(f"GET {API}/sessions/{single_id}: {status} {single_body[:300]!r}")
    return Fixture(token, single_id, chat["id"], list_body, single_body)


# ---------------------------------------------------------------- wrk


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors + non-2xx/3xx responses
    cpu_us: float = float("nan")  # the server process's CPU time per request


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Result:
    """Read requests/s, p50, p99 and errors from ``wrk --latency`` output."""
    try:
        rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M).group(1))  # type: ignore[union-attr]
        p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
        done = int(re.search(r"^\s+(\d+) requests in", output, re.M).group(1))  # type: ignore[union-attr]
    except AttributeError:
        raise BenchError(f"cannot read wrk's output:\n{output}") from None
    errors = 0
    if socket_errors := re.search(r"Socket errors: (.*)", output):
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    if bad := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(bad.group(1))
    return Result(rps, p50, p99, done, errors)


@dataclass
class Scenario:
    label: str  # what the table calls it
    side: str  # "real" or "ceiling"
    url: str
    script: Path
    pid: int = 0  # the server's process, whose CPU time is read around each run
    results: list[Result] = field(default_factory=list)


Pair = tuple[Scenario, Scenario]  # (real, ceiling)


def run_wrk(scenario: Scenario, seconds: float, args: argparse.Namespace) -> Result:
    argv = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=5s",
        "--latency",
        f"--script={scenario.script}",
        scenario.url,
    ]
    cpu_before = cpu_seconds(scenario.pid)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    cpu_used = cpu_seconds(scenario.pid) - cpu_before
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    result.cpu_us = 1e6 * cpu_used / max(result.requests, 1)
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; NaN elsewhere).

    On a shared machine req/s swings with what else runs; the CPU a server spends per
    request swings much less, so the report shows both."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- profile


def profile(server: Server, scenario: Scenario, args: argparse.Namespace, tmp: Path) -> str:
    """Sample the server with py-spy while wrk loads it; the top functions as text."""
    py_spy = Path(sys.executable).with_name("py-spy")
    py_spy_cmd = str(py_spy) if py_spy.exists() else shutil.which("py-spy")
    if not py_spy_cmd:
        return "py-spy is not installed (pip install py-spy): no profile"
    raw = tmp / "profile.txt"
    spy = subprocess.Popen(
        [
            py_spy_cmd,
            "record",
            "--format=raw",
            f"--duration={max(1, round(args.profile))}",
            "--rate=200",
            "--gil",  # only samples where a thread holds the GIL: Python CPU time
            f"--output={raw}",
            f"--pid={server.process.pid}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    run_wrk(scenario, args.profile, args)
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0 or not raw.exists():
        return f"py-spy failed ({spy.returncode}): {err.strip()}"
    if args.profile_out:
        shutil.copyfile(raw, args.profile_out)
    return summarize_profile(raw.read_text(), args.profile_top)


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)".
    match = re.fullmatch(r"(.*) \((.*?):\d+\)", frame)
    if not match:
        return frame
    func, path = match.groups()
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{func} ({path})"


PROJECT = ("forge_http/", "forge_core/", "forge_adapters/")


def summarize_profile(collapsed: str, top: int) -> str:
    """Self time per function and package, and inclusive time per project function,
    from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f.strip()]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            if any(package in name for package in PROJECT):
                inclusive[name] += count
        package = frames[-1].rsplit("(", 1)[-1].split("/", 1)[0].rstrip(")")
        by_package[package] += count
    if not total:
        return "py-spy recorded no samples"

    def table(counter: Counter[str], title: str) -> list[str]:
        lines = [f"  {title}"]
        for name, count in counter.most_common(top):
            lines.append(f"    {100 * count / total:5.1f}%  {name}")
        return lines

    return "\n".join(
        [
            f"  {total} samples holding the GIL",
            *table(own, "self time (the function itself)"),
            *table(by_package, "self time by package"),
            *table(inclusive, "inclusive time of forge's own functions (with their callees)"),
        ]
    )


# ---------------------------------------------------------------- report


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(pairs: list[Pair], args: argparse.Namespace) -> bool:
    print()
    print(
        f"real server on {args.database}, log level {args.log_level or 'default (info)'}; "
        f"wrk: {args.connections} connections, "
        f"{args.threads} thread(s), "
        f"{args.duration:g} s x {args.rounds} round(s) per scenario; medians over rounds"
    )
    print()
    print("| scenario | server | req/s | p50 ms | p99 ms | CPU µs/request | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for pair in pairs:
        for scenario in pair:
            results = scenario.results
            print(
                f"| {scenario.label} | {scenario.side} "
                f"| {median([r.rps for r in results]):,.0f} "
                f"| {median([r.p50_ms for r in results]):.2f} "
                f"| {median([r.p99_ms for r in results]):.2f} "
                f"| {median([r.cpu_us for r in results]):.0f} "
                f"| {sum(r.errors for r in results)} |"
            )
    print()
    print(
        "| scenario | real/ceiling req/s (per round) | median | target | verdict "
        "| ceiling/real CPU per request |"
    )
    print("|---|---|---:|---:|---|---:|")
    met = True
    for real, ceiling in pairs:
        ratios = [r.rps / c.rps for r, c in zip(real.results, ceiling.results, strict=True)]
        ratio = median(ratios)
        cpu_ratio = median([c.cpu_us for c in ceiling.results]) / median(
            [r.cpu_us for r in real.results]
        )
        target = TARGETS.get(real.label)
        verdict = "-" if target is None else ("met" if ratio >= target else "MISSED")
        met = met and verdict != "MISSED"
        per_round = ", ".join(f"{r:.1%}" for r in ratios)
        target_text = f"{target:.0%}" if target is not None else "-"
        print(
            f"| {real.label} | {per_round} | {ratio:.1%} | {target_text} | {verdict} "
            f"| {cpu_ratio:.1%} |"
        )
    errors = sum(r.errors for pair in pairs for s in pair for r in s.results)
    if errors:
        print(f"\nWARNING: {errors} failed requests; the figures above are suspect.")
    return met and not errors


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load the real forge server and a bare-Litestar ceiling with wrk."
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--slices", type=int, default=5, help="alternating runs per side and round")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per scenario")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores: keep 1)")
    parser.add_argument(
        "--profile", type=int, default=0, help="py-spy the real list GET for N seconds"
    )
    parser.add_argument("--profile-top", type=int, default=12, help="functions to show")
    parser.add_argument(
        "--profile-single", action="store_true", help="profile the single GET, not the list"
    )
    parser.add_argument(
        "--profile-out", type=Path, help="keep py-spy's collapsed stacks (for flamegraphs)"
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "memory"],
        default="sqlite",
        help="the real server's storage; 'memory' (FORGE_DATABASE_URL=memory://) is a "
        "diagnostic that leaves SQL out",
    )
    parser.add_argument(
        "--log-level",
        help="FORGE_LOG_LEVEL of the real server; by default none is set, so it runs on its "
        "default (info: one JSON access line per request), as users run it",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    return parser.parse_args(argv)


def machine() -> str:
    from importlib.metadata import version

    versions = ", ".join(
        f"{name} {version(name)}"
        for name in ("litestar", "uvicorn", "msgspec", "sqlalchemy", "aiosqlite")
    )
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout or wrk.stderr).split(" [")[0]
    return (
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}; "
        f"{versions}; {wrk_version}"
    )


def measure(pairs: list[Pair], args: argparse.Namespace) -> None:
    """Warm up every scenario, then run the rounds. In a round each side of a pair gets
    ``--duration`` seconds, cut into ``--slices`` runs that alternate with the other
    side's: the machine's speed drifts over seconds, and alternating short runs lets
    both sides see the same drift, where two back-to-back 10 s runs did not."""
    for pair in pairs:
        for scenario in pair:
            run_wrk(scenario, args.warmup, args)
    for number in range(args.rounds):
        for pair in pairs:
            # The pair order flips every round, so neither side always goes first.
            order = pair[::-1] if number % 2 else pair
            runs: dict[str, list[Result]] = {scenario.side: [] for scenario in pair}
            for _ in range(args.slices):
                for scenario in order:
                    runs[scenario.side].append(run_wrk(scenario, args.duration / args.slices, args))
            for scenario in pair:
                result = combined(runs[scenario.side])
                scenario.results.append(result)
                print(
                    f"  round {number + 1} {scenario.side:7} {scenario.label:14} "
                    f"{result.rps:9,.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms  errors {result.errors}",
                    flush=True,
                )


def combined(runs: list[Result]) -> Result:
    """One side's slices as one measurement: requests over the time they took, CPU
    over the requests; the latency percentiles are the slices' medians."""
    requests = sum(run.requests for run in runs)
    seconds = sum(run.requests / run.rps for run in runs if run.rps)
    cpu_us = sum(run.cpu_us * run.requests for run in runs) / max(requests, 1)
    return Result(
        rps=requests / seconds if seconds else 0.0,
        p50_ms=median([run.p50_ms for run in runs]),
        p99_ms=median([run.p99_ms for run in runs]),
        requests=requests,
        errors=sum(run.errors for run in runs),
        cpu_us=cpu_us,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print(
            "http_bench: wrk is not installed. Install it with\n"
            "  sudo apt-get update && sudo apt-get install -y wrk   (Debian/Ubuntu)\n"
            "  brew install wrk                                     (macOS)",
            file=sys.stderr,
        )
        return 2
    print(machine(), flush=True)
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="forge-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            real_port = free_port()
            real_argv = [forge_executable(), "serve", f"--port={real_port}"]
            real = start_server(
                "real", real_argv, real_port, tmp, args.database, log_level=args.log_level
            )
            servers.append(real)
            fixture = populate(real)
            (tmp / "sessions.json").write_bytes(fixture.list_body)
            ceiling_port = free_port()
            ceiling_argv = [
                sys.executable,
                str(HERE / "ceiling_app.py"),
                f"--port={ceiling_port}",
                f"--fixture={tmp / 'sessions.json'}",
            ]
            ceiling = start_server("ceiling", ceiling_argv, ceiling_port, tmp)
            servers.append(ceiling)
            check_same_bodies(real, ceiling, fixture)
            print(
                f"real: forge serve on :{real.port} (pid {real.process.pid}); "
                f"ceiling on :{ceiling.port} (pid {ceiling.process.pid})",
                flush=True,
            )
            pairs = build_scenarios(real, ceiling, fixture, tmp)
            measure(pairs, args)
            met = report(pairs, args)
            if args.profile:
                scenario = pairs[0 if args.profile_single else 1][0]
                print(f"\npy-spy --gil on the real server, {args.profile} s, {scenario.label}:")
                print(profile(real, scenario, args, tmp))
        except BenchError as exc:
            print(f"http_bench: {exc}", file=sys.stderr)
            return 2
        finally:
            for server in servers:
                server.stop()
    if args.json:
        raw = {f"{s.side} {s.label}": [r.__dict__ for r in s.results] for p in pairs for s in p}
        args.json.write_text(json.dumps(raw, indent=2))
    return 0 if met else 1


def build_scenarios(real: Server, ceiling: Server, fixture: Fixture, tmp: Path) -> list[Pair]:
    get_lua = tmp / "get.lua"
    get_lua.write_text(LUA_GET.format(token=fixture.token))
    message = json.dumps(
        {"chat_id": fixture.chat_id, "role": "user", "content": "Hello", "tokens": 5}
    )
    post_lua = tmp / "post.lua"
    post_lua.write_text(LUA_POST.format(token=fixture.token, body=message))
    single = f"{API}/sessions/{fixture.session_id}"
    listing = f"{API}/sessions"
    messages = f"{API}/messages"
    real_pid, ceiling_pid = real.process.pid, ceiling.process.pid
    return [
        (
            Scenario("single GET", "real", real.base + single, get_lua, real_pid),
            Scenario("single GET", "ceiling", ceiling.base + single, get_lua, ceiling_pid),
        ),
        (
            Scenario("list GET (50)", "real", real.base + listing, get_lua, real_pid),
            Scenario("list GET (50)", "ceiling", ceiling.base + listing, get_lua, ceiling_pid),
        ),
        (
            Scenario("POST message", "real", real.base + messages, post_lua, real_pid),
            Scenario("POST message", "ceiling", ceiling.base + messages, post_lua, ceiling_pid),
        ),
    ]


def check_same_bodies(real: Server, ceiling: Server, fixture: Fixture) -> None:
    """The ceiling must serve the very bytes the real server does, or the race is unfair."""
    for path, want in (
        (f"{API}/sessions", fixture.list_body),
        (f"{API}/sessions/{fixture.session_id}", fixture.single_body),
    ):
        status, body = request(ceiling, "GET", path)
        if status != 200 or body != want:
            raise BenchError(
                f"ceiling GET {path} differs from the real one:\n{want[:200]!r}\n{body[:200]!r}"
            )


if __name__ == "__main__":
    sys.exit(main())
