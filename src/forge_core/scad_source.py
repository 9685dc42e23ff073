"""Where a finished ``generate_scad`` run's SCAD is: the rule the pipeline starts from.

An object output's ``scad_code``, ``scad`` or ``code`` string is the source as given.
Otherwise the run's text (a string output, or an object's ``content``/``response``/...)
is used: the first fenced code block when it has one (```` ```openscad ````, ```` ```scad ````
or a bare fence), else the whole text when it reads as SCAD. Prose without code gives
None: nothing to render.
"""

from __future__ import annotations

import re
from typing import Any

SOURCE_KEYS = ("scad_code", "scad", "code")
TEXT_KEYS = ("content", "response", "text", "message")
_FENCE = re.compile(r"```[ \t]*(?:openscad|scad)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
#: Words that only SCAD source has at the start of a statement.
_SCAD_WORD = re.compile(
    r"^\s*(?:module|function|cube|cylinder|sphere|union|difference|intersection|"
    r"translate|rotate|scale|linear_extrude|rotate_extrude|hull|minkowski|polyhedron|"
    r"[A-Za-z_]\w*\s*=)\b",
    re.MULTILINE,
)


def scad_from_output(output: Any) -> str | None:
    """The SCAD source in a run's output, or None; see the module docstring."""
    if isinstance(output, dict):
        for key in SOURCE_KEYS:
            value = output.get(key)
            if isinstance(value, str) and value.strip():
                return value
        text = next((v for k in TEXT_KEYS if isinstance(v := output.get(k), str)), None)
        return scad_from_text(text) if text is not None else None
    if isinstance(output, str):
        return scad_from_text(output)
    return None


def scad_from_text(text: str) -> str | None:
    """The first fenced code block, else the whole text if it reads as SCAD, else None."""
    fenced = _FENCE.search(text)
    if fenced is not None:
        code = fenced.group(1).strip()
        return code + "\n" if code else None
    return text if _SCAD_WORD.search(text) else None
