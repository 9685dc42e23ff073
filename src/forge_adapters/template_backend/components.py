"""Sizes from retrieved standard parts (``requirements_json.components``): what the
templates take from a part's published dimensions instead of their defaults.

- a drone: the stack's hole spacing and hole size, the motors' bolt circle and hole
  size, and (when no motor-to-motor distance was given) a wheelbase that clears the
  propellers: adjacent motors of an X quad are motor_to_motor / sqrt(2) apart, which
  must exceed one propeller diameter plus 10 mm;
- an enclosure: the board's outline plus clearance (when no size was given) and its
  mounting holes, where they form a rectangle.

Sizes the user stated win over a part's: this only fills what the words left open. A
count read from the words that is a retrieved part's number ("2306 motors") is a name,
not a count, and goes back to the template's default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from forge_adapters.template_backend.scad import TEMPLATES

PROP_GAP_MM = 10.0
BOARD_CLEARANCE_MM = 2.0


def sized_by_components(
    model_type: str,
    values: dict[str, Any],
    requirements: Mapping[str, Any],
    stated: set[str],
    counts: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """``values`` (a template's parameters) with what the retrieved parts fix; ``stated``
    holds the dimension keys the user gave, ``counts`` the counts read from the words."""
    parts = [p for p in requirements.get("components") or [] if isinstance(p, Mapping)]
    out = _without_part_numbers(model_type, dict(values), parts, counts or {})
    for part in parts:
        category = part.get("category")
        if model_type == "drone":
            _drone(out, category, part, stated)
        elif model_type == "enclosure" and category == "board":
            _enclosure(out, part, stated)
    return out


def _without_part_numbers(
    model_type: str,
    values: dict[str, Any],
    parts: list[Mapping[str, Any]],
    counts: Mapping[str, int],
) -> dict[str, Any]:
    """ "2306 motors" names a motor size, not 2306 motors: a count read from the words
    that is a retrieved part's number goes back to the template's default."""
    names = " ".join(str(p.get("name", "")) for p in parts).split()
    for param in TEMPLATES[model_type].params:
        if param.integer and any(str(counts.get(key)) in names for key in param.sources):
            values[param.name] = int(param.default)
    return values


def _pattern(part: Mapping[str, Any]) -> Mapping[str, Any] | None:
    patterns = part.get("hole_patterns") or []
    return patterns[0] if patterns and isinstance(patterns[0], Mapping) else None


def _drone(out: dict[str, Any], category: Any, part: Mapping[str, Any], stated: set[str]) -> None:
    pattern = _pattern(part)
    if category == "fc_stack" and pattern and pattern.get("spacing"):
        out["stack_spacing"] = float(pattern["spacing"][0])
        out["stack_hole_diameter"] = float(pattern["hole_diameter"])
    elif category == "motor" and pattern and pattern.get("positions"):
        x, y = pattern["positions"][0]
        out["motor_bolt_spacing"] = round(2 * math.hypot(x, y), 2)
        out["motor_hole_diameter"] = float(pattern["hole_diameter"])
    elif category == "propeller" and "motor_to_motor" not in stated:
        diameter = (part.get("dimensions_mm") or {}).get("diameter")
        if diameter:
            out["motor_to_motor"] = math.ceil(math.sqrt(2) * (float(diameter) + PROP_GAP_MM))


def _enclosure(out: dict[str, Any], part: Mapping[str, Any], stated: set[str]) -> None:
    size = part.get("dimensions_mm") or {}
    wall = float(out["wall_thickness"])
    margin = 2 * (wall + BOARD_CLEARANCE_MM)
    if "length" not in stated and size.get("length"):
        out["length"] = round(float(size["length"]) + margin, 2)
    if "width" not in stated and size.get("width"):
        out["width"] = round(float(size["width"]) + margin, 2)
    pattern = _pattern(part)
    if pattern and pattern.get("spacing") and len(pattern.get("positions") or []) == 4:
        xs = [p[0] for p in pattern["positions"]]
        ys = [p[1] for p in pattern["positions"]]
        out["hole_count"] = 4
        out["hole_diameter"] = float(pattern["hole_diameter"])
        out["board_hole_spacing_x"], out["board_hole_spacing_y"] = map(float, pattern["spacing"])
        out["board_hole_offset_x"] = round((min(xs) + max(xs)) / 2, 2)
        out["board_hole_offset_y"] = round((min(ys) + max(ys)) / 2, 2)
