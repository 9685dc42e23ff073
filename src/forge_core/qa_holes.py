"""Does the model have the holes of the parts it was made for? For each retrieved part
(``requirements_json.components``) with a hole pattern, look among the mesh's round
holes (``MeshFacts.holes``, measured on the mesh) for that pattern: holes of the
pattern's diameter, placed as the pattern places them, turned and moved anywhere
(mirrored too). A soft check: a model may fit a part another way, so a missing pattern
warns and does not fail the job."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: How far a hole may be from where the pattern puts it, and how far off its diameter.
POSITION_TOLERANCE_MM = 0.3
DIAMETER_TOLERANCE_MM = 0.4

Point = tuple[float, float]


def hole_pattern_checks(
    holes: Sequence[tuple[float, float, float]], requirements: Mapping[str, Any]
) -> list[tuple[str, bool, str]]:
    """(name, ok, detail) for each pattern of each retrieved part."""
    parts = requirements.get("components")
    if not isinstance(parts, list):
        return []
    checks = []
    for part in parts:
        if not isinstance(part, Mapping):
            continue
        for pattern in part.get("hole_patterns") or []:
            found = _pattern_check(holes, part, pattern)
            if found is not None:
                checks.append(found)
    return checks


def _pattern_check(
    holes: Sequence[tuple[float, float, float]], part: Mapping[str, Any], pattern: Any
) -> tuple[str, bool, str] | None:
    try:
        diameter = float(pattern["hole_diameter"])
        points = [(float(x), float(y)) for x, y in pattern["positions"]]
    except (KeyError, TypeError, ValueError):
        return None
    if len(points) < 2:
        return None
    name = f"holes:{part.get('id', part.get('name', 'part'))}:{pattern.get('name', 'mounting')}"
    fitting = [(x, y) for x, y, d in holes if abs(d - diameter) <= DIAMETER_TOLERANCE_MM]
    where = _find(points, fitting)
    what = f"{len(points)} holes of {diameter:g} mm for {part.get('name', 'the part')}"
    if where is None:
        return name, False, f"{what}: not found on the mesh ({len(fitting)} holes of that size)"
    return name, True, f"{what}: found on the mesh, first at ({where[0]:g}, {where[1]:g}) mm"


def _find(pattern: Sequence[Point], holes: Sequence[Point]) -> Point | None:
    """Where the pattern's first hole lands, if some placement puts every pattern hole on
    a mesh hole; None if none does."""
    if len(holes) < len(pattern):
        return None
    p0, p1 = pattern[0], pattern[1]
    span = math.dist(p0, p1)
    for a in holes:
        for b in holes:
            if a is b or abs(math.dist(a, b) - span) > 2 * POSITION_TOLERANCE_MM:
                continue
            for mirror in (1.0, -1.0):
                if all(_near(_place(p, p0, p1, a, b, mirror), holes) for p in pattern[2:]):
                    return a
    return None


def _place(p: Point, p0: Point, p1: Point, a: Point, b: Point, mirror: float) -> Point:
    """Where ``p`` goes when ``p0`` goes to ``a`` and ``p1`` to ``b`` (rigid, maybe mirrored)."""
    turn = math.atan2(b[1] - a[1], b[0] - a[0]) - math.atan2(
        mirror * (p1[1] - p0[1]), p1[0] - p0[0]
    )
    dx, dy = p[0] - p0[0], mirror * (p[1] - p0[1])
    cos, sin = math.cos(turn), math.sin(turn)
    return (a[0] + dx * cos - dy * sin, a[1] + dx * sin + dy * cos)


def _near(point: Point, holes: Sequence[Point]) -> bool:
    return any(math.dist(point, h) <= POSITION_TOLERANCE_MM for h in holes)
