"""A model's parameters, read from its SCAD header the way OpenSCAD's Customizer does,
and the rewrite that makes a variant.

Rules (docs/pipeline.md#parameters): a parameter is a top-level assignment in the
header (``scad_header``) whose value is a literal: a number, a string, a boolean or a
vector of numbers. Its annotation is the comment after it on its line: ``[min:max]``,
``[min:step:max]``, ``[max]`` (from 0), ``[a, b, c]`` or ``[a:Label, b:Label]`` (choices);
for a string, ``[n]`` is its longest length. The ``//`` comment on the line right above
is its description. ``/* [Group] */`` starts a group; ``/* [Hidden] */`` hides what
follows. A number or vector without a range gets one derived from its default
(``derived_range``). ``part`` (the pipeline's part selector) and ``$`` variables are not
parameters, nor a name assigned again later in the file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forge_core.errors import InvalidInput
from forge_core.parts import PART_VARIABLE
from forge_core.scad_header import Literal, ScadAssignment, ScadComment, ScadHeader

HIDDEN = "Hidden"
#: Vectors longer than this are data, not a parameter.
MAX_VECTOR = 16


@dataclass(frozen=True, slots=True)
class Option:
    value: float | str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    """One parameter, as ``GET /jobs/{id}/parameters`` shows it."""

    name: str
    value: Literal
    type: str  # number, string, boolean, vector
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple[Option, ...] | None = None
    max_length: int | None = None
    group: str | None = None
    description: str | None = None
    derived_range: bool = False
    start: int = 0
    end: int = 0


def parameters(header: ScadHeader) -> list[Parameter]:
    """The header's parameters, in source order (see the module docstring)."""
    found: list[Parameter] = []
    group: str | None = None
    above: ScadComment | None = None
    items = header.items
    for index, item in enumerate(items):
        if isinstance(item, ScadComment):
            if item.block and _group_name(item.text) is not None:
                group = _group_name(item.text)
            elif not item.block and not item.same_line:
                above = item
            continue
        if group != HIDDEN and _is_parameter(item, header):
            note = _note(items, index, item.line)
            description = above.text.strip() if above and above.line == item.line - 1 else None
            found.append(_parameter(item, note, group, description or None))
        above = None
    return found


def _is_parameter(item: ScadAssignment, header: ScadHeader) -> bool:
    if item.value is None or item.name == PART_VARIABLE or item.name.startswith("$"):
        return False
    if isinstance(item.value, tuple) and not 1 <= len(item.value) <= MAX_VECTOR:
        return False
    return item.name not in header.reassigned


def _group_name(text: str) -> str | None:
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]") and len(inner) > 2:
        return inner[1:-1].strip()
    return None


def _note(items: tuple[Any, ...], index: int, line: int) -> str | None:
    """The annotation: a ``//`` comment after the assignment on its line."""
    after = items[index + 1] if index + 1 < len(items) else None
    if isinstance(after, ScadComment) and after.same_line and after.line == line:
        inner = after.text.strip()
        if inner.startswith("[") and inner.endswith("]"):
            return inner[1:-1]
    return None


def _parameter(
    item: ScadAssignment, note: str | None, group: str | None, description: str | None
) -> Parameter:
    value = item.value
    assert value is not None
    common: dict[str, Any] = {
        "name": item.name, "value": value, "group": group, "description": description,
        "start": item.start, "end": item.end,
    }  # fmt: skip
    if isinstance(value, bool):
        return Parameter(type="boolean", **common)
    if isinstance(value, str):
        return _string(note, common)
    kind = "vector" if isinstance(value, tuple) else "number"
    declared = _annotation(note, numeric=True)
    if isinstance(declared, tuple) and kind == "number":
        return Parameter(type=kind, options=declared, **common)
    if isinstance(declared, dict):
        return Parameter(type=kind, **declared, **common)
    return Parameter(type=kind, derived_range=True, **_derived(value, item.integer), **common)


def _string(note: str | None, common: dict[str, Any]) -> Parameter:
    declared = _annotation(note, numeric=False)
    if isinstance(declared, tuple):
        return Parameter(type="string", options=declared, **common)
    if isinstance(declared, dict) and declared.get("min") == 0 and declared.get("step") is None:
        return Parameter(type="string", max_length=int(declared["max"]), **common)
    return Parameter(type="string", **common)


def _annotation(note: str | None, numeric: bool) -> dict[str, Any] | tuple[Option, ...] | None:
    """A range as ``{min, max, step}``, choices as options, or None (no annotation, or
    one this reader does not know: the parameter then gets a derived range)."""
    if note is None or not note.strip():
        return None
    if "," in note or not _all_numbers(note.split(":")):
        return _options(note, numeric)
    parts = [float(p) for p in note.split(":")]
    if len(parts) == 1 and parts[0] > 0:
        return {"min": 0.0, "max": parts[0], "step": None}
    if len(parts) == 2 and parts[0] < parts[1]:
        return {"min": parts[0], "max": parts[1], "step": None}
    if len(parts) == 3 and parts[0] < parts[2] and parts[1] > 0:
        return {"min": parts[0], "max": parts[2], "step": parts[1]}
    return None


