"""The catalog's words: one token for each way people write a size or model."""

from __future__ import annotations

import pytest

from forge_core.catalog_text import is_key_term, terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20x20", ["20x20"]),
        ("20 x 20 mm", ["20x20"]),
        ("20mm x 20mm", ["20x20"]),
        ("20*20mm", ["20x20"]),
        ("20\u00d720", ["20x20"]),
        ("30.5x30.5", ["30p5x30p5"]),
        ("30,5 x 30,5", ["30p5x30p5"]),
        ('5"', ["5inch"]),
        ("5 inch", ["5inch"]),
        ("5-inch", ["5inch"]),
        ("5in", ["5inch"]),
        ("2.5 inches", ["2p5inch"]),
        ("M3", ["m3"]),
        ("m3x10", ["m3"]),
        ("M2.5 x 6", ["m2p5"]),
        ("NEMA 17", ["nema17"]),
        ("nema-17", ["nema17"]),
        ("Pi 4", ["pi4"]),
        ("SG 90", ["sg90"]),
        ("608ZZ", ["608"]),
        ("608-2RS", ["608"]),
        ("USB-C", ["usbc"]),
        ("USB type C", ["usbc"]),
        ("micro USB", ["microusb"]),
        ("2306 motors", ["2306", "motor"]),
        ("30 mm tall", ["30mm", "tall"]),
        ("20x20 mm", ["20x20"]),
        ("bearings", ["bearing"]),
        ("a frame for the stack", ["frame", "stack"]),
    ],
)
def test_each_spelling_becomes_one_word(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_a_number_inside_a_word_is_not_split() -> None:
    assert terms("prop-2p5inch") == ["prop", "2p5inch"]
    assert terms("fits 5 in a row") == ["fit", "5", "row"]


def test_key_terms_name_a_size_or_model() -> None:
    assert [t for t in terms("quad frame 20x20 stack 2306 motor m3 usb-c") if is_key_term(t)] == [
        "20x20",
        "2306",
        "m3",
        "usbc",
    ]
