"""A render worker: ``python -m forge_adapters.manifold.worker CONFIG_JSON``.

Started by ``WorkerPool`` in a private folder, it limits itself before it reads any SCAD
(address space, file size, no core dumps), imports the evaluator once and warms it with
a cube, installs the file guard, says it is ready, then answers render frames on stdin
until stdin closes. Before each render it sets its CPU-time limit to what it has used
plus the render's budget, so a runaway render dies of SIGXCPU even if the server's
wall-clock timer were late. Its stdout is only for frames: anything else that prints
goes to stderr.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any, BinaryIO

from forge_adapters.manifold import frames

#: Renders yield the CPU to the server's event loop: requests and health stay quick
#: while a render runs on the same cores.
NICENESS = 5


def limit_self(config: dict[str, Any]) -> None:
    memory, output = int(config["memory_bytes"]), int(config["output_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (output, output))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(NICENESS)


def budget_cpu(seconds: float) -> None:
    """Allow ``seconds`` more CPU time from now (SIGXCPU ends the worker after that)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = int(used + seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def frame_stream() -> BinaryIO:
    """A private copy of stdout for frames; fd 1 then points at stderr for stray prints."""
    stream = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return stream


def main() -> None:
    config = json.loads(sys.argv[1])
    folder = Path(config["folder"])
    limit_self(config)
    out, requests = frame_stream(), sys.stdin.buffer

    import openscad_evaluator
    import openscad_lalr_parser

    from forge_adapters.manifold import evaluate, guard

    evaluate.render("cube(1);", {}, folder, int(config["output_bytes"]))  # warm every import
    readable = [
        Path(openscad_evaluator.__file__).parent,
        Path(openscad_lalr_parser.__file__).parent,
    ]
    if config.get("library"):
        readable.append(Path(config["library"]))
    guard.install(folder, readable)
    frames.write(out, {"ready": True, "version": version("openscad-evaluator")})
    while (frame := frames.read(requests)) is not None:
        header, payload = frame
        budget_cpu(float(config["cpu_seconds"]))
        reply, mesh = evaluate.render(
            payload.decode("utf-8"), header["assignments"], folder, int(config["output_bytes"])
        )
        frames.write(out, reply, mesh)


if __name__ == "__main__":
    main()
