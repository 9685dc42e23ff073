"""Render engines on the quadcopter frame: OpenSCAD 2021.01 (CGAL) against pythonscad (Manifold).

    python benchmarks/render_bench.py [--rounds 3]

For each resolution ($fn 24, as in the tests, and 64) and each round, back to back:

- openscad: ``OpenSCADRenderer.render`` on tests/contract/scad/quadcopter.scad
  (the adapter as the pipeline runs it: sandbox, temporary folder, limits, process);
- pythonscad scad(): the same SCAD through pythonscad's ``scad()`` + ``export()``, in its
  own process (it aborts on this model; the exit status is reported);
- pythonscad API: the same frame built with pythonscad's Python API
  (benchmarks/pythonscad_quadcopter.py), in its own process, interpreter start included.

Wall seconds, median over the rounds. Each mesh's triangle count and volume are printed
so that the outputs can be compared. pythonscad is optional: ``pip install pythonscad``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

from forge_adapters.openscad import OpenSCADRenderer
from forge_core.render_request import RenderRequest

HERE = Path(__file__).parent
SCAD = (HERE.parent / "tests" / "contract" / "scad" / "quadcopter.scad").read_text()
SCAD_PATH = "import openscad, sys; openscad.export(openscad.scad(sys.argv[1]), sys.argv[2])"

Triangle = tuple[tuple[float, float, float], ...]


def triangles(mesh: bytes) -> list[Triangle]:
    if mesh.startswith(b"solid") and b"facet" in mesh[:300]:
        found = re.findall(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", mesh)
        points = [(float(x), float(y), float(z)) for x, y, z in found]
        return [tuple(points[i : i + 3]) for i in range(0, len(points), 3)]
    (count,) = struct.unpack_from("<I", mesh, 80)
    return [
        tuple(struct.unpack_from("<3f", mesh, 96 + 50 * i + 12 * k) for k in range(3))
        for i in range(count)
    ]


def describe(mesh: bytes) -> str:
    tris = triangles(mesh)
    volume = sum(
        a[0] * (b[1] * c[2] - b[2] * c[1])
        - a[1] * (b[0] * c[2] - b[2] * c[0])
        + a[2] * (b[0] * c[1] - b[1] * c[0])
        for a, b, c in tris
    )
    return f"{len(tris)} triangles, {volume / 6:.1f} mm³"


def openscad(fn: int) -> tuple[float, bytes]:
    source = SCAD.replace("$fn = 24;", f"$fn = {fn};")
    started = time.monotonic()
    result = anyio.run(OpenSCADRenderer().render, RenderRequest(source))
    return time.monotonic() - started, result.mesh


def pythonscad(fn: int, scad_path: bool) -> tuple[float, bytes | str]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "model.stl"
        if scad_path:
            source = SCAD.replace("$fn = 24;", f"$fn = {fn};")
            command = [sys.executable, "-c", SCAD_PATH, source, str(out)]
        else:
            command = [sys.executable, str(HERE / "pythonscad_quadcopter.py"), str(fn), str(out)]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, timeout=300, check=False)
        seconds = time.monotonic() - started
        if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            return seconds, f"failed (exit status {done.returncode})"
        return seconds, out.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| $fn | engine | median s | rounds | output |\n|---|---|---:|---|---|")
    for fn in (24, 64):
        times: dict[str, list[float]] = {"openscad": [], "scad()": [], "API": []}
        outputs: dict[str, bytes | str] = {}
        for _ in range(args.rounds):
            seconds, outputs["openscad"] = openscad(fn)
            times["openscad"].append(seconds)
            for name, scad_path in (("scad()", True), ("API", False)):
                seconds, outputs[name] = pythonscad(fn, scad_path)
                times[name].append(seconds)
        for name, label in (
            ("openscad", "OpenSCAD 2021.01 adapter"),
            ("scad()", "pythonscad scad()+export()"),
            ("API", "pythonscad Python API"),
        ):
            out = outputs[name]
            shown = describe(out) if isinstance(out, bytes) else out
            rounds = ", ".join(f"{t:.2f}" for t in times[name])
            median = statistics.median(times[name])
            print(f"| {fn} | {label} | {median:.2f} | {rounds} | {shown} |")


if __name__ == "__main__":
    main()
