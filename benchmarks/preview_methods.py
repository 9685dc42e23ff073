"""Headless PNG preview methods on the quadcopter template's mesh, back to back.

    python benchmarks/preview_methods.py [--rounds 5] [--out DIR] [--fn 48]

The mesh is the template backend's default quadcopter frame rendered by the OpenSCAD
adapter (at its own $fn 48, or ``--fn`` for a heavier mesh). Candidates, each drawing
a 512x512 isometric view:

- numpy z-buffer: ``forge_adapters.mesh.render_png``, the adapter's method;
- matplotlib Agg: ``Poly3DCollection`` with shading, orthographic 3D axes
  (``pip install matplotlib``; skipped where it is missing);
- pyrender + OSMesa: an offscreen OpenGL render on the CPU (``apt-get install
  libosmesa6``, ``pip install pyrender 'pyopengl>=3.1.7'``; run in its own process,
  context creation included; skipped where it is missing);
- openscad PNG: ``openscad --render -o x.png`` on ``import("mesh.stl")`` under
  ``xvfb-run`` (``apt-get install xvfb``; skipped where it is missing).

Wall seconds per picture, median of the rounds, and the first round alone (imports,
contexts). ``--out`` keeps each PNG for a look.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import numpy as np
import trimesh
from PIL import Image

from forge_adapters.mesh import render_png
from forge_adapters.openscad import OpenSCADRenderer
from forge_adapters.template_backend import execute
from forge_adapters.template_backend.scad import FN
from forge_core.inference import JobInput

PYRENDER = """
import os, sys, time
os.environ["PYOPENGL_PLATFORM"] = "osmesa"
import numpy as np, pyrender, trimesh
from PIL import Image
mesh = trimesh.load(sys.argv[1], force="mesh")
extent = float(mesh.extents.max())
eye = mesh.centroid + np.array([1.0, -1.0, 0.9]) * extent
forward = (mesh.centroid - eye) / np.linalg.norm(mesh.centroid - eye)
right = np.cross(forward, [0, 0, 1.0]); right /= np.linalg.norm(right)
pose = np.eye(4); pose[:3, 0] = right; pose[:3, 1] = np.cross(right, forward)
pose[:3, 2] = -forward; pose[:3, 3] = eye
for round in range(int(sys.argv[3])):
    started = time.monotonic()
    scene = pyrender.Scene(bg_color=[0.96, 0.96, 0.97, 1.0], ambient_light=[0.3] * 3)
    scene.add(pyrender.Mesh.from_trimesh(mesh, smooth=False))
    camera = pyrender.OrthographicCamera(extent * 0.6, extent * 0.6, znear=1, zfar=10 * extent)
    scene.add(camera, pose=pose)
    scene.add(pyrender.DirectionalLight(intensity=3.0), pose=pose)
    renderer = pyrender.OffscreenRenderer(512, 512)
    colour, _ = renderer.render(scene)
    renderer.delete()
    Image.fromarray(colour).save(sys.argv[2])
    print(time.monotonic() - started)
