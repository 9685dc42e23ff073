"""Parameters read from SCAD with the real parser, by the Customizer's rules, and the
rewrite that makes a variant (only the named assignments change)."""

from __future__ import annotations

from typing import Any

import pytest

from forge_adapters.scad_parser import LalrScadParser
from forge_core.errors import InvalidInput
from forge_core.parameters import Option, Parameter, check_values, parameters, rewrite

SCAD = """// A test model.

/* [Size] */
// how long it is
length = 60; // [20:1000]
// how thick
thickness = 2.5; // [0.5:0.5:10]
count = 3; // [1:1:8]
width = 40;
offset = -4;
ratio = 0.25;
size = [10, 20, -3]; // [0:50]

/* [Look] */
// which shape
shape = "round"; // [round:Round, square:Square]
holes = 6; // [4, 6, 8]
label = "AB"; // [5]
solid = true;
name = "free";
computed = length * 2;
part = "all";
$fn = 32;

/* [Hidden] */
secret = 7;
"""
TAIL = """
module body() { cube([length, width, thickness]); }
after = 5;
body();
"""


def read(source: str) -> dict[str, Parameter]:
    return {p.name: p for p in parameters(LalrScadParser().header(source))}


def test_the_customizer_rules() -> None:
    found = read(SCAD + TAIL)
    assert list(found) == ["length", "thickness", "count", "width", "offset", "ratio",
                           "size", "shape", "holes", "label", "solid", "name"]  # fmt: skip
    length = found["length"]
    assert (length.type, length.value, length.min, length.max, length.step) == (
        "number", 60, 20, 1000, None)  # fmt: skip
    assert (length.group, length.description, length.derived_range) == (
        "Size", "how long it is", False)  # fmt: skip
    assert (found["thickness"].min, found["thickness"].step, found["thickness"].max) == (
        0.5,
        0.5,
        10,
    )
    assert found["count"].description is None  # the line above is code, not a comment
    assert (found["size"].type, found["size"].value, found["size"].max) == (
        "vector",
        (10, 20, -3),
        50,
    )
    assert found["shape"].options == (Option("round", "Round"), Option("square", "Square"))
    assert found["shape"].group == "Look"
    assert found["holes"].options == (Option(6.0 - 2, "4"), Option(6, "6"), Option(8, "8"))
    assert (found["label"].type, found["label"].max_length) == ("string", 5)
    assert (found["solid"].type, found["name"].options) == ("boolean", None)


def test_a_range_missing_is_derived_from_the_default_and_says_so() -> None:
    found = read(SCAD)
    assert (found["width"].min, found["width"].max, found["width"].step) == (0, 160, 1)
    assert found["width"].derived_range
    assert (found["offset"].min, found["offset"].max) == (-16, 16)
    assert (found["ratio"].min, found["ratio"].max, found["ratio"].step) == (0, 1, None)


def test_a_name_assigned_again_later_is_not_a_parameter() -> None:
    assert "length" not in read(SCAD + "length = 70;\n")
    assert "after" not in read(SCAD + TAIL)  # past the first module


def test_source_that_does_not_parse_is_invalid_input_with_its_line() -> None:
    with pytest.raises(InvalidInput) as caught:
        LalrScadParser().header("a = 1;\ncube(;\n")
    assert caught.value.field == "scad_code"
    assert "line 2, column 6" in caught.value.detail


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"lenght": 50}, "parameters.lenght", "no such parameter"),
        ({"length": "50"}, "parameters.length", "must be a number"),
        ({"length": True}, "parameters.length", "must be a number"),
        ({"length": 19.9}, "parameters.length", "between 20 and 1000"),
        ({"length": 1001}, "parameters.length", "between 20 and 1000"),
        ({"thickness": 1.2}, "parameters.thickness", "multiple of 0.5"),
        ({"shape": "oval"}, "parameters.shape", "one of: round, square"),
        ({"holes": 5}, "parameters.holes", "one of: 4, 6, 8"),
        ({"label": "ABCDEF"}, "parameters.label", "at most 5"),
        ({"solid": 1}, "parameters.solid", "true or false"),
        ({"size": [1, 2]}, "parameters.size", "list of 3 numbers"),
        ({"size": [1, 2, 60]}, "parameters.size", "between 0 and 50"),
        ({"name": 3}, "parameters.name", "must be a string"),
        ({}, "parameters", "at least one"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(
    values: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_values(list(read(SCAD).values()), values)
    assert caught.value.field == field
    assert words in caught.value.detail


def test_a_derived_range_is_not_enforced() -> None:
    assert check_values(list(read(SCAD).values()), {"width": 500}) == {"width": 500}


def test_the_rewrite_changes_only_the_named_assignments() -> None:
    source = SCAD + TAIL
    found = list(read(source).values())
    values = check_values(found, {"length": 75.5, "shape": 'square', "size": [1, 2, 3],
                                  "solid": False, "name": 'say "hi"\\'})  # fmt: skip
    changed = rewrite(source, found, values)
    pairs = list(zip(source.splitlines(), changed.splitlines(), strict=True))
    assert [new for old, new in pairs if old != new] == [
        "length = 75.5; // [20:1000]",
        "size = [1, 2, 3]; // [0:50]",
        'shape = "square"; // [round:Round, square:Square]',
        "solid = false;",
        'name = "say \\"hi\\"\\\\";',
    ]
    again = read(changed)
    assert (again["length"].value, again["name"].value) == (75.5, 'say "hi"\\')


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("a = " + "(" * 5000 + "1" + ")" * 5000 + ";", "nested too deeply"),
        ("a = " + "-" * 3000 + "1;", "nested too deeply"),
        ("\x00", "syntax error at line 1, column 1"),
    ],
)
def test_hostile_source_is_invalid_input_not_a_crash(source: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        LalrScadParser().header(source)
    assert words in caught.value.detail and not caught.value.detail.endswith(":")


def test_a_number_past_a_float_is_not_a_parameter() -> None:
    assert list(read("huge = 1e400;\nsmall = -2;\n")) == ["small"]
