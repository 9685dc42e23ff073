"""Parametric OpenSCAD from requirements: one template file per model type.

Each template (``templates/*.scad``) declares its parameters at the top with OpenSCAD
Customizer annotations (ranges, groups, descriptions; the ranges are ``Param``'s
``low``/``high``); this module picks the template, fills the parameters from what the
requirements say (clamped to sizes the geometry stays valid for) and sets them in the
file, changing only those assignments.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from forge_adapters.scad_parser import LalrScadParser
from forge_adapters.template_backend.reading import Finding, Reading
from forge_core import parameters as scad_parameters
from forge_core.entities import JsonObject

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

    @property
    def what(self) -> str:
        return self.name.replace("_", " ")


@dataclass(frozen=True)
class Template:
    file: str
    title: str
    params: tuple[Param, ...]


TEMPLATES: dict[str, Template] = {
    "drone": Template("quadcopter_frame.scad", "Quadcopter frame", (
        Param("motor_to_motor", 160, ("motor_to_motor",), 80, 1000, "motor to motor, diagonal"),
        Param("arm_thickness", 3, ("arm_thickness", "thickness"), 1.5, 20,
              "plate and arm thickness"),
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
        # A retrieved board's holes (template_backend.components); 0: holes on a ring.
        Param("board_hole_spacing_x", 0, (), 0, 1000, "board holes, x apart (0: on a ring)"),
        Param("board_hole_spacing_y", 0, (), 0, 1000, "board holes, y apart"),
        Param("board_hole_offset_x", 0, (), -500, 500, "board holes' centre, x from the middle"),
        Param("board_hole_offset_y", 0, (), -500, 500, "board holes' centre, y from the middle"),
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
        Param("thickness", 4, ("thickness", "height"), 1, 50, "plate thickness"),
        Param("hole_diameter", 5, ("hole_diameter", "diameter"), 1, 50, "hole diameter"),
        Param("hole_count", 4, ("holes",), 0, 24, "holes, laid out in a grid", integer=True),
        Param("corner_radius", 3, (), 0.5, 3, "corner radius"),
    )),
}  # fmt: skip

MODEL_TYPES = tuple(TEMPLATES)


@dataclass
class Fit:
    """A template's parameters for a reading, and what became of every number: what
    it was read as, which values were clamped and why, which were ignored and why."""

    model_type: str
    values: dict[str, Any]
    read_as: list[JsonObject] = field(default_factory=list)
    clamped: list[JsonObject] = field(default_factory=list)
    ignored: list[JsonObject] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # parameter -> the words, or "default"

    def report(self) -> JsonObject:
        return {"read_as": self.read_as, "clamped": self.clamped, "ignored": self.ignored}


def fit(model_type: str, reading: Reading) -> Fit:
    """The template's parameters for what was read, kept to sizes that stay valid."""
    template = TEMPLATES[model_type]
    result = Fit(model_type, {})
    used: dict[tuple[bool, str], list[str]] = {}  # (count?, key) -> parameters it set
    for param in template.params:
        found = reading.counts if param.integer else reading.dimensions_mm
        key = next((k for k in param.sources if k in found), None)
        asked = float(found[key]) if key is not None else float(param.default)
        if key is not None:
            used.setdefault((param.integer, key), []).append(param.name)
        result.origins[param.name] = _origin(reading, param, key)
        kept = min(max(asked, param.low), param.high)
        if kept != asked:
            unit = "" if param.integer else " mm"
            why = f"the template keeps it between {param.low:g} and {param.high:g}{unit}"
            _clamped(result, param.name, asked, kept, why)
        result.values[param.name] = int(kept) if param.integer else float(kept)
    _limits(result)
    _account(result, template, reading, used)
    result.values = {k: _round(v) for k, v in result.values.items()}
    return result


def _round(value: Any) -> Any:
    return round(value, 2) if isinstance(value, float) else value


def parameters(model_type: str, reading: Reading) -> dict[str, Any]:
    """The template's parameter values alone (see ``fit``)."""
    return fit(model_type, reading).values


def _origin(reading: Reading, param: Param, key: str | None) -> str:
    if key is None:
        return "default"
    return next(
        (f.text for f in reversed(reading.findings) if f.key == key and f.count == param.integer),
        key,
    )


def _clamped(result: Fit, name: str, asked: float, used: float, why: str) -> None:
    result.clamped.append(
        {"parameter": name, "from": result.origins[name], "asked": round(asked, 2),
         "used": round(used, 2), "why": why}
    )  # fmt: skip


def _cap(result: Fit, name: str, bound: float, why: str) -> None:
    """Lower a value that the other sizes leave no room for."""
    if result.values[name] > bound:
        _clamped(result, name, result.values[name], bound, why)
        result.values[name] = bound


