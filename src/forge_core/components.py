"""Standard components a design has to fit: screws, bearings, boards, motors...

A ``Component`` carries the published dimensions of one part (``dimensions_mm``), its
hole patterns, and the standard or datasheet they come from (``source``). Shipped parts
(``owner`` None) are read-only and seen by everyone; a user's own parts are seen by that
user only, like every other record. ``component_from_json`` is the one way a JSON object
(a shipped data line, an imported line, a stored row) becomes a component.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from forge_core.entities import JsonObject
from forge_core.errors import InvalidInput

#: What a component can be; a search may filter on it.
CATEGORIES = (
    "fc_stack",
    "motor",
    "propeller",
    "screw",
    "nut",
    "washer",
    "insert",
    "bearing",
    "servo",
    "stepper",
    "board",
    "battery",
    "connector",
    "extrusion",
    "mount",
    "other",
)
MAX_ALIASES = 30
# A character that is not whitespace, spelled out (Python's str.isspace): JavaScript's
# \s, and so the JSON Schema's, leaves out U+001C..U+001F and U+0085.
NOT_BLANK = r"[^\t-\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_NOT_BLANK = re.compile(NOT_BLANK)
MAX_HOLES = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Dimensions:
    """A part's published sizes in millimetres; what does not apply stays None."""

    length: float | None = None
    width: float | None = None
    height: float | None = None
    diameter: float | None = None
    inner_diameter: float | None = None
    outer_diameter: float | None = None
    thickness: float | None = None
    thread: float | None = None  # nominal thread diameter (M3 -> 3)
    pitch: float | None = None
    head_diameter: float | None = None
    head_height: float | None = None
    socket_size: float | None = None
    across_flats: float | None = None
    across_corners: float | None = None
    clearance_hole: float | None = None
    tap_drill: float | None = None
    shaft_diameter: float | None = None
    shaft_length: float | None = None
    pilot_diameter: float | None = None
    pilot_depth: float | None = None
    slot_width: float | None = None
    stator_diameter: float | None = None
    stator_height: float | None = None

    def to_json(self) -> JsonObject:
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


DIMENSION_NAMES = tuple(f.name for f in fields(Dimensions))


@dataclass(frozen=True, slots=True, kw_only=True)
class HolePattern:
    """Holes of one diameter, at ``positions`` (x, y) in mm around the pattern's centre.
    ``spacing`` is the rectangle's sides (x, y) for a rectangular pattern, else None."""

    name: str
    hole_diameter: float
    positions: tuple[tuple[float, float], ...]
    thread: str | None = None
    spacing: tuple[float, float] | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {
            "name": self.name,
            "hole_diameter": self.hole_diameter,
            "positions": [list(p) for p in self.positions],
        }
        if self.thread is not None:
            out["thread"] = self.thread
        if self.spacing is not None:
            out["spacing"] = list(self.spacing)
        return out

    def distances(self) -> list[float]:
        """Every distance between two holes, shortest first: what a mesh can be checked on."""
        points = self.positions
        return sorted(math.dist(a, b) for i, a in enumerate(points) for b in points[i + 1 :])


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    id: str
    owner: UUID | None = None
    name: str
    aliases: tuple[str, ...] = ()
    category: str
    dimensions_mm: Dimensions = field(default_factory=Dimensions)
    hole_patterns: tuple[HolePattern, ...] = ()
    notes: str = ""
    source: str
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def shipped(self) -> bool:
        return self.owner is None

    def to_json(self) -> JsonObject:
        """The component's own fields (no owner, no timestamps): a data line's shape."""
        return {
            "id": self.id,
            "name": self.name,
            "aliases": list(self.aliases),
            "category": self.category,
            "dimensions_mm": self.dimensions_mm.to_json(),
            "hole_patterns": [p.to_json() for p in self.hole_patterns],
            "notes": self.notes,
            "source": self.source,
        }

    def summary(self) -> JsonObject:
        """What a design request carries: name, id, dimensions, holes, source."""
        data = self.to_json()
        del data["aliases"], data["notes"]
        return data


@dataclass(frozen=True, slots=True)
class ComponentHit:
    """A component a search found: its score (higher is better), the search terms it
    matched, and why it was chosen, in words."""

    component: Component
    score: float
    matched: tuple[str, ...] = ()
    why: str = ""


