"""A MeshKit that really measures binary STL, for tests: triangles parsed with struct,
bounding box, signed volume, edge-manifold and winding checks, connected bodies.

It exports "stl" as the bytes it got; other formats raise InvalidInput unless named in
``formats``, which then come back as the STL behind a one-line tag (not a real GLB or
3MF: the pipeline only stores them). ``preview`` draws a 1x1 PNG.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter

from forge_core.errors import InvalidInput
from forge_core.ports import MeshFacts

Vertex = tuple[float, float, float]


def parse_stl(stl: bytes) -> list[tuple[Vertex, Vertex, Vertex]]:
    """The triangles of a binary STL; InvalidInput unless its size matches its count."""
    if len(stl) < 84:
        raise InvalidInput("mesh", "not a binary STL")
    (count,) = struct.unpack_from("<I", stl, 80)
    if len(stl) != 84 + 50 * count:
        raise InvalidInput("mesh", "not a binary STL")
    triangles = []
    for i in range(count):
        values = struct.unpack_from("<12f", stl, 84 + 50 * i)
        a, b, c = values[3:6], values[6:9], values[9:12]
        triangles.append((a, b, c))
    return triangles


def measure(stl: bytes) -> MeshFacts:
    triangles = parse_stl(stl)
    points = [v for t in triangles for v in t]
    if not points:
        raise InvalidInput("mesh", "the mesh is empty")
    directed = Counter((t[i], t[(i + 1) % 3]) for t in triangles for i in range(3))
    undirected = Counter(frozenset(edge) for edge in directed.elements())
    watertight = all(n == 2 for n in undirected.values())
    consistent = all(n == 1 and directed[(b, a)] == 1 for (a, b), n in directed.items())
    volume = sum(_dot(a, _cross(b, c)) for a, b, c in triangles) / 6
    low = tuple(min(p[i] for p in points) for i in range(3))
    high = tuple(max(p[i] for p in points) for i in range(3))
    return MeshFacts(
        triangles=len(triangles),
        watertight=watertight,
        winding_consistent=consistent,
        volume=volume,
        bodies=_bodies(triangles),
        bbox_min=(low[0], low[1], low[2]),
        bbox_max=(high[0], high[1], high[2]),
    )


def _cross(b: Vertex, c: Vertex) -> Vertex:
    return (b[1] * c[2] - b[2] * c[1], b[2] * c[0] - b[0] * c[2], b[0] * c[1] - b[1] * c[0])


def _dot(a: Vertex, b: Vertex) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _bodies(triangles: list[tuple[Vertex, Vertex, Vertex]]) -> int:
    """Connected pieces: triangles joined through shared vertices (union-find)."""
    parent: dict[Vertex, Vertex] = {}

    def root(v: Vertex) -> Vertex:
        while parent.setdefault(v, v) != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for a, b, c in triangles:
        parent[root(b)] = root(a)
        parent[root(c)] = root(a)
    return len({root(v) for v in parent})


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80\x80\x80")
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


class FakeMeshKit:
    """See the module docstring."""

    def __init__(self, formats: tuple[str, ...] = ()) -> None:
        self.formats = formats

    async def inspect(self, stl: bytes) -> MeshFacts:
        return measure(stl)

    async def export(self, stl: bytes, format: str) -> bytes:
        parse_stl(stl)
        if format == "stl":
            return stl
        if format not in self.formats:
            raise InvalidInput("format", f"{format!r} is not supported")
        return f"fake {format}\n".encode() + stl

    async def preview(self, stl: bytes) -> bytes:
        parse_stl(stl)
        return tiny_png()
