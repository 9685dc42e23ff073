"""The MeshKit port on trimesh, with manifold3d for the bodies of a closed mesh.

trimesh reads the STL (merging shared vertices, so edges can be matched), checks that
every edge joins exactly two faces (watertight) wound the same way, and writes STL, GLB
and 3MF. manifold3d splits a closed mesh into its bodies quickly and confirms it is a
2-manifold. Everything CPU-bound runs in a worker thread, never on the event loop.
Unreadable bytes, and any vendor error while reading or writing, become InvalidInput.
"""

from __future__ import annotations

import io
from typing import Any

import anyio.to_thread
import manifold3d
import numpy as np
import trimesh

from forge_adapters.mesh.preview import render_png
from forge_core.errors import InvalidInput
from forge_core.ports import MeshFacts

FORMATS = ("stl", "glb", "3mf")
Vector = tuple[float, float, float]


class TrimeshKit:
    """Measures and converts binary (or ASCII) STL; see the module docstring."""

    def __init__(self, *, preview_size: int = 512) -> None:
        self._preview_size = preview_size

    async def inspect(self, stl: bytes) -> MeshFacts:
        return await anyio.to_thread.run_sync(measure, stl)

    async def export(self, stl: bytes, format: str) -> bytes:
        if format not in FORMATS:
            raise InvalidInput("format", f"'{format}' is not one of {', '.join(FORMATS)}")
        return await anyio.to_thread.run_sync(convert, stl, format)

    async def preview(self, stl: bytes) -> bytes:
        return await anyio.to_thread.run_sync(picture, stl, self._preview_size)


def load(stl: bytes) -> trimesh.Trimesh:
    """The mesh in the bytes; InvalidInput if they are not an STL."""
    if not stl:
        raise InvalidInput("mesh", "the file is empty")
    if not _looks_like_stl(stl):
        raise InvalidInput("mesh", "not a readable STL file")
    try:
        mesh = trimesh.load(io.BytesIO(stl), file_type="stl", force="mesh")
    except Exception as exc:  # trimesh raises many kinds on bad bytes
        raise InvalidInput("mesh", "not a readable STL file") from exc
    if not isinstance(mesh, trimesh.Trimesh):
        raise InvalidInput("mesh", "not a readable STL file")
    if not np.isfinite(mesh.vertices).all():
        raise InvalidInput("mesh", "the STL has coordinates that are not finite numbers")
    return mesh


def _looks_like_stl(data: bytes) -> bool:
    """A binary STL is exactly 84 bytes plus 50 per triangle its header counts; an
    ASCII one starts with ``solid``. trimesh alone reads other bytes as an empty mesh."""
    if len(data) >= 84 and len(data) == 84 + 50 * int.from_bytes(data[80:84], "little"):
        return True
    return data.lstrip()[:5].lower() == b"solid"


def measure(stl: bytes) -> MeshFacts:
    """The facts of the mesh in the bytes (an STL with no triangles measures zero)."""
    mesh = load(stl)
    if len(mesh.faces) == 0:
        zero = (0.0, 0.0, 0.0)
        return MeshFacts(0, False, False, 0.0, 0, zero, zero, None, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # trimesh divides by a zero volume
        return _facts(mesh)


def _facts(mesh: trimesh.Trimesh) -> MeshFacts:
    watertight = bool(mesh.is_watertight)
    solid = _manifold(mesh) if watertight else None
    bodies = solid.decompose() if solid is not None else []
    low, high = (_vector(v) for v in mesh.bounds)
    return MeshFacts(
        triangles=len(mesh.faces),
        watertight=solid is not None,
        winding_consistent=bool(mesh.is_winding_consistent),
        volume=float(mesh.volume),
        bodies=len(bodies) if bodies else _face_groups(mesh),
        bbox_min=low,
        bbox_max=high,
        main_body_size=_main_body_size(bodies) if bodies else None,
        reach_xy=_reach_xy(mesh, watertight),
    )


def _manifold(mesh: trimesh.Trimesh) -> manifold3d.Manifold | None:
    """The mesh as a manifold3d solid, or None where manifold3d finds it is not one."""
    solid = manifold3d.Manifold(
        manifold3d.Mesh(
            vert_properties=np.asarray(mesh.vertices, dtype=np.float32),
            tri_verts=np.asarray(mesh.faces, dtype=np.uint32),
        )
    )
    return solid if solid.status() == manifold3d.Error.NoError else None


def _face_groups(mesh: trimesh.Trimesh) -> int:
    """Groups of faces joined by shared edges: the bodies of an open mesh."""
    groups = trimesh.graph.connected_components(
        mesh.face_adjacency, nodes=np.arange(len(mesh.faces)), engine="networkx"
    )
    return len(groups)


def _main_body_size(bodies: list[manifold3d.Manifold]) -> Vector:
    largest = max(bodies, key=lambda body: body.volume())
    low_x, low_y, low_z, high_x, high_y, high_z = largest.bounding_box()
    return _vector(np.array([high_x - low_x, high_y - low_y, high_z - low_z]))


def _reach_xy(mesh: trimesh.Trimesh, watertight: bool) -> float:
    """Largest horizontal distance from the centre of mass (of a closed mesh; else the
    bounding box's centre) to a vertex."""
    solid = watertight and abs(mesh.volume) > 1e-9  # the centre of mass divides by it
    centre = mesh.center_mass if solid else mesh.bounds.mean(axis=0)
    offsets = mesh.vertices[:, :2] - np.asarray(centre)[:2]
    return round(float(np.hypot(offsets[:, 0], offsets[:, 1]).max()), 4)


def _vector(values: Any) -> Vector:
    x, y, z = (round(float(v), 4) for v in values)
    return (x, y, z)


def convert(stl: bytes, format: str) -> bytes:
    """The mesh written as ``format`` (binary STL, GLB or 3MF)."""
    mesh = _not_empty(load(stl))
    try:
        data = mesh.export(file_type=format)
    except Exception as exc:  # a writer's own error, or a missing optional library
        raise InvalidInput("mesh", f"cannot be written as {format}: {exc}") from exc
    if not isinstance(data, bytes):  # trimesh answers text or a dict for other formats
        raise InvalidInput("format", f"'{format}' is not a binary mesh format")
    return data


def picture(stl: bytes, size: int) -> bytes:
    """The PNG preview of the mesh in the bytes."""
    mesh = _not_empty(load(stl))
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    return render_png(vertices, np.asarray(mesh.faces, dtype=np.int64), size)


def _not_empty(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    if len(mesh.faces) == 0:
        raise InvalidInput("mesh", "the STL has no triangles")
    return mesh
