"""How deeply a JSON value may nest: one limit for every body, frame and field.

Deep nesting buys a client nothing and costs the server recursion: Python's own limit
(about 1,000 frames) is reached by recursive walks, decoders and serializers long before
the 1 MiB body limit, and a ``RecursionError`` is a 500. So every JSON value Forge reads
may nest objects and arrays at most ``MAX_JSON_DEPTH`` levels, counting the body (or the
socket frame, or a command's own fields) as the first level. The walk is iterative, so
it never recurses itself.
"""

from __future__ import annotations

from typing import Any

#: Levels of objects and arrays a JSON value may nest, the outermost one counted.
MAX_JSON_DEPTH = 64


_CONTAINERS = (dict, list, tuple)


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests dicts and lists (or tuples) more than ``limit`` levels.
    Level by level, holding only the containers: scalars are looked at once."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for container in level:
            for child in container.values() if isinstance(container, dict) else container:
                if isinstance(child, _CONTAINERS):
                    below.append(child)
        level = below
    return False


def deepest_field(fields: dict[str, Any], limit: int = MAX_JSON_DEPTH) -> str | None:
    """The first field of an object (itself the first level) that nests past ``limit``,
    or None when none does."""
    for name, value in fields.items():
        if too_deep(value, limit - 1):
            return str(name)
    return None


def nesting_problem(name: str, limit: int = MAX_JSON_DEPTH) -> str:
    """What a client is told, naming the field (or ``request body``)."""
    return f"{name}: JSON nested more than {limit} levels deep"
