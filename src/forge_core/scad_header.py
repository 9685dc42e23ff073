"""What a SCAD parser reports of a model's header, and the port that reads it.

The header is the run of top-level statements before the first module or function
declaration: its assignments and comments, in source order. That is where OpenSCAD's
Customizer looks for parameters, and where ``forge_core.parameters`` reads them. Parsing
needs a library, so it is a port (``ScadParser``); the adapter is
``forge_adapters.scad_parser``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: A literal an assignment may hold: a number, a string, a boolean or a vector of numbers.
Literal = float | str | bool | tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ScadComment:
    """A comment: ``//`` text (``block`` False) or ``/* */`` text, without the markers.
    ``same_line`` is a comment after code on its line."""

    text: str
    line: int
    block: bool = False
    same_line: bool = False


@dataclass(frozen=True, slots=True)
class ScadAssignment:
    """``name = value;`` at top level. ``value`` is the literal, or None when the value
    is an expression; ``start``/``end`` are the offsets of the value's text in the
    source, and ``integer`` says a number was written without a fraction or exponent."""

    name: str
    value: Literal | None
    line: int
    start: int
    end: int
    integer: bool = False


ScadItem = ScadAssignment | ScadComment


@dataclass(frozen=True, slots=True)
class ScadHeader:
    """The header's items in source order, and the names assigned again at top level
    later in the file (OpenSCAD's last assignment wins, so those cannot be set by
    rewriting the first)."""

    items: tuple[ScadItem, ...]
    reassigned: frozenset[str] = frozenset()


class ScadParser(Protocol):
    """Reads SCAD source with a real parser."""

    def header(self, source: str) -> ScadHeader:
        """The source's header (see the module docstring). Raises InvalidInput naming
        ``scad_code`` with the line and column when the source does not parse.
        Synchronous (pure CPU) and safe to call from a thread."""
        ...
