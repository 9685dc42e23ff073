from forge_core.scad_source import scad_from_output, scad_from_text


def test_an_object_s_source_key_is_taken_as_given() -> None:
    assert scad_from_output({"scad_code": "cube(1);", "content": "x"}) == "cube(1);"
    assert scad_from_output({"code": "sphere(2);"}) == "sphere(2);"


def test_a_blank_source_key_falls_back_to_the_text() -> None:
    output = {"scad_code": "  ", "content": "```scad\ncube(3);\n```"}
    assert scad_from_output(output) == "cube(3);\n"


def test_the_first_fenced_block_is_the_source() -> None:
    text = "Here you go:\n```openscad\nw = 3;\ncube(w);\n```\nand\n```\nsphere(1);\n```"
    assert scad_from_text(text) == "w = 3;\ncube(w);\n"


def test_bare_scad_text_is_the_source() -> None:
    assert scad_from_output("// a plate\ncube([10, 10, 2]);") == "// a plate\ncube([10, 10, 2]);"
    assert scad_from_output({"response": "size = 4;\ncube(size);"}) == "size = 4;\ncube(size);"


def test_prose_and_other_outputs_give_nothing() -> None:
    assert scad_from_output("I could not design that, sorry.") is None
    assert scad_from_output({"status": "success"}) is None
    assert scad_from_output(["cube(1);"]) is None
    assert scad_from_output(None) is None
    assert scad_from_text("```scad\n\n```") is None
