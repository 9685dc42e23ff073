"""Writes ``openscad-examples/reference.json``: what OpenSCAD makes of each example.

Run once with Debian's OpenSCAD (2021.01) installed, and commit the result; the
conformance test compares the Manifold renderer's output with it. Each example may read
the files beside it (its folder is its SCAD library). Slow: OpenSCAD's CGAL takes minutes
on some examples.

    python tests/corpus/make_reference.py [--timeout 600]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import anyio

from forge_adapters.mesh import TrimeshKit
from forge_adapters.openscad import OpenSCADRenderer, RenderLimits
from forge_core.errors import ForgeError
from forge_core.render_request import RenderRequest

CORPUS = Path(__file__).parent / "openscad-examples"
REFERENCE = CORPUS / "reference.json"


async def measure(source: str, folder: Path, seconds: float) -> dict[str, object]:
    renderer = OpenSCADRenderer(library=folder, limits=RenderLimits(timeout=seconds))
    try:
        result = await renderer.render(RenderRequest(source))
    except ForgeError as exc:
        return {"error": exc.detail}
    facts = await TrimeshKit().inspect(result.mesh)
    return {
        "volume_mm3": round(facts.volume, 3),
        "bbox_min": [round(v, 3) for v in facts.bbox_min],
        "bbox_max": [round(v, 3) for v in facts.bbox_max],
        "bodies": facts.bodies,
        "triangles": facts.triangles,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    version = subprocess.run(["openscad", "--version"], capture_output=True, text=True).stderr
    found: dict[str, object] = {"_made_with": version.strip()}
    for path in sorted(CORPUS.rglob("*.scad")):
        name = str(path.relative_to(CORPUS))
        source = path.read_text(encoding="utf-8")
        found[name] = anyio.run(measure, source, path.parent, args.timeout)
        print(name, found[name], flush=True)
    REFERENCE.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
