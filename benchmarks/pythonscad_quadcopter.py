"""tests/contract/scad/quadcopter.scad, built with pythonscad's Python API (its Manifold
engine), for benchmarks/render_bench.py. Run in its own process:

    python benchmarks/pythonscad_quadcopter.py FN OUT.stl
"""

from __future__ import annotations

import sys
import time
from typing import Any

started = time.monotonic()
from openscad import cylinder, difference, export, hull, union  # noqa: E402

FN = int(sys.argv[1])
MOTOR_TO_MOTOR, THICKNESS, PLATE = 160, 4, 60
ANGLES = (45, 135, 225, 315)


def cyl(r: float, h: float, x: float = 0, y: float = 0, z: float = 0) -> Any:
    return cylinder(r=r, h=h, fn=FN).translate([x, y, z])


def frame() -> Any:
    corners = [cyl(4, THICKNESS, x - PLATE / 2, y - PLATE / 2) for x in (4, 56) for y in (4, 56)]
    parts = [hull(*corners)]
    for a in ANGLES:
        arm = hull(cyl(7, THICKNESS), cyl(14, THICKNESS, MOTOR_TO_MOTOR / 2))
        parts.append(arm.rotate([0, 0, a]))
    holes = []
    for a in ANGLES:
        mount = [cyl(4, THICKNESS + 2, MOTOR_TO_MOTOR / 2, 0, -1)]
        for b in (0, 90, 180, 270):
            screw = cyl(1.6, THICKNESS + 2, 8, 0, -1).rotate([0, 0, b + 45])
            mount.append(screw.translate([MOTOR_TO_MOTOR / 2, 0, 0]))
        holes.append(union(*mount).rotate([0, 0, a]))
    holes += [cyl(1.6, THICKNESS + 2, x, y, -1) for x in (-15.25, 15.25) for y in (-15.25, 15.25)]
    holes.append(cyl(8, THICKNESS + 2, 0, 0, -1))
    return difference(union(*parts), *holes)


export(frame(), sys.argv[2])
print(f"{time.monotonic() - started:.3f}")
