"""Render engines, back to back: the Manifold worker pool against the OpenSCAD CLI.

    python benchmarks/engine_bench.py [--rounds 5] [--corpus]

Each template backend model (its default SCAD, as the pipeline renders it) is rendered
``--rounds`` times by each adapter, the two alternating so that the machine's load
falls on both alike; the pool is warm (its start is not timed, as in a running server).
Wall seconds per render, median and worst, and the ratio of the medians.

``--corpus`` also renders each of OpenSCAD's examples (tests/corpus) once with each
engine and reports, over the files both render, the median and the worst ratio of
OpenSCAD's time to Manifold's. OpenSCAD takes minutes on some of them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import anyio

from forge_adapters.manifold import ManifoldLimits, ManifoldRenderer
from forge_adapters.openscad import OpenSCADRenderer, RenderLimits
from forge_adapters.template_backend import execute
from forge_core.errors import ForgeError
from forge_core.inference import JobInput
from forge_core.ports import Renderer
from forge_core.render_request import RenderRequest

CORPUS = Path(__file__).parents[1] / "tests" / "corpus" / "openscad-examples"
MODELS = ("drone", "enclosure", "bracket", "plate", "custom")


def template_scad(model_type: str) -> str:
    requirements = {"model_type": model_type, "primary_function": "a benchmark part"}
    return str(
        execute(JobInput.create("generate_scad", requirements_json=requirements))["scad_code"]
    )


async def timed(renderer: Renderer, source: str) -> float | None:
    started = time.perf_counter()
    try:
        await renderer.render(RenderRequest(source))
    except ForgeError:
        return None
    return time.perf_counter() - started


async def templates(rounds: int) -> None:
    manifold = ManifoldRenderer(limits=ManifoldLimits(workers=1))
    openscad = OpenSCADRenderer()
    try:
        await manifold.render(RenderRequest("cube(1);"))  # a warm pool, as in a server
        print("| model | Manifold median / worst s | OpenSCAD median / worst s | speed-up |")
        print("|---|---:|---:|---:|")
        for model in MODELS:
            source = template_scad(model)
            times: dict[str, list[float]] = {"manifold": [], "openscad": []}
            for _ in range(rounds):
                for name, renderer in (("manifold", manifold), ("openscad", openscad)):
                    seconds = await timed(renderer, source)
                    assert seconds is not None, f"{name} failed on {model}"
                    times[name].append(seconds)
            m, o = times["manifold"], times["openscad"]
            print(
                f"| {model} | {statistics.median(m):.3f} / {max(m):.3f} "
                f"| {statistics.median(o):.3f} / {max(o):.3f} "
                f"| {statistics.median(o) / statistics.median(m):.1f}x |"
            )
    finally:
        manifold.close()


async def corpus() -> None:
    ratios: list[tuple[float, str]] = []
    for folder in sorted({path.parent for path in CORPUS.rglob("*.scad")}):
        manifold = ManifoldRenderer(library=folder, limits=ManifoldLimits(workers=1, timeout=60))
        openscad = OpenSCADRenderer(library=folder, limits=RenderLimits(timeout=600))
        try:
            await manifold.render(RenderRequest("cube(1);"))
            for path in sorted(folder.glob("*.scad")):
                source = path.read_text(encoding="utf-8")
                m, o = await timed(manifold, source), await timed(openscad, source)
                if m is not None and o is not None:
                    ratios.append((o / m, str(path.relative_to(CORPUS))))
        finally:
            manifold.close()
    ratios.sort()
    median = statistics.median(r for r, _ in ratios)
    print(f"\ncorpus: {len(ratios)} files both render; OpenSCAD time / Manifold time:")
    print(f"median {median:.1f}x; worst {ratios[0][0]:.2f}x ({ratios[0][1]}); "
          f"best {ratios[-1][0]:.1f}x ({ratios[-1][1]})")  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}")
    await templates(args.rounds)
    if args.corpus:
        await corpus()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", action="store_true")
    anyio.run(main, parser.parse_args())
