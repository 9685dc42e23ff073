"""Quality checks on a rendered model: is it printable, and is it what was asked for?

``qa_report(facts, build_volume, requirements)`` turns a mesh's measures
(``ports.MeshFacts``) into a report of named checks. Hard checks decide whether the job
succeeds: the mesh is not empty, encloses a volume, is watertight and consistently wound
(a 2-manifold), and fits the printer's build volume. Soft checks only warn: each size the
requirements give (``requirements_json["dimensions_mm"]``) against the model's measure of
it, within ``max(5 %, 2 mm)`` (10 % for the estimated motor-to-motor distance), and
each retrieved part's hole pattern (``requirements_json["components"]``) against the
round holes measured on the mesh (``qa_holes``). The renderer's own warnings (a module or
variable the SCAD names but never defines, say, which the render skips) are soft checks
too: the model rendered, but perhaps not all of what its SCAD asks for.

Which measure answers which requirement key is the explicit table ``MEASURES`` below;
keys not in it are not checked. Sizes follow the axis convention of the templates:
length along x, width along y, height (and a flat part's thickness) along z, measured on
the main body (the body with the largest volume, so a lid printed beside its box is left
out). See docs/pipeline.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from forge_core.errors import InvalidInput
from forge_core.ports import MeshFacts
from forge_core.qa_holes import hole_pattern_checks

Size = tuple[float, float, float]

DEFAULT_BUILD_VOLUME: Size = (256.0, 256.0, 256.0)
RELATIVE_TOLERANCE = 0.05
ABSOLUTE_TOLERANCE_MM = 2.0
#: A motor mount's width across (a 16 mm bolt pattern plus its holes and rim): the
#: frame's reach is half the motor-to-motor distance plus half a mount.
MOTOR_MOUNT_MM = 25.0
#: The renderer's warnings shown one check each; any beyond are counted in one more.
MAX_RENDER_WARNINGS = 10


@dataclass(frozen=True, slots=True)
class Measure:
    """How one requirement key is measured on the model."""

    what: str
    of: Callable[[MeshFacts], float]
    relative: float = RELATIVE_TOLERANCE

    def tolerance(self, wanted: float) -> float:
        return max(wanted * self.relative, ABSOLUTE_TOLERANCE_MM)


def _main_body(facts: MeshFacts) -> Size:
    if facts.main_body_size is not None:
        return facts.main_body_size
    low, high = facts.bbox_min, facts.bbox_max
    return (high[0] - low[0], high[1] - low[1], high[2] - low[2])


X = Measure("x size of the main body", lambda f: _main_body(f)[0])
Y = Measure("y size of the main body", lambda f: _main_body(f)[1])
Z = Measure("z size of the main body", lambda f: _main_body(f)[2])
MOTOR_TO_MOTOR = Measure(
    f"twice the horizontal reach from the centre of mass, less a {MOTOR_MOUNT_MM:g} mm motor mount",
    lambda f: 2 * f.reach_xy - MOTOR_MOUNT_MM,
    relative=0.10,
)
_BOX = {"length": X, "width": Y, "height": Z}

#: Requirement key -> measure, by kind of model; "other" serves every other kind.
MEASURES: dict[str, dict[str, Measure]] = {
    # a frame's "width" is an arm's; its arms are as thick as its plate
    "drone": {"motor_to_motor": MOTOR_TO_MOTOR, "thickness": Z, "arm_thickness": Z},
    "plate": {**_BOX, "thickness": Z},
    "bracket": {**_BOX, "leg_length": X},
    "other": _BOX,  # an enclosure's or a bracket's "thickness" is a wall's: not measured
}
#: Words of ``requirements_json["model_type"]`` that name a kind in MEASURES.
KIND_WORDS = (
    ("drone", ("drone", "quad", "copter", "multirotor", "fpv")),
    ("plate", ("plate", "panel")),
    ("bracket", ("bracket",)),
)


@dataclass(frozen=True, slots=True)
class Check:
    """One check: ``hard`` ones fail the job, soft ones (``hard=False``) only warn."""

    name: str
    ok: bool
    detail: str
    hard: bool = True


@dataclass(frozen=True, slots=True)
class QAReport:
    checks: tuple[Check, ...]
    triangles: int
    bodies: int
    size_mm: Size
    volume_mm3: float
    build_volume_mm: Size

    @property
    def passed(self) -> bool:
        """No hard check failed (warnings may remain)."""
        return not self.failures

    @property
    def failures(self) -> tuple[str, ...]:
        return tuple(c.detail for c in self.checks if c.hard and not c.ok)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(c.detail for c in self.checks if not c.hard and not c.ok)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready values (what a job's ``qa`` holds)."""
        return {
            "passed": self.passed,
            "failures": list(self.failures),
            "warnings": list(self.warnings),
            "checks": [
                {"name": c.name, "ok": c.ok, "hard": c.hard, "detail": c.detail}
                for c in self.checks
            ],
            "triangles": self.triangles,
            "bodies": self.bodies,
            "size_mm": list(self.size_mm),
            "volume_mm3": self.volume_mm3,
            "build_volume_mm": list(self.build_volume_mm),
        }


