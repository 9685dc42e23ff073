"""QA finds a retrieved part's hole pattern among a mesh's holes, turned, moved or
mirrored, and says so when it is not there."""

from __future__ import annotations

import math

from forge_core.qa_holes import hole_pattern_checks

STACK = {
    "id": "fc-stack-20x20",
    "name": "20x20 stack",
    "hole_patterns": [
        {
            "name": "stack",
            "hole_diameter": 2.2,
            "positions": [[-10, -10], [10, -10], [10, 10], [-10, 10]],
        }
    ],
}
UNO = {
    "id": "uno",
    "name": "Uno",
    "hole_patterns": [
        {"name": "mounting", "hole_diameter": 3.2,
         "positions": [[-20.33, -24.11], [-19.06, 24.15], [31.74, -19.03], [31.74, 8.91]]}
    ],
}  # fmt: skip


def turned(points: list[tuple[float, float]], angle: float, dx: float, dy: float, d: float):
    c, s = math.cos(angle), math.sin(angle)
    return [(x * c - y * s + dx, x * s + y * c + dy, d) for x, y in points]


def check(holes, part):  # type: ignore[no-untyped-def]
    [(name, ok, detail)] = hole_pattern_checks(holes, {"components": [part]})
    return name, ok, detail


def test_a_square_is_found_turned_and_moved_among_other_holes() -> None:
    square = [(-10, -10), (10, -10), (10, 10), (-10, 10)]
    holes = [*turned(square, 0.3, 40, -7, 2.21), (0, 0, 2.2), (55, 5, 3.2)]
    name, ok, detail = check(holes, STACK)
    assert (name, ok) == ("holes:fc-stack-20x20:stack", True) and "found" in detail


def test_the_wrong_spacing_or_diameter_is_not_found() -> None:
    square = [(-15.25, -15.25), (15.25, -15.25), (15.25, 15.25), (-15.25, 15.25)]
    assert check(turned(square, 0, 0, 0, 2.2), STACK)[1] is False
    small = [(-10, -10), (10, -10), (10, 10), (-10, 10)]
    _, ok, detail = check(turned(small, 0, 0, 0, 3.2), STACK)
    assert not ok and "0 holes of that size" in detail


def test_an_irregular_pattern_is_found_mirrored_but_not_distorted() -> None:
    points = [(x, y) for x, y in UNO["hole_patterns"][0]["positions"]]  # type: ignore[index]
    mirrored = [(-x, y) for x, y in points]
    assert check(turned(mirrored, 1.0, 5, 5, 3.2), UNO)[1] is True
    bent = [*points[:3], (points[3][0] + 1.0, points[3][1])]
    assert check(turned(bent, 0, 0, 0, 3.2), UNO)[1] is False


def test_parts_without_patterns_or_components_give_no_check() -> None:
    assert hole_pattern_checks([], {"components": [{"id": "prop", "hole_patterns": []}]}) == []
    assert hole_pattern_checks([], {}) == []
    assert hole_pattern_checks([], {"components": "nonsense"}) == []
