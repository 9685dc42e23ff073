"""From a prompt to a downloaded STL on the real ``forge serve``, for each renderer.

    python benchmarks/prompt_bench.py [--rounds 5] [--renderers manifold,openscad]

For each renderer it starts ``forge serve`` on the embedded defaults (template backend,
SQLite, local files; ``FORGE_RENDERER`` set), signs in, and for each prompt, ``--rounds``
times: ``process_requirements`` then ``generate_scad`` (both ``sync``), then polls the
chat's job every 10 ms until it has ended, then downloads its STL. Reported: wall
seconds from the first POST to the last byte of the STL, median and worst, and the
job's own render-to-completion seconds by the server's timestamps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from http_bench import API, BenchError, Server, expect, forge_executable, free_port, request
from http_bench import start_server as start

PROMPTS = {
    "quadcopter": "a 160 mm quadcopter frame with 3 mm thick arms",
    "enclosure": "an enclosure box 120 x 80 x 40 mm with 2 mm walls",
}


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def signed_in(server: Server) -> tuple[str, str, str]:
    user = {"email": "prompt@example.com", "password": "prompt-password-1"}
    expect(server, "POST", f"{API}/auth/register", 201, user)
    token = expect(server, "POST", f"{API}/auth/login", 200, user)["access_token"]
    session = expect(server, "POST", f"{API}/sessions", 201, {"name": "bench"}, token)["id"]
    chat = expect(server, "POST", f"{API}/chats", 201, {"session_id": session}, token)["id"]
    return token, session, chat


def one_prompt(
    server: Server, token: str, session: str, chat: str, text: str
) -> tuple[float, float]:
    """Wall seconds prompt-to-STL, and the job's own seconds (started to completed)."""
    before = {
        j["id"]
        for j in expect(
            server, "GET", f"{API}/jobs?session_id={session}&limit=200", 200, token=token
        )
    }
    started = time.perf_counter()
    run = f"{API}/chats/{chat}/runpod"
    asked = expect(
        server,
        "POST",
        run,
        200,
        {"action": "process_requirements", "content": text, "sync": True},
        token,
    )
    requirements = asked["message"]["metadata_json"]["requirements_json"]
    body = {
        "action": "generate_scad",
        "content": "Generate SCAD",
        "sync": True,
        "requirements_json": requirements,
    }
    expect(server, "POST", run, 200, body, token)
    job = wait_for_job(server, token, session, before)
    assets = expect(server, "GET", f"{API}/assets?job_id={job['id']}", 200, token=token)
    stl = next(a for a in assets if a["uri"].endswith("/model.stl"))
    status, data = request(server, "GET", f"{API}/assets/{stl['id']}/content", token=token)
    wall = time.perf_counter() - started
    if status != 200 or len(data) < 84:
        raise BenchError(f"the STL download answered {status}")
    return wall, seconds(job["completed_at"]) - seconds(job["started_at"])


def wait_for_job(server: Server, token: str, session: str, before: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        jobs = expect(server, "GET", f"{API}/jobs?session_id={session}&limit=200", 200, token=token)
        new = [j for j in jobs if j["id"] not in before]
        if new and new[0]["status"] not in ("pending", "running"):
            if new[0]["status"] != "succeeded":
                raise BenchError(f"the job failed: {new[0]['error']}")
            return dict(new[0])
        time.sleep(0.01)
    raise BenchError("the job did not end within 300 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--renderers", default="manifold,openscad")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="forge-prompt-") as tmp:
        for renderer in args.renderers.split(","):
            folder = Path(tmp) / renderer
            folder.mkdir()
            port = free_port()
            env = {"FORGE_RENDERER": renderer}
            server = start(
                renderer,
                [forge_executable(), "serve", f"--port={port}"],
                port,
                folder,
                extra_env=env,
            )
            try:
                time.sleep(3)  # the Manifold workers warm up in the background at start-up
                token, session, chat = signed_in(server)
                for name, text in PROMPTS.items():
                    found = [
                        one_prompt(server, token, session, chat, text) for _ in range(args.rounds)
                    ]
                    walls, jobs = [w for w, _ in found], [j for _, j in found]
                    rows.append((renderer, name, walls, jobs))
            except BenchError as exc:
                print(f"prompt_bench: {exc}", file=sys.stderr)
                return 2
            finally:
                server.stop()
    print("\n| renderer | prompt | prompt to STL median / worst s | job median s |")
    print("|---|---|---:|---:|")
    for renderer, name, walls, jobs in rows:
        print(f"| {renderer} | {name} | {statistics.median(walls):.2f} / {max(walls):.2f} "
              f"| {statistics.median(jobs):.2f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
