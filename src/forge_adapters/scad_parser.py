"""The SCAD parser adapter: ``openscad-lalr-parser`` (an LALR grammar, on Lark) reads the
source into an AST with its comments, and this module turns the top level into the
core's ``ScadHeader`` (``forge_core.scad_header``)."""

from __future__ import annotations

import contextlib
import io
import math
import threading
from typing import Any

import openscad_lalr_parser as scad
from openscad_lalr_parser import nodes

from forge_core.errors import InvalidInput
from forge_core.scad_header import Literal, ScadAssignment, ScadComment, ScadHeader, ScadItem

_DECLARATIONS = (nodes.ModuleDeclaration, nodes.FunctionDeclaration)
#: sys.stdout is one for the process: parses in threads take turns redirecting it.
_PRINTS = threading.Lock()


class LalrScadParser:
    """``ScadParser`` over openscad-lalr-parser."""

    def __init__(self) -> None:
        scad.getASTfromString("")  # builds the grammar now (~0.2 s), not on a request

    def header(self, source: str) -> ScadHeader:
        """The header's assignments and comments; InvalidInput quoting the syntax error."""
        printed = io.StringIO()
        try:
            with (
                _PRINTS,
                contextlib.redirect_stdout(printed),
            ):  # the library prints its syntax errors
                tree = scad.getASTfromString(source, include_comments=True)
        except RecursionError:  # its tree walks recurse: a value nested thousands deep
            raise InvalidInput("scad_code", "the SCAD is nested too deeply to read") from None
        if tree is None:
            message = printed.getvalue().strip().splitlines()
            where = message[0].removeprefix("Syntax error in <string> at ") if message else ""
            problem = f"the SCAD does not parse: syntax error at {where.rstrip(':')}"
            raise InvalidInput("scad_code", problem)
        items: list[ScadItem] = []
        seen: set[str] = set()
        reassigned: set[str] = set()
        in_header = True
        for node in tree:
            if isinstance(node, _DECLARATIONS):
                in_header = False
            if isinstance(node, nodes.Assignment):
                name = node.name.name
                if name in seen:
                    reassigned.add(name)
                seen.add(name)
                if in_header:
                    items.append(_assignment(node, source))
            elif in_header and isinstance(node, nodes.CommentLine | nodes.CommentSpan):
                items.append(_comment(node))
        return ScadHeader(tuple(items), frozenset(reassigned))


def _comment(node: Any) -> ScadComment:
    block = isinstance(node, nodes.CommentSpan)
    return ScadComment(
        text=node.text,
        line=node.position.line,
        block=block,
        same_line=bool(getattr(node, "same_line", False)),
    )


def _assignment(node: Any, source: str) -> ScadAssignment:
    expr = node.expr
    if isinstance(expr, nodes.CommentedExpr):  # a comment inside the value: not a literal
        return ScadAssignment(node.name.name, None, node.position.line, 0, 0)
    start, end = expr.position.start_offset, expr.position.end_offset
    value = _literal(expr)
    text = source[start:end]
    integer = isinstance(value, float) and not any(c in text for c in ".eE")
    return ScadAssignment(node.name.name, value, node.position.line, start, end, integer)


def _literal(expr: Any) -> Literal | None:
    if isinstance(expr, nodes.BooleanLiteral):
        return bool(expr.val)
    if isinstance(expr, nodes.StringLiteral):
        return _unescape(str(expr.val))
    number = _number(expr)
    if number is not None:
        return number
    if isinstance(expr, nodes.ListComprehension):
        elements = [_number(e) for e in expr.elements]
        if elements and all(e is not None for e in elements):
            return tuple(e for e in elements if e is not None)
    return None


def _number(expr: Any) -> float | None:
    """A number literal (negated or not); None for anything else, or one past a float."""
    negative = isinstance(expr, nodes.UnaryMinusOp)
    literal = expr.expr if negative else expr
    if not isinstance(literal, nodes.NumberLiteral) or not math.isfinite(float(literal.val)):
        return None
    return -float(literal.val) if negative else float(literal.val)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(raw: str) -> str:
    """A string literal's text as OpenSCAD reads it (the parser keeps the escapes)."""
    out: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_ESCAPES.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)
