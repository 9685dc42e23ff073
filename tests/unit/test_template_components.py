"""The template backend sizes its models from retrieved parts, and the rendered mesh has
the parts' holes where they belong: measured on the mesh, checked by QA."""

from __future__ import annotations

import math
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest

from forge_adapters.catalog import MemoryCatalog
from forge_adapters.mesh.kit import measure
from forge_adapters.template_backend import execute
from forge_core.inference import JobInput
from forge_core.qa import qa_report
from forge_core.services.retriever import Retriever

OPENSCAD = shutil.which("openscad")
QUAD = "a 5-inch quad frame for a 20x20 stack and 2306 motors"
PI_BOX = "an enclosure for a Raspberry Pi 4"


def generated(text: str, **requirements: Any) -> dict[str, Any]:
    search = Retriever(MemoryCatalog()).for_request
    # In a thread of its own: an async fixture of another test may hold this thread's loop.
    with ThreadPoolExecutor(1) as thread:
        found, _ = thread.submit(anyio.run, search, None, text, requirements or None).result()
    return {"job": JobInput.create("generate_scad", text, requirements_json=found), "req": found}


def test_a_quad_takes_the_stack_motor_and_prop_sizes() -> None:
    values = execute(generated(QUAD)["job"])["parameters"]
    assert (values["stack_spacing"], values["stack_hole_diameter"]) == (20.0, 2.2)
    assert (values["motor_bolt_spacing"], values["motor_hole_diameter"]) == (16.0, 3.2)
    assert values["arm_count"] == 4  # "2306 motors" names a motor, not 2306 of them
    # adjacent props (127 mm) clear each other by 10 mm: 194 / sqrt(2) >= 137
    assert values["motor_to_motor"] == 194 and 194 / math.sqrt(2) >= 137


def test_stated_sizes_win_over_a_parts() -> None:
    text = "a 7 inch quad, 30.5x30.5 stack, 2807 motors, 250 mm motor to motor"
    values = execute(generated(text)["job"])["parameters"]
    assert values["motor_to_motor"] == 250 and values["stack_spacing"] == 30.5
    assert values["motor_bolt_spacing"] == 19.0


def test_an_enclosure_fits_the_board_and_its_holes() -> None:
    values = execute(generated(PI_BOX)["job"])["parameters"]
    assert (values["length"], values["width"]) == (85 + 8, 56 + 8)  # board, 2 mm gap, walls
    assert (values["board_hole_spacing_x"], values["board_hole_spacing_y"]) == (58, 49)
    assert (values["hole_count"], values["hole_diameter"]) == (4, 2.7)


def render(code: str, tmp_path: Path) -> bytes:
    assert OPENSCAD is not None
    (tmp_path / "part.scad").write_text(code)
    done = subprocess.run(
        [OPENSCAD, "-o", str(tmp_path / "part.stl"), str(tmp_path / "part.scad")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return (tmp_path / "part.stl").read_bytes()


def holes_of(facts_holes: Any, diameter: float) -> list[tuple[float, float]]:
    return [(x, y) for x, y, d in facts_holes if abs(d - diameter) < 0.1]


@pytest.mark.skipif(OPENSCAD is None, reason="the openscad CLI is not installed")
def test_the_quad_mesh_has_the_stack_square_and_the_motor_pattern(tmp_path: Path) -> None:
    made = generated(QUAD)
    facts = measure(render(execute(made["job"])["scad_code"], tmp_path))
    stack = holes_of(facts.holes, 2.2)
    assert len(stack) == 4
    sides = sorted(math.dist(a, b) for i, a in enumerate(stack) for b in stack[i + 1 :])
    assert sides[:4] == pytest.approx([20.0] * 4, abs=0.05)
    motors = holes_of(facts.holes, 3.2)
    assert len(motors) == 16
    opposite = [math.dist(a, b) for a in motors for b in motors if 15.9 < math.dist(a, b) < 16.1]
    assert len(opposite) == 16  # each of 4 mounts: 2 pairs 16 mm apart, counted both ways
    report = qa_report(facts, requirements=made["req"]).to_json()
    holes = {c["name"]: c["ok"] for c in report["checks"] if c["name"].startswith("holes:")}
    assert holes == {"holes:fc-stack-20x20:stack": True, "holes:motor-2306:base": True}


@pytest.mark.skipif(OPENSCAD is None, reason="the openscad CLI is not installed")
def test_the_pi_box_floor_has_the_boards_holes(tmp_path: Path) -> None:
    made = generated(PI_BOX)
    facts = measure(render(execute(made["job"])["scad_code"], tmp_path))
    report = qa_report(facts, requirements=made["req"]).to_json()
    assert [c["ok"] for c in report["checks"] if c["name"].startswith("holes:")] == [True]
    other = generated("a case for an Arduino Uno")  # irregular holes: the template can't
    report = qa_report(facts, requirements=other["req"]).to_json()
    assert [c["ok"] for c in report["checks"] if c["name"].startswith("holes:")] == [False]
