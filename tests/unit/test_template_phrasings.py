"""The template backend reads each phrasing honestly: what every number was read as,
what was clamped, what was ignored, and the parameters the SCAD gets; a request no
template covers is refused in words, with no SCAD."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from forge_adapters.template_backend import execute
from forge_core.inference import JobInput, output_to_message
from forge_core.scad_source import scad_from_output


@dataclass(frozen=True)
class Case:
    words: str
    model_type: str | None
    params: dict[str, float] = field(default_factory=dict)
    read: dict[str, str] = field(default_factory=dict)  # the words -> what they were read as
    clamped: frozenset[str] = frozenset()  # parameters
    ignored: frozenset[str] = frozenset()  # the words
    history: tuple[str, ...] = ()


def c(words: str, model_type: str | None, params: dict[str, float] | None = None, *,
      read: dict[str, str] | None = None, clamped: tuple[str, ...] = (),
      ignored: tuple[str, ...] = (), history: tuple[str, ...] = ()) -> Case:  # fmt: skip
    return Case(words, model_type, params or {}, read or {}, frozenset(clamped),
                frozenset(ignored), history)  # fmt: skip


CASES = [
    # quadcopter frames
    c("a 160 mm quadcopter frame with 3 mm arms", "drone",
      {"motor_to_motor": 160, "arm_thickness": 3, "arm_width": 12},
      read={"160 mm quadcopter": "motor-to-motor distance", "3 mm arms": "arm thickness"}),
    c("a 250mm drone with 4 mm thick arms", "drone", {"motor_to_motor": 250, "arm_thickness": 4},
      read={"4 mm thick arms": "arm thickness"}),
    c("a quadcopter, 220 mm motor-to-motor, arms 20 mm wide", "drone",
      {"motor_to_motor": 220, "arm_width": 20}, read={"20 mm wide": "width"}),
    c("a drone frame 5 mm thick", "drone", {"arm_thickness": 5}, read={"5 mm thick": "thickness"}),
    c("a drone with 1 mm arms", "drone", {"arm_thickness": 1.5}, clamped=("arm_thickness",)),
    c("a 2000 mm quadcopter", "drone", {"motor_to_motor": 1000}, clamped=("motor_to_motor",)),
    c("a quad with 10 arms", "drone", {"arm_count": 8}, clamped=("arm_count",),
      read={"10 arms": "number of arms"}),
    c("a hexacopter drone with six arms", "drone", {"arm_count": 6}),
    c("a quadcopter frame for a 20x20 mm stack", "drone", {"stack_spacing": 20},
      read={"20x20 mm stack": "flight-controller stack spacing"}),
    c("a drone with M2 motor screws", "drone", {"motor_hole_diameter": 2.2}),
    c("a drone for 5 inch props", "drone", {"motor_to_motor": 160}, ignored=("5 inch props",)),
    c("a 180 mm drone with 42 blinkenlights", "drone", {"motor_to_motor": 180},
      ignored=("42 blinkenlights",)),
    # plates
    c("a 300 x 300 x 5 mm plate", "plate", {"length": 300, "width": 300, "thickness": 5},
      read={"300 x 300 x 5 mm": "height"}),
    c("a plate 5 mm thick", "plate", {"thickness": 5}, read={"5 mm thick": "thickness"}),
    c("a 6 mm thick plate, 200 x 100 mm", "plate", {"length": 200, "width": 100, "thickness": 6}),
    c("a 300mm x 200mm x 6mm mounting plate", "plate",
      {"length": 300, "width": 200, "thickness": 6}),
    c("a 12 by 8 cm panel, 3 mm thick", "plate", {"length": 120, "width": 80, "thickness": 3}),
    c("plate: thickness of 2.5 mm, length: 90 mm, width: 60 mm", "plate",
      {"length": 90, "width": 60, "thickness": 2.5}),
    c("a 0.5 m long plate", "plate", {"length": 500}),
    c("a plate 2 m long", "plate", {"length": 1000}, clamped=("length",)),
    c("a plate with 8 holes of 6 mm", "plate", {"hole_diameter": 6, "hole_columns": 4}),
    c("a 20 x 20 mm plate with 10 mm holes", "plate", {"hole_diameter": 5},
      clamped=("hole_diameter",)),
    c("a plate 3 mm thick", "plate", {"thickness": 3}, history=("a plate 3 mm thick",)),
    c("no, make the plate 4 mm thick", "plate", {"thickness": 4},
      history=("a plate 3 mm thick",), ignored=("3 mm thick",)),
    # enclosures
    c("an enclosure 100x60x40 mm", "enclosure", {"length": 100, "width": 60, "height": 40}),
    c("a project box 12 cm long, 8 cm wide, 5 cm deep", "enclosure",
      {"length": 120, "width": 80, "height": 50}, read={"5 cm deep": "depth"}),
    c("an enclosure with 3 mm walls", "enclosure", {"wall_thickness": 3},
      read={"3 mm walls": "wall thickness"}),
    c("a box 30x30x20 mm with 8 mm walls", "enclosure", {"wall_thickness": 5},
      clamped=("wall_thickness",)),
    c("an enclosure 4 inches long", "enclosure", {"length": 101.6}),
    c("an enclosure with six 4 mm holes", "enclosure", {"hole_count": 6, "hole_diameter": 4}),
    c("a case, 2 mm thick", "enclosure", {"wall_thickness": 2}),
    # L brackets
    c("an L bracket 40 mm wide", "bracket", {"width": 40}),
    c("an L bracket with 60 mm legs, 4 mm thick", "bracket",
      {"leg_a": 60, "leg_b": 60, "thickness": 4}, read={"60 mm legs": "leg length"}),
    c("an angle bracket 80 mm long and 50 mm high", "bracket", {"leg_a": 80, "leg_b": 50}),
    c("a bracket with 20 mm legs, 10 mm thick", "bracket", {"thickness": 6.67},
      clamped=("thickness", "hole_diameter")),
    c("a bracket with 3 holes and M5 screws", "bracket",
      {"holes_per_leg": 3, "hole_diameter": 5.2}),
    c("a bracket, 5 inch props", "bracket", {"leg_a": 50}, ignored=("5 inch props",)),
    # nothing a template covers
    c("a phone stand", None),
    c("a vase 20 cm tall", None),
    c("Design a 10 cm phone stand with a 10 mm lip", None),
]  # fmt: skip


def requirements(case: Case) -> dict[str, Any]:
    history = [{"role": "user", "content": words} for words in case.history]
    return execute(JobInput.create("process_requirements", case.words, history))


def test_there_are_at_least_thirty_phrasings() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", [k for k in CASES if k.model_type], ids=lambda k: k.words)
def test_every_number_is_accounted_for(case: Case) -> None:
    answer = requirements(case)
    req = answer["requirements_json"]
    assert (answer["status"], req["model_type"]) == ("success", case.model_type)
    reading = req["reading"]
    read_as = {entry["text"]: entry["read_as"] for entry in reading["read_as"]}
    assert {k: read_as.get(k) for k in case.read} == case.read
    assert {entry["parameter"] for entry in reading["clamped"]} == case.clamped
    assert {entry["text"] for entry in reading["ignored"]} == case.ignored
    for entry in reading["clamped"]:
        assert entry["why"] and entry["asked"] != entry["used"]
    used = {e["text"] for e in reading["read_as"] if e.get("parameters")}
    assert used | case.ignored == {e["text"] for e in reading["read_as"]} | {
        e["text"] for e in reading["ignored"]
    }  # every number is either used or ignored, with a reason

    scad = execute(JobInput.create("generate_scad", "Generate SCAD", requirements_json=req))
    assert scad["model_type"] == case.model_type
    assert {k: scad["parameters"][k] for k in case.params} == case.params
    assert scad["reading"] == reading  # the same account, read again from the requirements


@pytest.mark.parametrize("case", [k for k in CASES if k.model_type], ids=lambda k: k.words)
def test_the_message_says_it_in_two_sentences(case: Case) -> None:
    message = output_to_message(requirements(case)).content
    assert "not AI" in message
    assert len(re.findall(r"[.!?](?:\s|$)", message)) <= 2, message
    reading = requirements(case)["requirements_json"]["reading"]
    for entry in reading["clamped"]:
        assert entry["parameter"].replace("_", " ") in message
    for entry in reading["ignored"]:
        assert f'ignored "{entry["text"]}"' in message.lower()


@pytest.mark.parametrize("case", [k for k in CASES if not k.model_type], ids=lambda k: k.words)
def test_a_request_no_template_covers_is_refused_in_words(case: Case) -> None:
    plain = (
        "The offline template backend has no model for {}; it makes quadcopter frames, "
        "enclosures, L brackets and plates."
    )
    thing = "a vase" if "vase" in case.words else "a phone stand"
    answer = requirements(case)
    assert answer["status"] == "unsupported"
    assert answer["requirements_json"]["model_type"] is None
    assert output_to_message(answer).content == plain.format(thing)

    from_req = JobInput.create(
        "generate_scad", "Generate SCAD", requirements_json=answer["requirements_json"]
    )
    said = [{"role": "user", "content": case.words}]
    from_chat = JobInput.create("generate_scad", "Generate SCAD", said)
    for job in (from_req, from_chat):
        output = execute(job)
        assert output["status"] == "unsupported"
        assert output_to_message(output).content == plain.format(thing)
        assert scad_from_output(output) is None  # so no 3D job is started from it


def test_a_model_type_no_template_covers_is_named() -> None:
    named = {"model_type": "Rocket"}
    job = JobInput.create("generate_scad", "Generate SCAD", requirements_json=named)
    assert execute(job)["content"].startswith(
        "The offline template backend has no model for a rocket;"
    )