def rectangle(spacing_x: float, spacing_y: float) -> tuple[tuple[float, float], ...]:
    """The four corners of a spacing_x by spacing_y rectangle around the origin."""
    x, y = spacing_x / 2, spacing_y / 2
    return ((-x, -y), (x, -y), (x, y), (-x, y))


def component_from_json(
    data: Mapping[str, Any], *, owner: UUID | None = None, id: str | None = None
) -> Component:
    """A component from its JSON shape. Raises InvalidInput naming the bad field."""
    known = {"id", "name", "aliases", "category", "dimensions_mm", "hole_patterns"}
    unknown = set(data) - known - {"notes", "source"}
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "is not a component field")
    missing = [k for k in ("name", "category", "source") if not data.get(k)]
    if missing:
        raise InvalidInput(missing[0], "is required")
    category = _text(data, "category", 40)
    if category not in CATEGORIES:
        raise InvalidInput("category", f"must be one of {', '.join(CATEGORIES)}")
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list) or len(aliases) > MAX_ALIASES:
        raise InvalidInput("aliases", f"must be a list of at most {MAX_ALIASES} strings")
    return Component(
        id=id if id is not None else _text(data, "id", 100),
        owner=owner,
        name=_text(data, "name", 200),
        aliases=tuple(_checked_str(a, "aliases", 200) for a in aliases),
        category=category,
        dimensions_mm=_dimensions(data.get("dimensions_mm") or {}),
        hole_patterns=_patterns(data.get("hole_patterns") or []),
        notes=_text(data, "notes", 2000, required=False),
        source=_text(data, "source", 500),
    )


def _text(data: Mapping[str, Any], key: str, limit: int, *, required: bool = True) -> str:
    value = data.get(key, "" if not required else None)
    return _checked_str(value, key, limit, required=required)


def _checked_str(value: Any, key: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not _NOT_BLANK.search(value)):
        raise InvalidInput(key, "must be a non-empty string" if required else "must be a string")
    if len(value) > limit or "\x00" in value:
        raise InvalidInput(key, f"must be at most {limit} characters, without NUL")
    return value.strip()


def _size(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(where, "must be a number of millimetres")
    if not 0 < value <= 10_000:
        raise InvalidInput(where, "must be above 0 and at most 10000 mm")
    return float(value)


def _dimensions(raw: Any) -> Dimensions:
    if not isinstance(raw, Mapping):
        raise InvalidInput("dimensions_mm", "must be an object")
    for key in raw:
        if key not in DIMENSION_NAMES:
            raise InvalidInput(f"dimensions_mm.{key}", "is not a known dimension")
    return Dimensions(**{k: _size(v, f"dimensions_mm.{k}") for k, v in raw.items()})


def _patterns(raw: Any) -> tuple[HolePattern, ...]:
    if not isinstance(raw, list) or len(raw) > 8:
        raise InvalidInput("hole_patterns", "must be a list of at most 8 patterns")
    return tuple(_pattern(item, f"hole_patterns[{i}]") for i, item in enumerate(raw))


def _pattern(raw: Any, where: str) -> HolePattern:
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "must be an object")
    spacing = raw.get("spacing")
    positions = raw.get("positions")
    if positions is None and isinstance(spacing, list | tuple) and len(spacing) == 2:
        positions = [list(p) for p in rectangle(*(_size(s, where) for s in spacing))]
    if not isinstance(positions, list | tuple) or not 1 <= len(positions) <= MAX_HOLES:
        raise InvalidInput(f"{where}.positions", f"must list 1 to {MAX_HOLES} [x, y] points")
    points = tuple(_point(p, f"{where}.positions") for p in positions)
    thread = raw.get("thread")
    return HolePattern(
        name=_text(raw, "name", 100, required=False) or "mounting",
        hole_diameter=_size(raw.get("hole_diameter"), f"{where}.hole_diameter"),
        positions=points,
        thread=None if thread is None else _checked_str(thread, f"{where}.thread", 20),
        spacing=None if spacing is None else _pair(spacing, f"{where}.spacing"),
    )


def _point(raw: Any, where: str) -> tuple[float, float]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) != 2:
        raise InvalidInput(where, "each position must be [x, y]")
    x, y = raw
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InvalidInput(where, "coordinates must be numbers")
        if abs(v) > 10_000:
            raise InvalidInput(where, "coordinates must be within 10000 mm")
    return (float(x), float(y))


def _pair(raw: Any, where: str) -> tuple[float, float]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise InvalidInput(where, "must be [x, y]")
    return (_size(raw[0], where), _size(raw[1], where))
