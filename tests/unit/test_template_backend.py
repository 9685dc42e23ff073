"""The template backend reads words into requirements and writes SCAD from them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from forge_adapters.template_backend import MODEL_TYPES, execute
from forge_adapters.template_backend.reading import read
from forge_core.inference import JobInput, output_to_message

SEED_REQUIREMENTS = {
    "model_type": "drone",
    "primary_function": "A small quadcopter frame for hobby use",
    "description_natural_language": "A compact central body with four arms equally spaced...",
    "standard_components": [{"name": "Flight controller", "search_term": "stack 20x20 mm"}],
    "custom_description": "Use 3 mm thick arms, 160 mm motor-to-motor...",
}


def scad_params(code: str) -> dict[str, float]:
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\w+) = ([\d.]+);", code, re.MULTILINE)}


@pytest.mark.parametrize(
    ("text", "model_type"),
    [
        ("Design a small quadcopter frame", "drone"),
        ("I need a lightweight drone", "drone"),
        ("an enclosure for a raspberry pi", "enclosure"),
        ("a project box", "enclosure"),
        ("an L-bracket for a shelf", "bracket"),
        ("a mounting plate with holes", "plate"),
        ("a vase", None),
    ],
)
def test_model_types(text: str, model_type: str | None) -> None:
    assert read([text]).model_type == model_type


@pytest.mark.parametrize(
    ("text", "dimensions"),
    [
        ("160 mm motor-to-motor, 3 mm thick", {"motor_to_motor": 160, "thickness": 3}),
        ("a 100x60x40 mm box", {"length": 100, "width": 60, "height": 40}),
        ("12 cm long, 8cm wide", {"length": 120, "width": 80}),
        ("thickness of 4 mm, width: 30 mm", {"thickness": 4, "width": 30}),
        ("2 mm walls and 5 mm holes", {"wall_thickness": 2, "hole_diameter": 5}),
        ("5 inch props", {"prop_diameter": 127}),
        ("M3 screws", {"hole_diameter": 3.2}),
        ("stack 20x20 mm", {"stack": 20}),
        ("a 160 mm quadcopter frame with 3 mm arms", {"motor_to_motor": 160, "arm_thickness": 3}),
        ("arms 12 mm wide", {"width": 12}),  # one number, read once
        ("a 300 x 300 x 5 mm plate", {"length": 300, "width": 300, "height": 5}),
        ("a 250mm drone", {"motor_to_motor": 250}),
        ("a cube", {}),
    ],
)
def test_dimensions_in_millimetres(text: str, dimensions: dict[str, float]) -> None:
    assert read([text]).dimensions_mm == dimensions


def test_counts_and_components() -> None:
    reading = read(["four arms, 4 motors, six 5 mm holes and a 20x20 mm stack flight controller"])
    assert reading.counts == {"arms": 4, "motors": 4, "holes": 6}
    assert {"name": "Flight controller", "search_term": "stack 20x20 mm"} in reading.components
    assert {"name": "Brushless motor", "search_term": "brushless motor"} in reading.components
    assert read(["3 mm thick arms, 160 mm motor-to-motor"]).counts == {}
    assert read(["160 mm motor-to-motor"]).components == []


def test_the_newest_words_win() -> None:
    reading = read(["a drone 3 mm thick", "no, an enclosure 5 mm thick"])
    assert (reading.model_type, reading.dimensions_mm) == ("enclosure", {"thickness": 5})


def test_requirements_have_the_seed_shape() -> None:
    job = JobInput.create(
        "process_requirements",
        "Design a small quadcopter frame, 160 mm motor-to-motor, 3 mm thick arms",
        [
            {"role": "user", "content": "I need a lightweight drone"},
            {"role": "assistant", "content": "An enclosure?"},
        ],
    )
    output = execute(job)
    req = output["requirements_json"]
    assert set(SEED_REQUIREMENTS) <= set(req)
    assert req["model_type"] == "drone"
    assert req["dimensions_mm"] == {"motor_to_motor": 160, "arm_thickness": 3}
    assert "enclosure" not in req["custom_description"].lower()  # the user's words only
    message = output_to_message(output)
    assert "not AI" in message.content
    assert '"3 mm thick arms" as arm thickness 3 mm' in message.content
    assert message.metadata_json == {"requirements_json": req}
    assert execute(job) == output  # deterministic


def test_seed_requirements_make_a_quadcopter_with_their_numbers() -> None:
    output = execute(
        JobInput.create("process_scad", "Generate SCAD", requirements_json=SEED_REQUIREMENTS)
    )
    assert output["model_type"] == "drone"
    params = scad_params(output["scad_code"])
    assert params["motor_to_motor"] == 160
    assert params["arm_thickness"] == 3
    assert params["stack_spacing"] == 20
    assert params["arm_count"] == 4
    assert output_to_message(output).content == output["scad_code"]


@pytest.mark.parametrize(
    ("req", "model_type", "expected"),
    [
        ({"model_type": "box", "dimensions_mm": {"length": 80}}, "enclosure", {"length": 80}),
        ({"model_type": "bracket", "custom_description": "60 mm legs"}, "bracket", {"leg_a": 60}),
        ({"model_type": "plate", "counts": {"holes": 6}}, "plate", {"hole_columns": 3}),
        ({"model_type": "plate", "dimensions_mm": {"thickness": 1e9}}, "plate", {"thickness": 50}),
    ],
)  # fmt: skip
def test_generate_scad_fills_the_template(
    req: dict[str, Any], model_type: str, expected: dict[str, float]
) -> None:
    output = execute(JobInput.create("generate_scad", requirements_json=req))
    assert output["model_type"] == model_type
    params = scad_params(output["scad_code"])
    assert {k: params[k] for k in expected} == expected
    assert "not AI" in output["scad_code"]


def test_generate_scad_without_requirements_reads_the_chat() -> None:
    job = JobInput.create(
        "generate_scad", "make it", [{"role": "user", "content": "an L bracket 40 mm wide"}]
    )
    output = execute(job)
    assert (output["model_type"], output["parameters"]["width"]) == ("bracket", 40)


def test_health_action_lists_the_model_types() -> None:
    output = execute(JobInput.create("health"))
    assert output["model_types"] == list(MODEL_TYPES)
