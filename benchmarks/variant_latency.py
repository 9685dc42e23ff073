"""Variant latency: ``POST /jobs/{id}/variants`` to ``job.completed`` on the chat's
socket, for each template, on the real ``forge serve`` with the embedded defaults.

    python benchmarks/variant_latency.py [--variants 20] [--templates drone,plate]

Starts ``forge serve`` (SQLite and local objects in a temporary folder, the template
backend), registers a user, makes a session and a chat and subscribes to its socket.
For each template it makes the model once (``generate_scad``, sync), waits for its job,
then makes ``--variants`` variants one at a time, each changing one size. The baseline,
in the same run and interleaved with the variants (variant, baseline, variant, ...), is
the same SCAD the variant produced sent as a plain job (``POST /jobs`` with
``spec.scad_code``, then ``POST /start``) to its ``job.completed``: the pipeline alone.
So variant - baseline is what making a variant costs (reading the parameters, checking
and rewriting) on top of rendering, checking and storing the model.

Reported per template: median and p95 of both, in ms, and their difference. Target
(issue 13): quadcopter variant median under 500 ms, which assumes a fast renderer; the
render engine the server uses is printed with the results.
Exit status: 0 when every job succeeded, 1 otherwise, 2 on a setup failure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from http_bench import API, BenchError, expect, forge_executable, free_port, start_server
from websockets.sync.client import ClientConnection, connect

#: The size each template's variants change, and the values they cycle through.
VARIED = {
    "drone": ("arm_width", [10, 11, 13, 14, 15]),
    "enclosure": ("length", [90, 95, 105, 110, 115]),
    "bracket": ("width", [25, 28, 32, 35, 38]),
    "plate": ("length", [100, 110, 130, 140, 150]),
    "custom": ("length", [50, 55, 65, 70, 75]),
}
WAIT = 120.0


def completed(ws: ClientConnection, job_id: str) -> dict[str, Any]:
    """Read frames until this job ends; its job.completed frame (BenchError if failed)."""
    while True:
        frame = json.loads(ws.recv(timeout=WAIT))
        if frame.get("job_id") != job_id:
            continue
        if frame["type"] == "job.failed":
            raise BenchError(f"job {job_id} failed: {frame}")
        if frame["type"] == "job.completed":
            return dict(frame)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Bench:
    def __init__(self, server: Any, token: str, chat: str, session: str, ws: ClientConnection):
        self.server, self.token, self.chat, self.session, self.ws = server, token, chat, session, ws

    def post(self, path: str, status: int, body: Any) -> Any:
        return expect(self.server, "POST", f"{API}{path}", status, body, self.token)

    def model(self, model_type: str) -> str:
        """Make the template's model; the id of its finished job."""
        body = {"action": "generate_scad", "content": model_type, "sync": True,
                "requirements_json": {"model_type": model_type}}  # fmt: skip
        self.post(f"/chats/{self.chat}/runpod", 200, body)
        while True:
            frame = json.loads(self.ws.recv(timeout=WAIT))
            if frame["type"] == "job.completed":
                return str(frame["job_id"])
            if frame["type"] == "job.failed":
                raise BenchError(f"the {model_type} model failed: {frame}")

    def variant(self, job_id: str, name: str, value: float) -> tuple[float, str]:
        started = time.perf_counter()
        made = self.post(f"/jobs/{job_id}/variants", 201, {"parameters": {name: value}})
        completed(self.ws, made["id"])
        return time.perf_counter() - started, str(made["spec"]["scad_code"])

    def baseline(self, scad: str) -> float:
        started = time.perf_counter()
        spec = {"scad_code": scad, "chat_id": self.chat}
        job = self.post("/jobs", 201, {"session_id": self.session, "prompt": "b", "spec": spec})
        self.post(f"/jobs/{job['id']}/start", 200, None)
        completed(self.ws, job["id"])
        return time.perf_counter() - started


def measure(bench: Bench, model_type: str, rounds: int) -> dict[str, list[float]]:
    job_id = bench.model(model_type)
    name, values = VARIED[model_type]
    times: dict[str, list[float]] = {"variant": [], "baseline": []}
    for i in range(rounds):
        seconds, scad = bench.variant(job_id, name, values[i % len(values)])
        times["variant"].append(seconds)
        times["baseline"].append(bench.baseline(scad))
    return times


def openscad_version() -> str:
    found = shutil.which("openscad")
    if found is None:
        return "openscad not installed"
    done = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip()


def report(results: dict[str, dict[str, list[float]]]) -> None:
    print(f"renderer: the OpenSCAD CLI ({openscad_version()}), the server's default")
    print("template    variant p50  p95   baseline p50  p95   variant - baseline (p50)")
    for model_type, times in results.items():
        v, b = [s * 1000 for s in times["variant"]], [s * 1000 for s in times["baseline"]]
        mv, mb = statistics.median(v), statistics.median(b)
        print(f"{model_type:<11} {mv:8.0f} {p95(v):6.0f}   {mb:8.0f} {p95(b):6.0f}   "
              f"{mv - mb:+8.0f} ms  (n={len(v)})")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=20)
    parser.add_argument("--templates", default=",".join(VARIED))
    args = parser.parse_args(argv)
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        try:
            server = start_server("forge", [forge_executable(), "serve", f"--port={port}"],
                                  port, Path(folder))  # fmt: skip
        except BenchError as exc:
            print(exc, file=sys.stderr)
            return 2
        try:
            user = {"email": "bench@example.com", "password": "variant-bench"}
            expect(server, "POST", f"{API}/auth/register", 201, {**user, "display_name": "B"})
            token = expect(server, "POST", f"{API}/auth/login", 200, user)["access_token"]
            session = expect(server, "POST", f"{API}/sessions", 201, {"name": "v"}, token)["id"]
            chat = expect(server, "POST", f"{API}/chats", 201,
                          {"session_id": session, "title": "v"}, token)["id"]  # fmt: skip
            url = f"ws://127.0.0.1:{port}{API}/chat-socket/{chat}?token={token}"
            with connect(url, open_timeout=WAIT) as ws:
                ws.send(json.dumps({"type": "ping"}))
                json.loads(ws.recv(timeout=WAIT))  # subscribed once it answers
                bench = Bench(server, token, chat, session, ws)
                results = {t: measure(bench, t, args.variants) for t in args.templates.split(",")}
        except BenchError as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            server.stop()
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
