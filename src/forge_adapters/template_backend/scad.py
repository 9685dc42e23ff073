"""Parametric OpenSCAD from requirements: one template file per model type.

Each template (``templates/*.scad``) declares its parameters at the top with OpenSCAD
Customizer annotations (ranges, groups, descriptions; the ranges are ``Param``'s
``low``/``high``); this module picks the template, fills the parameters from what the
requirements say (clamped to sizes the geometry stays valid for) and sets them in the
file, changing only those assignments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from forge_adapters.scad_parser import LalrScadParser
from forge_adapters.template_backend.reading import Reading
from forge_core import parameters as scad_parameters

FN = 48  # circle smoothness in the written files; renderers may pass a smaller $fn


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    sources: tuple[str, ...]  # keys of the reading's dimensions_mm (or counts, if integer)
    low: float
    high: float
    note: str
    integer: bool = False

    def pick(self, reading: Reading) -> float:
        found = reading.counts if self.integer else reading.dimensions_mm
        value = next((found[key] for key in self.sources if key in found), self.default)
        value = min(max(value, self.low), self.high)
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class Template:
    file: str
    title: str
    params: tuple[Param, ...]


TEMPLATES: dict[str, Template] = {
    "drone": Template("quadcopter_frame.scad", "Quadcopter frame", (
        Param("motor_to_motor", 160, ("motor_to_motor",), 80, 1000, "motor to motor, diagonal"),
        Param("arm_thickness", 3, ("thickness",), 1.5, 20, "plate and arm thickness"),
        Param("arm_width", 12, ("arm_width", "width"), 5, 60, "arm width"),
        Param("arm_count", 4, ("arms", "motors", "propellers"), 3, 8, "arms", integer=True),
        Param("stack_spacing", 30.5, ("stack",), 16, 45, "flight-controller stack hole spacing"),
        Param("stack_hole_diameter", 3.2, (), 2, 4.5, "stack hole diameter"),
        Param("motor_bolt_spacing", 16, ("motor_mount",), 9, 30, "motor bolt pattern"),
        Param("motor_hole_diameter", 3.2, ("hole_diameter",), 1.5, 4.5, "motor bolt hole diameter"),
    )),
    "enclosure": Template("enclosure_box.scad", "Enclosure box", (
        Param("length", 100, ("length",), 20, 1000, "outside length"),
        Param("width", 60, ("width",), 20, 1000, "outside width"),
        Param("height", 40, ("height", "depth"), 10, 1000, "outside height, without the lid"),
        Param("wall_thickness", 2, ("wall_thickness", "thickness"), 0.8, 10, "wall and floor"),
        Param("corner_radius", 3, (), 1, 3, "outside corner radius"),
        Param("hole_count", 4, ("holes",), 0, 8, "mounting holes in the floor", integer=True),
        Param("hole_diameter", 3.2, ("hole_diameter",), 1.5, 10, "mounting hole diameter"),
    )),
    "bracket": Template("l_bracket.scad", "L bracket", (
        Param("leg_a", 50, ("leg_length", "length"), 15, 500, "horizontal leg length"),
        Param("leg_b", 50, ("height", "leg_length"), 15, 500, "vertical leg height"),
        Param("width", 30, ("width",), 8, 500, "bracket width"),
        Param("thickness", 5, ("thickness",), 2, 30, "leg thickness (also the inside fillet)"),
        Param("hole_diameter", 5, ("hole_diameter",), 2, 20, "screw hole diameter"),
        Param("holes_per_leg", 2, ("holes",), 0, 6, "screw holes in each leg", integer=True),
    )),
    "plate": Template("plate_with_holes.scad", "Plate with holes", (
        Param("length", 120, ("length",), 10, 1000, "plate length"),
        Param("width", 80, ("width",), 10, 1000, "plate width"),
        Param("thickness", 4, ("thickness",), 1, 50, "plate thickness"),
        Param("hole_diameter", 5, ("hole_diameter", "diameter"), 1, 50, "hole diameter"),
        Param("hole_count", 4, ("holes",), 0, 24, "holes, laid out in a grid", integer=True),
        Param("corner_radius", 3, (), 0.5, 3, "corner radius"),
    )),
    "custom": Template("labelled_solid.scad", "Labelled solid", (
        Param("length", 60, ("length",), 20, 1000, "block length"),
        Param("width", 40, ("width",), 10, 1000, "block width"),
        Param("height", 20, ("height", "thickness"), 2, 1000, "block height"),
    )),
}  # fmt: skip

MODEL_TYPES = tuple(TEMPLATES)


def parameters(model_type: str, reading: Reading) -> dict[str, Any]:
    """The template's parameters for what was read, kept to sizes that stay valid."""
    template = TEMPLATES[model_type]
    values: dict[str, Any] = {p.name: p.pick(reading) for p in template.params}
    smallest = min(values.get("length", 1e9), values.get("width", 1e9))
    if model_type == "enclosure":
        values["wall_thickness"] = min(values["wall_thickness"], smallest / 6)
        values["hole_diameter"] = min(values["hole_diameter"], smallest / 6)
    elif model_type == "bracket":
        shortest = min(values["leg_a"], values["leg_b"])
        values["thickness"] = min(values["thickness"], shortest / 3)
        room = (shortest - values["thickness"]) / 3
        values["hole_diameter"] = min(values["hole_diameter"], room, values["width"] / 2)
    elif model_type == "plate":
        values["hole_diameter"] = min(values["hole_diameter"], smallest / 4)
        count = values.pop("hole_count")
        rows = 2 if count >= 4 and count % 2 == 0 else 1
        values["hole_rows"], values["hole_columns"] = (rows, count // rows) if count else (0, 0)
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in values.items()}


def write(model_type: str, values: dict[str, Any], label: str = "") -> str:
    """The OpenSCAD file: the template with its annotated parameters set to ``values``
    (only those assignments change), under a header that says how it was made."""
    template = TEMPLATES[model_type]
    if model_type == "custom":
        values = {**values, "label": safe_label(label)}
    body = files(__package__).joinpath("templates").joinpath(template.file).read_text("utf-8")
    found = _parameters(template.file, body)
    unknown = set(values) - {p.name for p in found}
    if unknown:  # a template and its table disagree: a bug here, not bad input
        raise ValueError(f"{template.file} declares no parameter {sorted(unknown)}")
    lines = [
        f"// {template.title}, written by Forge's template backend:",
        "// deterministic templating, not AI. Sizes are millimetres; change the",
        "// parameters below (OpenSCAD's Customizer shows them) to resize the part.",
        "",
        "",
    ]
    return "\n".join(lines) + scad_parameters.rewrite(body, found, values)


@cache
def _parameters(file: str, body: str) -> list[scad_parameters.Parameter]:
    """A template's parameters, read once (the files ship with the package)."""
    return scad_parameters.parameters(LalrScadParser().header(body))


def safe_label(text: str) -> str:
    """Short text that is safe inside an OpenSCAD string literal."""
    cleaned = re.sub(r"[^A-Za-z0-9 .,_-]", "", text).strip()
    return (cleaned[:20].strip() or "PART").upper()
