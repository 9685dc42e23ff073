"""Which parts a SCAD model names, so the pipeline can render each one alone.

The convention (docs/pipeline.md): a comment line ``// forge:parts plate, arms`` lists
the names, a top-level ``part = "all";`` says what to draw, and the model guards each
part with ``if (part == "all" || part == "arms") ...``. The pipeline renders the whole
model as written and each part with ``part`` set to its name (OpenSCAD's ``-D``).
SCAD without both the comment and the variable is one whole model, with no parts.
"""

from __future__ import annotations

import re

#: The top-level variable that selects a part, and its value for the whole model.
PART_VARIABLE = "part"
WHOLE = "all"
#: Each part is one more render; a model naming more is cut to the first ones.
MAX_PARTS = 12

_PARTS_LINE = re.compile(r"^[ \t]*//[ \t]*forge:parts[ \t]*:?(.*)$", re.MULTILINE)
_ASSIGNMENT = re.compile(rf"^[ \t]*{PART_VARIABLE}[ \t]*=", re.MULTILINE)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def part_names(scad: str) -> tuple[str, ...]:
    """The part names the SCAD declares, in order, without repeats; () for a model that
    names none. Names that are not identifiers (or are ``all``) are left out, since each
    becomes a ``-D`` value and an object key."""
    header = _PARTS_LINE.search(scad)
    if header is None or _ASSIGNMENT.search(scad) is None:
        return ()
    names: list[str] = []
    for raw in header.group(1).split(","):
        name = raw.strip()
        if _NAME.fullmatch(name) and name != WHOLE and name not in names:
            names.append(name)
    return tuple(names[:MAX_PARTS])
