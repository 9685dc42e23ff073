"""End to end: "a 5-inch quad frame for a 20x20 stack and 2306 motors" through the
retriever, the template backend, the OpenSCAD renderer and the mesh kit, and the hole
spacings measured on the rendered mesh (not read from the SCAD).

    python -m benchmarks.catalog_end_to_end [--text "..."] [--renderer manifold|openscad]

Prints the parts retrieved, the template's parameters, the round holes found on the
mesh grouped by diameter, the stack square's sides, the motor pattern's opposite-hole
distances, and QA's hole-pattern checks.
"""

from __future__ import annotations

import argparse
import asyncio
import math
from collections import defaultdict

from forge_adapters.catalog import MemoryCatalog
from forge_adapters.manifold import ManifoldRenderer
from forge_adapters.mesh import TrimeshKit
from forge_adapters.openscad import OpenSCADRenderer
from forge_adapters.template_backend import execute
from forge_core.inference import JobInput
from forge_core.qa import qa_report
from forge_core.render_request import RenderRequest
from forge_core.services.retriever import Retriever

QUAD = "a 5-inch quad frame for a 20x20 stack and 2306 motors"


def distances(points: list[tuple[float, float]]) -> list[float]:
    return sorted(round(math.dist(a, b), 3) for i, a in enumerate(points) for b in points[i + 1 :])


async def render(scad: str, engine: str) -> bytes:
    if engine == "openscad":
        return (await OpenSCADRenderer().render(RenderRequest(scad))).mesh
    renderer = ManifoldRenderer()
    renderer.start()
    try:
        return (await renderer.render(RenderRequest(scad))).mesh
    finally:
        renderer.close()


async def run(text: str, engine: str) -> None:
    requirements, hits = await Retriever(MemoryCatalog()).for_request(None, text, None)
    print(f"request: {text!r}")
    for hit in hits:
        print(f"  retrieved {hit.component.id}: {hit.why}")
    output = execute(JobInput.create("generate_scad", text, requirements_json=requirements))
    print(f"  template parameters: {output['parameters']}")
    facts = await TrimeshKit().inspect(await render(output["scad_code"], engine))
    print(f"  rendered by {engine}")
    by_size: dict[float, list[tuple[float, float]]] = defaultdict(list)
    for x, y, d in facts.holes:
        by_size[round(d, 1)].append((x, y))
    print(f"  mesh: {facts.triangles} triangles, {len(facts.holes)} round holes")
    for size, points in sorted(by_size.items()):
        print(f"    {len(points)} holes of {size} mm")
    stack = by_size.get(2.2, [])
    if len(stack) == 4:
        print(f"  stack holes (2.2 mm): sides {distances(stack)[:4]} mm")
    motor = by_size.get(3.2, [])
    opposite = sorted({d for d in distances(motor) if 15 < d < 17})
    print(f"  motor holes (3.2 mm): opposite-hole distances near 16 mm: {opposite}")
    for check in qa_report(facts, requirements=requirements).checks:
        if check.name.startswith("holes:"):
            print(f"  QA {check.name}: {'ok' if check.ok else 'WARN'} - {check.detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", default=QUAD)
    parser.add_argument("--renderer", choices=("manifold", "openscad"), default="manifold")
    args = parser.parse_args()
    asyncio.run(run(args.text, args.renderer))


if __name__ == "__main__":
    main()
