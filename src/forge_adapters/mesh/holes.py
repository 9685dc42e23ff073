"""Round vertical holes of a mesh, measured on the mesh itself: the mesh is cut by a
horizontal plane near its bottom (where a plate, a frame or a box floor is solid) and
every closed loop of the cut that is a circle is a hole (a round outline would be too,
but a part's outer outline is not a small circle). What QA compares with a retrieved
part's hole pattern (``forge_core.qa``)."""

from __future__ import annotations

import numpy as np
import trimesh
import trimesh.intersections

#: Height of the cut above the mesh's bottom (at most half its height).
CUT_MM = 1.0
#: A loop is a circle when no point is further than this fraction of the radius off it.
ROUNDNESS = 0.06
MAX_DIAMETER_MM = 40.0
MAX_HOLES = 400


def round_holes(mesh: trimesh.Trimesh) -> tuple[tuple[float, float, float], ...]:
    """(x, y, diameter) of each round vertical hole the cut finds, sorted."""
    low, high = mesh.bounds[:, 2]
    z = low + min(CUT_MM, (high - low) / 2)
    segments = trimesh.intersections.mesh_plane(  # type: ignore[no-untyped-call]
        mesh, [0.0, 0.0, 1.0], [0.0, 0.0, z]
    )
    holes = []
    for points in _loops(np.asarray(segments)[:, :, :2]):
        if len(points) < 8:
            continue
        centre = points.mean(axis=0)
        radii = np.hypot(*(points - centre).T)
        radius = float(radii.mean())
        round_enough = float(np.abs(radii - radius).max()) <= ROUNDNESS * radius
        if 0 < 2 * radius <= MAX_DIAMETER_MM and round_enough:
            x, y = (round(float(v), 3) for v in centre)
            holes.append((x, y, round(2 * radius, 3)))
    return tuple(sorted(holes))[:MAX_HOLES]


def _loops(segments: np.ndarray) -> list[np.ndarray]:
    """The closed loops the cut's segments make (each point once), joined end to end."""
    keys = np.round(segments, 5)
    neighbours: dict[tuple[float, float], list[tuple[float, float]]] = {}
    for a, b in keys:
        ka, kb = (float(a[0]), float(a[1])), (float(b[0]), float(b[1]))
        if ka != kb:
            neighbours.setdefault(ka, []).append(kb)
            neighbours.setdefault(kb, []).append(ka)
    seen: set[tuple[float, float]] = set()
    loops = []
    for start in neighbours:
        if start in seen:
            continue
        loop, previous, current = [start], None, start
        seen.add(start)
        while True:
            ahead = [n for n in neighbours[current] if n != previous and n not in seen]
            if not ahead:
                break
            previous, current = current, ahead[0]
            seen.add(current)
            loop.append(current)
        loops.append(np.array(loop))
    return loops
