"""Reading binary STL in tests: the triangle count and the bounding box."""

from __future__ import annotations

import struct

import numpy as np

Point = tuple[float, float, float]


def triangles(stl: bytes) -> int:
    """The triangle count of a binary STL, checked against its size."""
    (count,) = struct.unpack_from("<I", stl, 80)
    assert len(stl) == 84 + 50 * count
    return int(count)


def bounds(stl: bytes, digits: int = 3) -> tuple[Point, Point]:
    """The bounding box's two corners, rounded to ``digits`` (and -0.0 made 0.0)."""
    count = triangles(stl)
    records = np.frombuffer(
        stl,
        dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]),
        count=count,
        offset=84,
    )
    points = records["v"].reshape(-1, 3).astype(float)
    low = tuple(round(float(v), digits) + 0.0 for v in points.min(axis=0))
    high = tuple(round(float(v), digits) + 0.0 for v in points.max(axis=0))
    return low, high  # type: ignore[return-value]
