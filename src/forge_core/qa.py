"""Quality checks on a rendered mesh: what makes a model printable.

A hard failure (the mesh is not closed, not consistently wound, has no volume, or does
not fit the build volume) fails the job; a warning (a measure off the requirements) is
reported and the job still succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forge_core.ports import MeshFacts


@dataclass(frozen=True)
class QaReport:
    passed: bool
    failures: tuple[str, ...]
    warnings: tuple[str, ...]
    facts: MeshFacts
    build_volume: tuple[float, float, float]

    def to_json(self) -> dict[str, Any]:
        """The report as stored with the job (``Job.qa``)."""
        facts = self.facts
        size = [round(hi - lo, 3) for lo, hi in zip(facts.bbox_min, facts.bbox_max, strict=True)]
        return {
            "passed": self.passed,
            "failures": list(self.failures),
            "warnings": list(self.warnings),
            "watertight": facts.watertight,
            "winding_consistent": facts.winding_consistent,
            "volume_mm3": round(facts.volume, 3),
            "bodies": facts.bodies,
            "triangles": facts.triangles,
            "bbox_min": list(facts.bbox_min),
            "bbox_max": list(facts.bbox_max),
            "size_mm": size,
            "build_volume_mm": list(self.build_volume),
        }


def evaluate(
    facts: MeshFacts,
    build_volume: tuple[float, float, float],
    requirements: dict[str, Any] | None,
) -> QaReport:
    """Check ``facts`` against the hard rules. ``requirements`` may name dimensions to
    compare against; this version compares none."""
    failures: list[str] = []
    if not facts.watertight:
        failures.append("the mesh is not watertight")
    if not facts.winding_consistent:
        failures.append("the mesh's faces are not consistently wound")
    if facts.volume <= 0:
        failures.append("the mesh has no volume")
    size = [hi - lo for lo, hi in zip(facts.bbox_min, facts.bbox_max, strict=True)]
    if any(s > limit for s, limit in zip(sorted(size), sorted(build_volume), strict=True)):
        shown = "x".join(f"{s:.1f}" for s in size)
        room = "x".join(f"{v:g}" for v in build_volume)
        failures.append(f"the model ({shown} mm) does not fit the build volume ({room} mm)")
    return QaReport(not failures, tuple(failures), (), facts, build_volume)
