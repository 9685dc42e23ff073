"""Which font ``text()`` gets on the Manifold renderer, and a warning when it is not the
one the model asked for.

openscad-evaluator ships four Liberation Sans faces (Regular, Bold, Italic, Bold Italic)
and finds any other font with ``fc-match``, a new process, which the worker's guard
refuses; it then falls back to Liberation Sans Regular without a word. A part would come
out with other letters than its SCAD names, and say nothing. ``font_fallbacks`` wraps
the evaluator's one font resolver (``_resolve_font``, which ``text()``, ``textmetrics()``
and ``fontmetrics()`` call) for the length of a render, and collects each font it asked
for and did not get, so the render can warn. The resolver is the evaluator's own, not
its public API: should a release rename it, renders go on as before, without the warning
(``test_a_font_it_cannot_give_text_is_a_warning`` then fails).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from openscad_evaluator import evaluator

AVAILABLE = "Liberation Sans (Regular, Bold, Italic, Bold Italic)"


def asks_for_the_default(spec: str) -> bool:
    """The spec names Liberation Sans Regular (or nothing), as the evaluator reads it."""
    family, _, rest = spec.partition(":")
    styles = [
        kv.partition("=")[2] for kv in rest.split(":") if kv.strip().lower().startswith("style=")
    ]
    style = styles[0].strip().lower() if styles else ""
    return family.strip() in ("", "Liberation Sans") and style in ("", "regular")


@contextlib.contextmanager
def font_fallbacks() -> Iterator[list[str]]:
    """Within the block, every font spec that resolved to the fallback face although it
    asked for another, once each, in the order the model used them."""
    original = getattr(evaluator, "_resolve_font", None)
    default = getattr(evaluator, "_load_default_font", None)
    missed: list[str] = []
    if original is None or default is None:
        yield missed
        return
    fallback = default()

    def resolve(spec: str) -> Any:
        tables = original(spec)
        if tables is fallback and not asks_for_the_default(spec) and spec not in missed:
            missed.append(spec)
        return tables

    evaluator._resolve_font = resolve
    try:
        yield missed
    finally:
        evaluator._resolve_font = original


def fallback_warning(spec: str) -> str:
    return (
        f'WARNING: text(): font "{spec}" is not available here; the letters are '
        f"Liberation Sans Regular (the fonts here: {AVAILABLE})"
    )
