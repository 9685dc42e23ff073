"""Hand-written meshes as binary STL, built without trimesh so the adapter under test
does not also make its inputs."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

Point = tuple[float, float, float]
Triangle = tuple[Point, Point, Point]

# A unit cube's corners and its 12 faces, wound counter-clockwise seen from outside.
_CORNERS = [(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)]
_FACES = [
    (0, 1, 3), (0, 3, 2),  # x = 0
    (4, 6, 7), (4, 7, 5),  # x = 1
    (0, 4, 5), (0, 5, 1),  # y = 0
    (2, 3, 7), (2, 7, 6),  # y = 1
    (0, 2, 6), (0, 6, 4),  # z = 0
    (1, 5, 7), (1, 7, 3),  # z = 1 (the top: the last two faces)
]  # fmt: skip


def binary_stl(triangles: Iterable[Triangle]) -> bytes:
    """A binary STL of the triangles (normals left zero, as readers recompute them)."""
    rows = [struct.pack("<12fH", 0, 0, 0, *a, *b, *c, 0) for a, b, c in triangles]
    return b"\0" * 80 + struct.pack("<I", len(rows)) + b"".join(rows)


def box(
    size: Sequence[float] = (10, 20, 30), at: Sequence[float] = (0, 0, 0), faces: int = 12
) -> list[Triangle]:
    """A closed box (or, with ``faces=10``, one without its top)."""

    def corner(i: int) -> Point:
        x, y, z = _CORNERS[i]
        return (at[0] + x * size[0], at[1] + y * size[1], at[2] + z * size[2])

    return [(corner(a), corner(b), corner(c)) for a, b, c in _FACES[:faces]]


def inside_out(triangles: list[Triangle]) -> list[Triangle]:
    """Every face wound the other way: closed, but enclosing a negative volume."""
    return [(a, c, b) for a, b, c in triangles]
