"""What a renderer is asked to draw: SCAD source, typed top-level parameters, one part.

A parameter sets a top-level variable before the render, as OpenSCAD's ``-D`` does: its
value is a number, a string, a boolean or a vector of them (nested at most two deep),
written as a SCAD literal by ``scad_literal``. Names are identifiers; strings are plain
text. Each renderer turns the request into its own form (``-D`` arguments, an edited
syntax tree); what a valid request is lives here, so every engine refuses the same ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from forge_core.errors import InvalidInput
from forge_core.parts import PART_VARIABLE

ParameterValue: TypeAlias = "bool | int | float | str | tuple[ParameterValue, ...]"

MAX_PARAMETERS = 64
MAX_STRING = 200
MAX_VECTOR = 64
MAX_DEPTH = 2
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """Render ``source``; ``parameters`` override top-level variables; ``part`` names one
    part to draw alone (see ``forge_core.parts``), None for the whole model. Raises
    InvalidInput (field ``parameters``) for a name or value outside the rules above."""

    source: str
    parameters: Mapping[str, ParameterValue] = field(default_factory=dict)
    part: str | None = None

    def __post_init__(self) -> None:
        if len(self.parameters) > MAX_PARAMETERS:
            raise InvalidInput("parameters", f"at most {MAX_PARAMETERS} may be set")
        clean: dict[str, ParameterValue] = {}
        for name, value in self.parameters.items():
            if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
                raise InvalidInput("parameters", f"{name!r} is not a variable name")
            clean[name] = _checked(name, value, 0)
        if self.part is not None and not _IDENTIFIER.fullmatch(self.part):
            raise InvalidInput("part", f"{self.part!r} is not a part name")
        object.__setattr__(self, "parameters", MappingProxyType(clean))

    def assignments(self) -> dict[str, str]:
        """Every variable to set, as SCAD literals: the parameters, then the part."""
        values = {name: scad_literal(value) for name, value in self.parameters.items()}
        if self.part is not None:
            values[PART_VARIABLE] = scad_literal(self.part)
        return values


def scad_literal(value: ParameterValue) -> str:
    """``value`` as OpenSCAD source: ``true``, ``12``, ``0.5``, ``"text"``, ``[1, 2]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "[" + ", ".join(scad_literal(item) for item in value) + "]"


def _checked(name: str, value: object, depth: int) -> ParameterValue:
    """``value`` if it follows the rules (a list becomes a tuple); InvalidInput if not."""

    def refuse(problem: str) -> InvalidInput:
        return InvalidInput("parameters", f"{name}: {problem}")

    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise refuse("a number must be finite")
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING or _CONTROL.search(value):
            raise refuse(f"a string must be plain text of at most {MAX_STRING} characters")
        return value
    if isinstance(value, tuple | list):
        if depth >= MAX_DEPTH or len(value) > MAX_VECTOR:
            raise refuse(f"a vector holds at most {MAX_VECTOR} items, nested {MAX_DEPTH} deep")
        return tuple(_checked(name, item, depth + 1) for item in value)
    raise refuse(f"{type(value).__name__} is not a number, string, boolean or vector")
