"""Conformance: the Manifold renderer on OpenSCAD's own examples (CC0, vendored in
``tests/corpus/openscad-examples``) against what OpenSCAD 2021.01 made of them
(``reference.json``, written once by ``tests/corpus/make_reference.py``).

Every example either agrees (both refuse it, or volume within 1 % and bounding box
within 0.5 mm) or is listed, with its reason, in the known-differences table of
docs/pipeline.md; a listed example that has come to agree must leave the table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from forge_adapters.manifold import ManifoldLimits, ManifoldRenderer
from forge_adapters.mesh import TrimeshKit
from forge_core.errors import ForgeError
from forge_core.render_request import RenderRequest

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "tests" / "corpus" / "openscad-examples"
TABLE_HEADING = "### Known differences from OpenSCAD 2021.01"
_FILE = re.compile(r"`([^`]+\.scad)`")


def known_differences() -> set[str]:
    """The examples docs/pipeline.md lists as differing, from its table's first column."""
    text = (ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")
    section = text.split(TABLE_HEADING, 1)[1].split("\n#", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in _FILE.findall(row)}


def agrees(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    if "error" in theirs or "error" in mine:
        return "error" in theirs and "error" in mine
    volume = abs(mine["volume_mm3"] - theirs["volume_mm3"]) <= 0.01 * abs(theirs["volume_mm3"])
    corners = [*mine["bbox_min"], *mine["bbox_max"]]
    reference = [*theirs["bbox_min"], *theirs["bbox_max"]]
    return volume and all(abs(a - b) < 0.5 for a, b in zip(corners, reference, strict=True))


async def measured(renderer: ManifoldRenderer, source: str) -> dict[str, Any]:
    try:
        result = await renderer.render(RenderRequest(source))
    except ForgeError as exc:
        return {"error": exc.detail}
    facts = await TrimeshKit().inspect(result.mesh)
    return {"volume_mm3": facts.volume, "bbox_min": facts.bbox_min, "bbox_max": facts.bbox_max}


async def test_the_openscad_examples_agree_or_are_listed() -> None:
    reference = json.loads((CORPUS / "reference.json").read_text())
    listed = known_differences()
    agreeing, differing = [], []
    for folder in sorted({path.parent for path in CORPUS.rglob("*.scad")}):
        # Each example may read the files beside it, as it does in OpenSCAD's tree.
        renderer = ManifoldRenderer(library=folder, limits=ManifoldLimits(timeout=20))
        try:
            for path in sorted(folder.glob("*.scad")):
                name = str(path.relative_to(CORPUS))
                mine = await measured(renderer, path.read_text(encoding="utf-8"))
                (agreeing if agrees(mine, reference[name]) else differing).append(name)
        finally:
            renderer.close()
    print(f"\n{len(agreeing)} of {len(agreeing) + len(differing)} OpenSCAD examples agree")
    assert sorted(set(differing) - listed) == [], "differs, but is not in docs/pipeline.md"
    assert sorted(listed & set(agreeing)) == [], "agrees now: take it out of the table"
    assert len(agreeing) + len(differing) == len(reference) - 1  # all but "_made_with"
