"""Reading JSON from clients, bodies and socket frames alike, within one nesting limit
(``forge_core.json_depth``): a value nested past it is refused naming the field, before
anything recursive (a validator, the database's serializer) sees it."""

from __future__ import annotations

import itertools
import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from forge_core.json_depth import MAX_JSON_DEPTH, deepest_field, nesting_problem, too_deep


class TooDeep(ValueError):
    """A JSON value nested past the limit; ``detail`` names the field."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def check_depth(value: Any) -> Any:
    """``value`` as it is, or TooDeep naming its deepest field (or ``request body``)."""
    if isinstance(value, dict):
        name = deepest_field(value)
    else:
        name = "request body" if too_deep(value) else None
    if name is not None:
        raise TooDeep(nesting_problem(name))
    return value


def decode(raw: bytes | str) -> Any:
    """Decode JSON (msgspec.DecodeError when it is not) and check its depth (TooDeep).
    msgspec itself gives up near Python's recursion limit: that is TooDeep as well."""
    try:
        return check_depth(msgspec.json.decode(raw))
    except RecursionError:
        raise TooDeep(nesting_problem(_too_deep_to_decode(raw))) from None


# Strings (skipped whole, so their brackets don't count) and the brackets between them.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
#: Tokens the scan reads before it gives up naming a field: deep nesting shows within a
#: few dozen, and a body padded to hide it costs no more than this.
_SCAN_BUDGET = 20_000


def _too_deep_to_decode(raw: bytes | str) -> str:
    """Which top-level field nests past the limit, in JSON too deep for the decoder: a
    scan of its brackets, which stops at the first level past the limit."""
    data = raw.encode() if isinstance(raw, str) else raw
    level, field, last_string = 0, "request body", b""
    is_object = data.lstrip().startswith(b"{")
    for token in itertools.islice(_TOKENS.finditer(data), _SCAN_BUDGET):
        text = token.group()
        if text.startswith(b'"'):
            last_string = text
        elif text in (b"{", b"["):
            if level == 1 and is_object:
                field = last_string[1:-1].decode(errors="replace")
            level += 1
            if level > MAX_JSON_DEPTH:
                return field
        else:
            level -= 1
    return "request body"


class JsonRequest(Request[Any, Any, Any]):
    """Litestar's request, whose JSON body nested too deep is a 400. An object's fields
    are checked by the command that reads them (``forge_core.commands``), once; here,
    what is too deep to decode at all, and a body that is not an object."""

    async def json(self) -> Any:
        try:
            value = await super().json()
            if isinstance(value, dict):  # the command reading it checks its fields
                return value
            return check_depth(value)
        except RecursionError:
            detail = nesting_problem(_too_deep_to_decode(await self.body()))
        except TooDeep as exc:
            detail = exc.detail
        raise ValidationException(detail=detail)
