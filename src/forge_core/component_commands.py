"""What a client may send to add or change one of its own catalog parts: the id, the
owner and the timestamps are the server's. The schema says every rule the catalog
checks (``components.component_from_json``), so a body it calls valid is accepted."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field

from forge_core.commands import Changes, Command, only_numbers
from forge_core.components import CATEGORIES, MAX_ALIASES, MAX_HOLES, NOT_BLANK

Category = Literal[
    "fc_stack", "motor", "propeller", "screw", "nut", "washer", "insert", "bearing",
    "servo", "stepper", "board", "battery", "connector", "extrusion", "mount", "other",
]  # fmt: skip
assert set(get_args(Category)) == set(CATEGORIES)  # one list, spelled twice for the schema

_TEXT = NOT_BLANK  # one character that is not blank
PartName = Annotated[str, Field(min_length=1, max_length=200, pattern=_TEXT)]
Source = Annotated[str, Field(min_length=1, max_length=500, pattern=_TEXT)]
Alias = Annotated[str, Field(min_length=1, max_length=200, pattern=_TEXT)]
Notes = Annotated[str, Field(max_length=2000)]
# only_numbers: pydantic would read true and false as 1.0 and 0.0.
Size = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False), BeforeValidator(only_numbers)]
Coordinate = Annotated[
    float, Field(ge=-10_000, le=10_000, allow_inf_nan=False), BeforeValidator(only_numbers)
]


class DimensionsIn(Command):
    length: Size | None = None
    width: Size | None = None
    height: Size | None = None
    diameter: Size | None = None
    inner_diameter: Size | None = None
    outer_diameter: Size | None = None
    thickness: Size | None = None
    thread: Size | None = None
    pitch: Size | None = None
    head_diameter: Size | None = None
    head_height: Size | None = None
    socket_size: Size | None = None
    across_flats: Size | None = None
    across_corners: Size | None = None
    clearance_hole: Size | None = None
    tap_drill: Size | None = None
    shaft_diameter: Size | None = None
    shaft_length: Size | None = None
    pilot_diameter: Size | None = None
    pilot_depth: Size | None = None
    slot_width: Size | None = None
    stator_diameter: Size | None = None
    stator_height: Size | None = None


class HolePatternIn(Command):
    """Holes of one diameter at ``positions`` [x, y] around the part's centre."""

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=_TEXT)] = "mounting"
    hole_diameter: Size
    positions: Annotated[
        list[tuple[Coordinate, Coordinate]], Field(min_length=1, max_length=MAX_HOLES)
    ]
    thread: Annotated[str, Field(min_length=1, max_length=20, pattern=_TEXT)] | None = None
    spacing: tuple[Size, Size] | None = None


Aliases = Annotated[list[Alias], Field(max_length=MAX_ALIASES)]
Patterns = Annotated[list[HolePatternIn], Field(max_length=8)]


class NewComponent(Command):
    name: PartName
    category: Category
    source: Source
    aliases: Aliases = Field(default_factory=list)
    dimensions_mm: DimensionsIn = Field(default_factory=DimensionsIn)
    hole_patterns: Patterns = Field(default_factory=list)
    notes: Notes = ""

    def as_json(self) -> dict[str, Any]:
        """The component's JSON shape (``component_from_json`` reads it)."""
        return self.model_dump(exclude_none=True)


class ComponentChanges(Changes):
    """A partial update: only the fields sent are applied; none may be null."""

    name: PartName | None = None
    category: Category | None = None
    source: Source | None = None
    aliases: Aliases | None = None
    dimensions_mm: DimensionsIn | None = None
    hole_patterns: Patterns | None = None
    notes: Notes | None = None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=True)
