"""Wall time of each 3D pipeline stage for the quadcopter template, through the adapters.

    python benchmarks/pipeline_stages.py [--rounds 5] [--model drone]

One round runs the stages one after the other, as the pipeline does: render (the
``OpenSCADRenderer``, process start and sandbox included), inspect + QA
(``TrimeshKit.inspect`` and ``forge_core.qa.qa_report``), each export (stl, glb, 3mf)
and the PNG preview, every one through the async port (so the hop to a worker thread
is counted). Median and spread of the rounds; storing is measured with the object
stores (benchmarks/objectstore_bench.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from forge_adapters.mesh import TrimeshKit
from forge_adapters.openscad import OpenSCADRenderer
from forge_adapters.template_backend import execute
from forge_core.inference import JobInput
from forge_core.qa import qa_report

STAGES = ("render", "inspect + QA", "export stl", "export glb", "export 3mf", "preview png")


async def one_round(
    scad: str, requirements: dict[str, Any]
) -> tuple[dict[str, float], dict[str, int]]:
    """Seconds per stage, and the bytes each output came to."""
    kit = TrimeshKit()
    times: dict[str, float] = {}
    sizes: dict[str, int] = {}

    async def timed(stage: str, work: Callable[[], Awaitable[Any]]) -> Any:
        started = time.monotonic()
        result = await work()
        times[stage] = time.monotonic() - started
        return result

    stl = (await timed("render", lambda: OpenSCADRenderer().render(scad))).mesh

    async def check() -> bool:
        return qa_report(await kit.inspect(stl), requirements=requirements).passed

    assert await timed("inspect + QA", check)
    for format in ("stl", "glb", "3mf"):
        sizes[format] = len(await timed(f"export {format}", lambda f=format: kit.export(stl, f)))
    sizes["png"] = len(await timed("preview png", lambda: kit.preview(stl)))
    times["total"] = sum(times.values())
    return times, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default="drone")
    args = parser.parse_args()
    output = execute(JobInput.create("generate_scad", requirements_json={"model_type": args.model}))
    requirements = {"model_type": args.model, "dimensions_mm": {}}
    runs = [anyio.run(one_round, output["scad_code"], requirements) for _ in range(args.rounds)]
    rounds = [times for times, _ in runs]
    print(f"{args.model}: {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
    print(f"output bytes: {runs[-1][1]}")
    print("| stage | median s | min s | max s |\n|---|---:|---:|---:|")
    for stage in (*STAGES, "total"):
        values = [r[stage] for r in rounds]
        median = statistics.median(values)
        print(f"| {stage} | {median:.3f} | {min(values):.3f} | {max(values):.3f} |")


if __name__ == "__main__":
    main()
