"""The parts convention: ``// forge:parts a, b`` plus a top-level ``part`` variable."""

from __future__ import annotations

import pytest

from forge_adapters.template_backend import MODEL_TYPES, execute
from forge_core.inference import JobInput
from forge_core.parts import MAX_PARTS, part_names

NAMED = '// forge:parts plate, arms\npart = "all";\ncube(1);\n'


def test_names_are_read_in_order() -> None:
    assert part_names(NAMED) == ("plate", "arms")


@pytest.mark.parametrize(
    "scad",
    [
        "cube(1);",
        "// forge:parts plate, arms\ncube(1);",  # no part variable to set
        'part = "all";\ncube(1);',  # no names
        '/* forge:parts a */ part = "all";',  # only the line comment counts
    ],
)
def test_a_model_without_the_convention_has_no_parts(scad: str) -> None:
    assert part_names(scad) == ()


def test_bad_repeated_and_reserved_names_are_left_out() -> None:
    scad = '//forge:parts a, a, all, 9x, b-c, "d", e_1\npart = "all";'
    assert part_names(scad) == ("a", "e_1")


def test_the_number_of_parts_is_capped() -> None:
    names = ", ".join(f"p{i}" for i in range(MAX_PARTS + 5))
    assert len(part_names(f'// forge:parts {names}\npart = "all";')) == MAX_PARTS


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_every_template_model_names_its_parts(model_type: str) -> None:
    output = execute(JobInput.create("generate_scad", requirements_json={"model_type": model_type}))
    names = part_names(output["scad_code"])
    assert names
    for name in names:
        assert f'part == "{name}"' in output["scad_code"]