def _options(note: str, numeric: bool) -> tuple[Option, ...] | None:
    options: list[Option] = []
    for entry in note.split(","):
        raw, _, label = entry.partition(":")
        raw = raw.strip()
        if not raw:
            return None
        if numeric:
            if not _all_numbers([raw]):
                return None
            options.append(Option(float(raw), label.strip() or raw))
        else:
            options.append(Option(raw, label.strip() or raw))
    return tuple(options)


def _all_numbers(texts: list[str]) -> bool:
    for text in texts:
        try:
            if not math.isfinite(float(text)):
                return False
        except ValueError:
            return False
    return True


def _derived(value: float | tuple[float, ...], integer: bool) -> dict[str, Any]:
    """From 0 to four times the default (or symmetric about 0 for a negative one); a
    zero default gets -10..10. The step is a hint (1 for integers), not enforced."""
    values = value if isinstance(value, tuple) else (value,)
    top = max(abs(v) for v in values) * 4
    step = 1.0 if integer else None
    if top == 0:
        return {"min": -10.0, "max": 10.0, "step": step}
    return {"min": -top if any(v < 0 for v in values) else 0.0, "max": top, "step": step}


# -- variants ----------------------------------------------------------------------------


def check_values(found: list[Parameter], values: Mapping[str, Any]) -> dict[str, Literal]:
    """The requested values as literals, each checked against its parameter. Raises
    InvalidInput naming ``parameters.<name>`` for an unknown name, a wrong type or a
    value outside the declared range or choices."""
    if not values:
        raise InvalidInput("parameters", "name at least one parameter to change")
    known = {p.name: p for p in found}
    checked: dict[str, Literal] = {}
    for name, value in values.items():
        field = f"parameters.{name}"
        if name not in known:
            names = ", ".join(known) or "none"
            raise InvalidInput(field, f"no such parameter; this model has: {names}")
        checked[name] = _check(known[name], value, field)
    return checked


def _check(param: Parameter, value: Any, field: str) -> Literal:
    if param.type == "boolean":
        if not isinstance(value, bool):
            raise InvalidInput(field, "must be true or false")
        return value
    if param.type == "string":
        return _check_string(param, value, field)
    if param.type == "vector":
        assert isinstance(param.value, tuple)
        if not isinstance(value, list) or len(value) != len(param.value):
            raise InvalidInput(field, f"must be a list of {len(param.value)} numbers")
        return tuple(_check_number(param, item, field) for item in value)
    return _check_number(param, value, field)


def _check_string(param: Parameter, value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    if param.options is not None and value not in [o.value for o in param.options]:
        allowed = ", ".join(str(o.value) for o in param.options)
        raise InvalidInput(field, f"must be one of: {allowed}")
    if param.max_length is not None and len(value) > param.max_length:
        raise InvalidInput(field, f"must be at most {param.max_length} characters")
    return value


def _check_number(param: Parameter, value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(field, "must be a number")
    number = float(value)
    if param.options is not None:
        if number not in [o.value for o in param.options]:
            allowed = ", ".join(_format(o.value) for o in param.options)
            raise InvalidInput(field, f"must be one of: {allowed}")
        return number
    if param.derived_range or param.min is None or param.max is None:
        return number  # a derived range is a hint for sliders, not a rule
    if not param.min <= number <= param.max:
        span = f"{_format(param.min)} and {_format(param.max)}"
        raise InvalidInput(field, f"must be between {span}; got {_format(number)}")
    if param.step is not None and not _on_step(number, param.min, param.step):
        raise InvalidInput(
            field, f"must be {_format(param.min)} plus a multiple of {_format(param.step)}"
        )
    return number


def _on_step(value: float, low: float, step: float) -> bool:
    steps = (value - low) / step
    return abs(steps - round(steps)) < 1e-6


def rewrite(source: str, found: list[Parameter], values: Mapping[str, Literal]) -> str:
    """The source with each named parameter's value text replaced: only those
    assignments' values change, every other character stays as it was."""
    spans = sorted(((p.start, p.end, _format(values[p.name])) for p in found if p.name in values),
                   reverse=True)  # fmt: skip
    for start, end, text in spans:  # from the end, so earlier offsets stay valid
        source = source[:start] + text + source[end:]
    return source


def _format(value: Literal | float) -> str:
    """A literal in OpenSCAD syntax."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