def qa_report(
    facts: MeshFacts,
    build_volume: Size = DEFAULT_BUILD_VOLUME,
    requirements: Mapping[str, Any] | None = None,
    render_warnings: Sequence[str] = (),
) -> QAReport:
    """Check the mesh's facts against printability and the requirements' sizes, and
    carry the renderer's warnings as soft checks."""
    low, high = facts.bbox_min, facts.bbox_max
    size = (_r(high[0] - low[0]), _r(high[1] - low[1]), _r(high[2] - low[2]))
    checks = [*_solid_checks(facts), _fits(size, build_volume)]
    if facts.triangles > 0:
        checks += _dimension_checks(facts, requirements or {})
        found = hole_pattern_checks(facts.holes, requirements or {})
        checks += [Check(name, ok, detail, hard=False) for name, ok, detail in found]
    checks += _render_checks(render_warnings)
    return QAReport(
        tuple(checks), facts.triangles, facts.bodies, size, _r(facts.volume), build_volume
    )


def _solid_checks(facts: MeshFacts) -> list[Check]:
    empty = facts.triangles == 0
    return [
        Check(
            "not_empty",
            not empty,
            "the mesh is empty" if empty else f"{facts.triangles} triangles",
        ),
        Check(
            "volume",
            facts.volume > 0,
            f"encloses {facts.volume:.1f} mm³"
            if facts.volume > 0
            else f"the mesh encloses no volume ({facts.volume:.1f} mm³)",
        ),
        Check(
            "watertight",
            facts.watertight,
            "closed: every edge joins exactly two faces"
            if facts.watertight
            else "not watertight: the mesh has holes or edges shared by more than two faces",
        ),
        Check(
            "winding",
            facts.winding_consistent,
            "faces consistently wound"
            if facts.winding_consistent
            else "faces inconsistently wound: the mesh is not a clean solid",
        ),
    ]


def _render_checks(warnings: Sequence[str]) -> list[Check]:
    shown = [Check("render", False, w, hard=False) for w in warnings[:MAX_RENDER_WARNINGS]]
    if len(warnings) > MAX_RENDER_WARNINGS:
        more = len(warnings) - MAX_RENDER_WARNINGS
        shown.append(Check("render", False, f"and {more} more renderer warnings", hard=False))
    return shown


def _fits(size: Size, volume: Size) -> Check:
    over = [axis for axis, s, v in zip("xyz", size, volume, strict=True) if s > v]
    shown = f"{_mm(size)} mm" + (" fits " if not over else " does not fit ")
    detail = f"{shown}the {_mm(volume)} mm build volume"
    if over:
        detail += f" (too large in {', '.join(over)})"
    return Check("build_volume", not over, detail)


def _dimension_checks(facts: MeshFacts, requirements: Mapping[str, Any]) -> list[Check]:
    measures = MEASURES[kind_of(requirements.get("model_type"))]
    asked = requirements.get("dimensions_mm")
    if not isinstance(asked, Mapping):
        return []
    checks = []
    for key, value in asked.items():
        measure = measures.get(key)
        if measure is None or not _positive_number(value):
            continue
        wanted, measured = float(value), _r(measure.of(facts))
        tolerance = measure.tolerance(wanted)
        ok = abs(measured - wanted) <= tolerance
        detail = (
            f"{key}: asked {wanted:g} mm, measured {measured:g} mm "
            f"({measure.what}; tolerance ±{tolerance:.3g} mm)"
        )
        checks.append(Check(f"dimension:{key}", ok, detail, hard=False))
    return checks


def kind_of(model_type: object) -> str:
    """The MEASURES kind a requirements' ``model_type`` names ("other" if none)."""
    words = str(model_type or "").lower()
    return next((kind for kind, names in KIND_WORDS if any(n in words for n in names)), "other")


def parse_build_volume(text: str) -> Size:
    """``"256x256x256"`` (millimetres) as a size; InvalidInput naming the setting."""
    parts = re.split(r"\s*[xX]\s*", text.strip())
    try:
        x, y, z = (float(p) for p in parts)
    except ValueError:
        x = y = z = math.nan  # three numbers not found: refused below
    if not all(math.isfinite(v) and v > 0 for v in (x, y, z)):
        raise InvalidInput(
            "FORGE_BUILD_VOLUME",
            f"expected three positive sizes in mm like 256x256x256, got {text!r}",
        )
    return (x, y, z)


def _positive_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _r(value: float) -> float:
    return round(float(value), 3)


def _mm(size: Size) -> str:
    return " x ".join(f"{v:g}" for v in size)