def _limits(result: Fit) -> None:
    """The limits one size sets on another, so the geometry stays valid."""
    values = result.values
    smallest = min(values.get("length", 1e9), values.get("width", 1e9))
    if result.model_type == "enclosure":
        _cap(result, "wall_thickness", smallest / 6, "at most a sixth of the smaller side")
        _cap(result, "hole_diameter", smallest / 6, "at most a sixth of the smaller side")
    elif result.model_type == "bracket":
        shortest = min(values["leg_a"], values["leg_b"])
        _cap(result, "thickness", shortest / 3, "at most a third of the shorter leg")
        room = min((shortest - values["thickness"]) / 3, values["width"] / 2)
        _cap(result, "hole_diameter", room, "the holes must fit between the fillet and the "
             "leg's end, and within half the width")  # fmt: skip
    elif result.model_type == "plate":
        _cap(result, "hole_diameter", smallest / 4, "at most a quarter of the smaller side")
        count = values.pop("hole_count")
        rows = 2 if count >= 4 and count % 2 == 0 else 1
        values["hole_rows"], values["hole_columns"] = (rows, count // rows) if count else (0, 0)


def _account(
    result: Fit, template: Template, reading: Reading, used: dict[tuple[bool, str], list[str]]
) -> None:
    """Say, for every number read, what it was read as, and why it was ignored if it was."""
    last = {(f.count, f.key): f for f in reading.findings}
    for finding in reading.findings:
        entry: JsonObject = {"text": finding.text, "read_as": finding.meaning}
        entry["count" if finding.count else "mm"] = finding.value
        setting = used.get((finding.count, finding.key))
        latest = last[(finding.count, finding.key)]
        if latest.value != finding.value:  # the same value said twice is not ignored
            why = f'a later "{latest.text}" replaced it'
        elif setting:
            entry["parameters"] = setting
            result.read_as.append(entry)
            continue
        else:
            why = _unused(template, finding)
        result.read_as.append(entry)
        result.ignored.append({"text": finding.text, "why": why})
    for words in reading.unread:
        why = "not a size or count the template backend reads; a size needs a unit"
        result.ignored.append({"text": words, "why": why})


def _unused(template: Template, finding: Finding) -> str:
    """Why a number the template could take was not taken, or that it could not."""
    for param in template.params:
        if finding.key in param.sources and param.integer == finding.count:
            return f"{param.what} was taken from another size given"
    return f"the {template.title.lower()} template has no {finding.meaning}"


def summary(result: Fit, lead: str = "Read") -> str:
    """What the numbers set, then what was clamped and ignored: two sentences."""
    groups: dict[str, list[str]] = {}
    for entry in result.read_as:
        for name in entry.get("parameters", []):
            shown = f"{entry['count']}" if "count" in entry else f"{entry['mm']:g} mm"
            groups.setdefault(str(entry["text"]), []).append(f"{name.replace('_', ' ')} {shown}")
    said = [f'"{text}" as {", ".join(meanings)}' for text, meanings in groups.items()]
    first = f"{lead} " + ("; ".join(said) if said else "no sizes or counts; defaults are used")
    counts = {p.name for p in TEMPLATES[result.model_type].params if p.integer}
    notes = [
        f"{c['parameter'].replace('_', ' ')}{' (default)' if c['from'] == 'default' else ''} "
        f"{c['asked']:g} -> {c['used']:g}{'' if c['parameter'] in counts else ' mm'} ({c['why']})"
        for c in result.clamped
    ]
    notes = (["clamped " + "; ".join(notes)] if notes else []) + [
        f'ignored "{i["text"]}" ({i["why"]})' for i in result.ignored
    ]
    if not notes:
        return first + "."
    second = "; ".join(notes)
    return f"{first}. {second[0].upper()}{second[1:]}."


def write(model_type: str, values: dict[str, Any], note: str = "") -> str:
    """The OpenSCAD file: the template with its annotated parameters set to ``values``
    (only those assignments change), under a header that says how it was made."""
    template = TEMPLATES[model_type]
    body = files(__package__).joinpath("templates").joinpath(template.file).read_text("utf-8")
    found = _parameters(template.file, body)
    unknown = set(values) - {p.name for p in found}
    if unknown:  # a template and its table disagree: a bug here, not bad input
        raise ValueError(f"{template.file} declares no parameter {sorted(unknown)}")
    lines = [
        f"// {template.title}, written by Forge's template backend:",
        "// deterministic templating, not AI. Sizes are millimetres; change the",
        "// parameters below (OpenSCAD's Customizer shows them) to resize the part.",
    ]
    lines += [f"// {line}" for line in textwrap.wrap(" ".join(note.split()), 86)]
    lines += ["", ""]
    return "\n".join(lines) + scad_parameters.rewrite(body, found, values)


@cache
def _parameters(file: str, body: str) -> list[scad_parameters.Parameter]:
    """A template's parameters, read once (the files ship with the package)."""
    return scad_parameters.parameters(LalrScadParser().header(body))
