"""The template backend's SCAD carries Customizer annotations: every parameter it sets
has a declared range equal to the one the backend clamps to, a group and a description,
and writing a model changes only the parameter assignments of the template file."""

from __future__ import annotations

from importlib.resources import files

import pytest

from forge_adapters.scad_parser import LalrScadParser
from forge_adapters.template_backend import execute
from forge_adapters.template_backend.scad import TEMPLATES
from forge_core.inference import JobInput
from forge_core.parameters import parameters


def template_file(name: str) -> str:
    folder = files("forge_adapters.template_backend").joinpath("templates")
    return folder.joinpath(name).read_text("utf-8")


@pytest.mark.parametrize("model_type", list(TEMPLATES))
def test_each_template_parameter_declares_the_range_the_backend_clamps_to(
    model_type: str,
) -> None:
    template = TEMPLATES[model_type]
    found = {p.name: p for p in parameters(LalrScadParser().header(template_file(template.file)))}
    for param in template.params:
        if (model_type, param.name) == ("plate", "hole_count"):
            continue  # written as hole_rows and hole_columns, declared 0..24 each
        declared = found[param.name]
        assert (declared.min, declared.max) == (param.low, param.high), param.name
        assert declared.step == (1 if param.integer else 0.1)
        assert not declared.derived_range
        assert declared.group and declared.description
    assert all(not p.derived_range for p in found.values())
    assert "part" not in found and "$fn" not in found  # the pipeline's, and hidden


@pytest.mark.parametrize("model_type", list(TEMPLATES))
def test_a_written_model_differs_from_its_template_only_in_parameter_values(
    model_type: str,
) -> None:
    requirements = {"model_type": model_type, "dimensions_mm": {"length": 77, "width": 55}}
    scad = execute(JobInput.create("generate_scad", requirements_json=requirements))["scad_code"]
    body = template_file(TEMPLATES[model_type].file)
    written = scad.splitlines()[-len(body.splitlines()) :]
    names = {p.name for p in parameters(LalrScadParser().header(body))}
    for old, new in zip(body.splitlines(), written, strict=True):
        if old != new:
            assert old.split(" = ")[0] in names
            assert old.split("; //")[1] == new.split("; //")[1]  # the annotation is kept
    found = {p.name: p.value for p in parameters(LalrScadParser().header(scad))}
    if "length" in found and model_type != "bracket":
        assert found["length"] == 77