"""


def quadcopter(fn: int) -> bytes:
    request = {"model_type": "drone"}
    scad = execute(JobInput.create("generate_scad", requirements_json=request))["scad_code"]
    return anyio.run(OpenSCADRenderer().render, scad.replace(f"$fn = {FN};", f"$fn = {fn};")).mesh


def numpy_zbuffer(mesh: trimesh.Trimesh, out: Path) -> float:
    started = time.monotonic()
    png = render_png(np.asarray(mesh.vertices, float), np.asarray(mesh.faces, np.int64))
    seconds = time.monotonic() - started
    out.write_bytes(png)
    return seconds


def matplotlib_agg(mesh: trimesh.Trimesh, out: Path) -> float:
    started = time.monotonic()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LightSource
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    figure = plt.figure(figsize=(5.12, 5.12), dpi=100)
    axes = figure.add_subplot(projection="3d", proj_type="ortho")
    colour = (0.35, 0.53, 0.78)
    polygons = Poly3DCollection(
        mesh.triangles, shade=True, facecolors=colour, edgecolors=colour,
        lightsource=LightSource(azdeg=225, altdeg=45),
    )  # fmt: skip
    axes.add_collection3d(polygons)
    centre, half = mesh.bounds.mean(axis=0), float(mesh.extents.max()) / 2
    axes.set_xlim(centre[0] - half, centre[0] + half)
    axes.set_ylim(centre[1] - half, centre[1] + half)
    axes.set_zlim(centre[2] - half, centre[2] + half)
    axes.set_box_aspect((1, 1, 1))
    axes.view_init(elev=35.264, azim=-45)
    axes.set_axis_off()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    seconds = time.monotonic() - started
    out.write_bytes(buffer.getvalue())
    return seconds


def pyrender_osmesa(stl: Path, out: Path, rounds: int) -> list[float] | str:
    done = subprocess.run(
        [sys.executable, "-c", PYRENDER, str(stl), str(out), str(rounds)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return f"not available: {done.stderr.strip().splitlines()[-1:]}"
    return [float(line) for line in done.stdout.split()]


def openscad_png(stl: Path, out: Path) -> float | str:
    if shutil.which("xvfb-run") is None:
        return "not available: xvfb-run is not installed"
    scad = stl.with_suffix(".scad")
    scad.write_text(f'import("{stl}");\n')
    command = ["xvfb-run", "-a", "openscad", "-o", str(out), "--render", "--imgsize=512,512",
               "--viewall", "--autocenter", "--projection=o", "--camera=0,0,0,55,0,25,0",
               str(scad)]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, timeout=300, check=False)
    seconds = time.monotonic() - started
    return seconds if done.returncode == 0 and out.stat().st_size else "failed"


def coverage(png: Path) -> str:
    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    drawn = (np.abs(pixels - pixels[0]).sum(axis=1) > 30).mean()
    return f"{png.stat().st_size:,} B, model on {drawn:.0%} of pixels"


def row(name: str, times: list[float] | str, png: Path) -> str:
    if isinstance(times, str):
        return f"| {name} | - | - | {times} |"
    median = statistics.median(times[1:] or times)
    return f"| {name} | {median:.3f} | {times[0]:.3f} | {coverage(png)} |"


def timed(work: Callable[[], float | str], rounds: int) -> list[float] | str:
    times = []
    for _ in range(rounds):
        seconds = work()
        if isinstance(seconds, str):
            return seconds
        times.append(seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--fn", type=int, default=FN, help="circle smoothness (more triangles)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        here = args.out or Path(folder)
        here.mkdir(parents=True, exist_ok=True)
        stl = here / "quadcopter.stl"
        stl.write_bytes(quadcopter(args.fn))
        mesh = trimesh.load(stl, force="mesh")
        print(f"{len(mesh.faces)} triangles, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
        print("| method | median s | first s | output |\n|---|---:|---:|---|")
        png = {name: here / f"{name}.png" for name in ("numpy", "mpl", "pyrender", "openscad")}
        results = {
            "numpy z-buffer": timed(lambda: numpy_zbuffer(mesh, png["numpy"]), args.rounds),
            "matplotlib Agg": with_matplotlib(
                lambda: matplotlib_agg(mesh, png["mpl"]), args.rounds
            ),
            "pyrender + OSMesa": pyrender_osmesa(stl, png["pyrender"], args.rounds),
            "openscad PNG (xvfb)": timed(lambda: openscad_png(stl, png["openscad"]), args.rounds),
        }
        for (name, times), path in zip(results.items(), png.values(), strict=True):
            print(row(name, times, path))


def with_matplotlib(work: Callable[[], float], rounds: int) -> list[float] | str:
    try:
        return timed(work, rounds)
    except ImportError:
        return "not available: pip install matplotlib"


if __name__ == "__main__":
    main()
