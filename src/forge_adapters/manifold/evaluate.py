"""One render inside a worker: SCAD source to binary STL with ``openscad-evaluator``.

The source is parsed from a file of its own in the worker's folder (so messages name a
line of it), the requested assignments replace the top-level ones of the same name in
the syntax tree (OpenSCAD's ``-D``: the value holds everywhere, no "overwritten"
warning), the tree is evaluated on Manifold and its 3D bodies are written as one STL.
Every outcome is a reply header for the server: a mesh, or a failure it can raise.
"""

from __future__ import annotations

import contextlib
import errno
import io
import itertools
import re
import time
from pathlib import Path
from typing import Any

from openscad_evaluator import EvalError, Evaluator, resolve_use_scopes
from openscad_evaluator.export import export_model
from openscad_lalr_parser import Assignment, clear_ast_cache, getASTfromFile, getASTfromString

from .fonts import fallback_warning, font_fallbacks

MAX_WARNINGS = 50
_SYNTAX = re.compile(r"Syntax error in .*? at line (\d+), column (\d+):\n?(.*)", re.DOTALL)
_LINE = re.compile(r"\bin line (\d+)")
_WARNINGS = ("WARNING", "DEPRECATED", "use error")
_counter = itertools.count(1)


class OutputFlood(BaseException):
    """``echo`` wrote more than the output limit (a BaseException: nothing swallows it)."""


class Messages:
    """What the model echoes and warns, counted against the output limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        self.size += len(message) + 1
        if self.size > self.limit:
            raise OutputFlood
        if len(self.lines) < MAX_WARNINGS * 4:
            self.lines.append(message)


def render(
    source: str, assignments: dict[str, str], folder: Path, output_bytes: int
) -> tuple[dict[str, Any], bytes]:
    """The reply header and the STL's bytes (empty for a failure)."""
    model = folder / f"model-{next(_counter)}.scad"
    model.write_text(source, encoding="utf-8")
    started = time.monotonic()
    messages = Messages(output_bytes)
    try:
        with font_fallbacks() as missed_fonts:  # filled while the model is evaluated
            return _render(model, assignments, messages, started, missed_fonts)
    except OutputFlood:
        return limit("output", f"the render printed over {output_bytes} bytes"), b""
    except MemoryError:
        return limit("memory", "the render ran out of memory"), b""
    except RecursionError:
        return failed("the model recurses too deeply"), b""
    except (TypeError, ValueError, ArithmeticError, AttributeError, IndexError, KeyError) as exc:
        # The evaluator's own bug on this model, not the model's: say so, keep the worker.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return failed(f"ERROR: the evaluator failed: {type(exc).__name__}: {first}"), b""
    except PermissionError as exc:  # the guard's refusal
        return failed(f"ERROR: {exc}"), b""
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            return limit("output", f"the output is over {output_bytes} bytes"), b""
        return failed(f"ERROR: a file could not be read: {exc.strerror}"), b""
    finally:
        model.unlink(missing_ok=True)
        (folder / "model.stl").unlink(missing_ok=True)
        clear_ast_cache()  # each render's file is new; nothing to keep


def _render(
    model: Path,
    assignments: dict[str, str],
    messages: Messages,
    started: float,
    missed_fonts: list[str],
) -> tuple[dict[str, Any], bytes]:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            nodes = getASTfromFile(str(model))
    except FileNotFoundError as exc:
        return failed(clean(str(exc), model)), b""
    if nodes is None:
        return syntax_error(printed.getvalue(), model), b""
    nodes = _assign(nodes, assignments)
    try:
        nodes, _, scope = resolve_use_scopes(nodes, str(model), messages)
        bodies, _ = Evaluator(echo_fn=messages).evaluate(nodes, scope)
    except (EvalError, FileNotFoundError) as exc:
        return failed(clean(str(exc), model)), b""
    solids = [b for b in bodies if b.role != "background" and (b.body or b.raw_mesh)]
    solids = [b for b in solids if b.raw_mesh is not None or not b.body.is_empty()]
    warnings = [clean(m, model) for m in messages.lines if m.startswith(_WARNINGS)]
    if not solids:
        flat = any(b.section is not None for b in bodies)
        problem = "the model is 2D only: it has no 3D object" if flat else "the model is empty"
        return failed(f"{problem} ({warnings[0]})" if warnings else problem), b""
    output = model.parent / "model.stl"
    notes = export_model(str(output), solids, "stl")
    mesh = output.read_bytes()
    warnings += [fallback_warning(spec) for spec in missed_fonts]
    warnings += [f"WARNING: export: {note}" for note in notes]
    seconds = time.monotonic() - started
    return {"ok": True, "warnings": warnings[:MAX_WARNINGS], "seconds": seconds}, mesh


def _assign(nodes: list[Any], assignments: dict[str, str]) -> list[Any]:
    """The tree with each top-level ``name = ...`` taking the given literal instead;
    a name the model never assigns is set first, as ``-D`` would set it."""
    if not assignments:
        return nodes
    code = "".join(f"{name} = {literal};\n" for name, literal in assignments.items())
    parsed = getASTfromString(code) or []
    given = {node.name.name: node for node in parsed if isinstance(node, Assignment)}
    unused = dict(given)
    for node in nodes:
        if isinstance(node, Assignment) and node.name.name in given:
            node.expr = given[node.name.name].expr
            unused.pop(node.name.name, None)
    return [*unused.values(), *nodes]


def clean(message: str, model: Path) -> str:
    """The message's first line, saying ``in line N`` for the model's own file."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return first.replace(f"in file {model}, ", "in ").replace(str(model), "the model")


def syntax_error(printed: str, model: Path) -> dict[str, Any]:
    found = _SYNTAX.search(printed)
    if found is None:
        return failed("ERROR: syntax error")
    line, column, text = found.group(1), found.group(2), found.group(3).splitlines()
    code = f": {text[0].strip()}" if text and text[0].strip() else ""
    return failed(f"ERROR: syntax error in line {line}, column {column}{code}")


def failed(detail: str) -> dict[str, Any]:
    line = _LINE.search(detail)
    return {"ok": False, "error": "failed", "detail": detail, "line": line and int(line.group(1))}


def limit(which: str, detail: str) -> dict[str, Any]:
    return {"ok": False, "error": "limit", "limit": which, "detail": detail}
