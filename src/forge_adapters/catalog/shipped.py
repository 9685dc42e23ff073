"""The parts Forge ships: ``data/*.jsonl`` in this package, one component per line,
each with the standard or data sheet its numbers come from."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources

from forge_core.components import Component, component_from_json
from forge_core.errors import InvalidInput


def load_jsonl(lines: Iterable[str], *, where: str = "line") -> list[Component]:
    """Components from JSON lines (blank lines skipped). Raises InvalidInput naming the
    line and the field, and for an id given twice."""
    found: list[Component] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{where} {number}", f"is not JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise InvalidInput(f"{where} {number}", "must be a JSON object")
        try:
            component = component_from_json(data)
        except InvalidInput as exc:
            raise InvalidInput(f"{where} {number}: {exc.field}", exc.detail) from None
        if component.id in seen:
            raise InvalidInput(f"{where} {number}: id", f"{component.id!r} is given twice")
        seen.add(component.id)
        found.append(component)
    return found


@cache
def shipped_components() -> tuple[Component, ...]:
    """Every shipped part, read once per process."""
    folder = resources.files("forge_adapters.catalog") / "data"
    parts: list[Component] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".jsonl"):
            parts.extend(load_jsonl(entry.read_text("utf-8").splitlines(), where=entry.name))
    return tuple(parts)
