"""The template backend's SCAD is valid OpenSCAD: each model type renders to a solid
with no warnings, by the ``openscad`` CLI (CI installs Debian's)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from forge_adapters.template_backend import MODEL_TYPES, execute
from forge_core.inference import JobInput

OPENSCAD = shutil.which("openscad")

REQUESTS: dict[str, list[dict[str, Any]]] = {
    "drone": [
        {"model_type": "drone"},
        {"model_type": "quadcopter", "custom_description": "6 arms, 250 mm motor-to-motor"},
    ],
    "enclosure": [
        {"model_type": "enclosure"},
        {"model_type": "box", "custom_description": "20x20x10 mm, 10 mm walls, 8 holes"},
    ],
    "bracket": [
        {"model_type": "bracket"},
        {"model_type": "l bracket", "custom_description": "15 mm legs, 30 mm thick, 6 holes"},
    ],
    "plate": [
        {"model_type": "plate"},
        {"model_type": "plate", "custom_description": "10 mm long, 10 mm wide, 7 holes"},
    ],
}


def test_every_model_type_is_covered() -> None:
    assert set(REQUESTS) == set(MODEL_TYPES)


@pytest.mark.skipif(OPENSCAD is None, reason="the openscad CLI is not installed")
@pytest.mark.parametrize(
    ("model_type", "variant"),
    [(kind, i) for kind, requests in REQUESTS.items() for i in range(len(requests))],
)
def test_scad_renders_to_a_solid(model_type: str, variant: int, tmp_path: Path) -> None:
    req = REQUESTS[model_type][variant]
    output = execute(JobInput.create("generate_scad", requirements_json=req))
    assert output["model_type"] == model_type
    source = tmp_path / "part.scad"
    source.write_text(output["scad_code"])
    stl = tmp_path / "part.stl"
    assert OPENSCAD is not None
    done = subprocess.run(
        [OPENSCAD, "-o", str(stl), "-D", "$fn=12", str(source)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr and "ERROR" not in done.stderr, done.stderr
    assert stl.read_text().count("facet normal") > 10
