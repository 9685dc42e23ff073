"""The shipped catalog: what the issue asks for is there, each part with its source, and
spot checks of the numbers against the standards they cite."""

from __future__ import annotations

import math

import pytest

from forge_adapters.catalog import load_jsonl, shipped_components
from forge_core.errors import InvalidInput

PARTS = {c.id: c for c in shipped_components()}


def test_at_least_150_parts_each_with_a_source_and_a_unique_id() -> None:
    assert len(PARTS) == len(shipped_components()) >= 150
    assert all(len(c.source) > 10 and c.owner is None for c in PARTS.values())


@pytest.mark.parametrize(
    "part_id",
    [
        *(f"fc-stack-{s}" for s in ("16x16", "20x20", "25p5x25p5", "30p5x30p5")),
        *(f"motor-{s}" for s in ("1103", "1404", "2207", "2306", "2807")),
        *(f"screw-iso4762-m{d}" for d in ("2", "2p5", "3", "4", "5", "6", "8")),
        *(f"nut-iso4032-m{d}" for d in ("2", "2p5", "3", "4", "5", "6", "8")),
        *(f"bearing-{b}" for b in ("608", "623", "625", "688", "6000", "6005")),
        "servo-sg90", "servo-mg90s", "servo-mg996r",
        "stepper-nema14", "stepper-nema17", "stepper-nema23",
        "board-raspberry-pi-3b", "board-raspberry-pi-4b", "board-raspberry-pi-5",
        "board-raspberry-pi-zero", "board-raspberry-pi-pico",
        "board-arduino-uno-r3", "board-arduino-nano", "board-arduino-mega-2560",
        "cell-18650", "cell-21700", "connector-usb-c", "connector-micro-usb",
        "connector-barrel-5p5x2p1", "extrusion-2020", "extrusion-2040", "mount-gopro-3-prong",
        "insert-heatset-m3", "prop-5inch",
    ],
)  # fmt: skip
def test_the_parts_the_issue_names_are_shipped(part_id: str) -> None:
    assert part_id in PARTS


def test_numbers_match_the_standards_they_cite() -> None:
    m3 = PARTS["screw-iso4762-m3"].dimensions_mm
    assert (m3.head_diameter, m3.head_height, m3.clearance_hole, m3.tap_drill) == (5.5, 3, 3.4, 2.5)
    nut = PARTS["nut-iso4032-m3"].dimensions_mm
    assert (nut.across_flats, nut.height) == (5.5, 2.4)
    b608 = PARTS["bearing-608"].dimensions_mm
    assert (b608.inner_diameter, b608.outer_diameter, b608.thickness) == (8, 22, 7)
    assert PARTS["stepper-nema17"].hole_patterns[0].spacing == (31.0, 31.0)
    pi = PARTS["board-raspberry-pi-4b"]
    assert (pi.dimensions_mm.length, pi.dimensions_mm.width) == (85, 56)
    assert sorted(set(pi.hole_patterns[0].distances()))[:2] == [49.0, 58.0]
    assert PARTS["prop-5inch"].dimensions_mm.diameter == 127.0


def test_hole_patterns_match_their_spacing() -> None:
    for part in PARTS.values():
        for pattern in part.hole_patterns:
            if pattern.spacing is not None and len(pattern.positions) == 4:
                x, y = pattern.spacing
                assert pattern.distances()[-1] == pytest.approx(math.hypot(x, y)), part.id


def test_a_bad_line_is_refused_naming_the_line_and_field() -> None:
    good = '{"id": "a", "name": "A", "category": "nut", "source": "s"}'
    with pytest.raises(InvalidInput, match="line 2: category"):
        load_jsonl([good, '{"id": "b", "name": "B", "category": "?", "source": "s"}'])
    with pytest.raises(InvalidInput, match="line 2: id"):
        load_jsonl([good, good])
    with pytest.raises(InvalidInput, match="line 1"):
        load_jsonl(["{not json"])
