"""The core's QA rules, on mesh facts written by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forge_core.errors import InvalidInput
from forge_core.ports import MeshFacts
from forge_core.qa import (
    DEFAULT_BUILD_VOLUME,
    MOTOR_MOUNT_MM,
    kind_of,
    parse_build_volume,
    qa_report,
)


def facts(size: tuple[float, float, float] = (100, 60, 40), **changes: Any) -> MeshFacts:
    values: dict[str, Any] = {
        "triangles": 500,
        "watertight": True,
        "winding_consistent": True,
        "volume": 1000.0,
        "bodies": 1,
        "bbox_min": (-10.0, -10.0, 0.0),
        "bbox_max": (size[0] - 10, size[1] - 10, size[2]),
    }
    return MeshFacts(**(values | changes))


def test_a_sound_mesh_passes_with_its_measures() -> None:
    report = qa_report(facts())
    assert report.passed and report.failures == () and report.warnings == ()
    assert report.size_mm == (100, 60, 40) and report.volume_mm3 == 1000
    assert [c.name for c in report.checks] == [
        "not_empty", "volume", "watertight", "winding", "build_volume",
    ]  # fmt: skip


def test_the_report_is_json() -> None:
    report = qa_report(facts(), requirements={"dimensions_mm": {"length": 120}})
    data = json.loads(json.dumps(report.to_json()))
    assert data["passed"] is True
    assert data["warnings"] == [report.warnings[0]]
    assert data["size_mm"] == [100, 60, 40] and data["build_volume_mm"] == [256, 256, 256]
    assert {"name": "dimension:length", "ok": False, "hard": False} | {
        "detail": report.warnings[0]
    } in data["checks"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"triangles": 0, "volume": 0.0}, "the mesh is empty"),
        ({"volume": -5.0}, "the mesh encloses no volume (-5.0 mm³)"),
        ({"watertight": False}, "not watertight: the mesh has holes or edges shared by more"),
        ({"winding_consistent": False}, "faces inconsistently wound"),
    ],
)
def test_an_unsound_mesh_fails(changes: dict[str, Any], reason: str) -> None:
    report = qa_report(facts(**changes))
    assert not report.passed
    assert any(failure.startswith(reason) for failure in report.failures), report.failures


def test_an_empty_mesh_gets_no_dimension_checks() -> None:
    empty = facts((0, 0, 0), triangles=0, volume=0.0, bbox_min=(0, 0, 0), bbox_max=(0, 0, 0))
    report = qa_report(empty, requirements={"dimensions_mm": {"length": 10}})
    assert not any(c.name.startswith("dimension") for c in report.checks)


def test_too_large_names_the_axes() -> None:
    report = qa_report(facts((300, 60, 400)), build_volume=(256, 256, 256))
    assert report.failures == (
        "300 x 60 x 400 mm does not fit the 256 x 256 x 256 mm build volume (too large in x, z)",
    )


sizes = st.floats(min_value=0.01, max_value=2000, allow_nan=False)


@given(st.tuples(sizes, sizes, sizes), st.tuples(sizes, sizes, sizes))
def test_the_build_volume_check_is_a_per_axis_comparison(
    size: tuple[float, float, float], volume: tuple[float, float, float]
) -> None:
    shape = tuple(round(v, 3) for v in size)
    report = qa_report(facts(size, bbox_min=(0, 0, 0), bbox_max=shape), build_volume=volume)
    fits = all(s <= v for s, v in zip(shape, volume, strict=True))
    assert report.passed is fits


@given(st.floats(min_value=1, max_value=1000), st.floats(min_value=-0.3, max_value=0.3))
def test_a_size_warns_exactly_when_off_by_more_than_the_tolerance(
    wanted: float, off: float
) -> None:
    measured = round(wanted * (1 + off), 3)
    report = qa_report(
        facts((measured, 50, 50), bbox_min=(0, 0, 0), bbox_max=(measured, 50, 50)),
        build_volume=(2000, 2000, 2000),
        requirements={"model_type": "enclosure", "dimensions_mm": {"length": wanted}},
    )
    tolerance = max(0.05 * wanted, 2.0)
    assert report.passed  # a size is never a hard failure
    assert bool(report.warnings) is (abs(measured - wanted) > tolerance)


def test_sizes_are_measured_on_the_main_body() -> None:
    box_and_lid = facts((100, 130, 40), main_body_size=(100.0, 60.0, 40.0), bodies=2)
    asked = {"length": 100, "width": 60, "height": 40}
    report = qa_report(box_and_lid, requirements={"model_type": "box", "dimensions_mm": asked})
    assert report.warnings == ()
    assert report.size_mm == (100, 130, 40)


def test_motor_to_motor_is_estimated_from_the_reach() -> None:
    frame = facts((138, 138, 3), reach_xy=(160 + MOTOR_MOUNT_MM) / 2)
    asked = {"motor_to_motor": 160, "thickness": 3, "width": 12}  # width: an arm's, unchecked
    report = qa_report(frame, requirements={"model_type": "quadcopter", "dimensions_mm": asked})
    assert report.warnings == ()
    assert [c.name for c in report.checks if not c.hard] == [
        "dimension:motor_to_motor", "dimension:thickness",
    ]  # fmt: skip
    arms = {"arm_thickness": 8}  # "8 mm arms": the frame is one plate, as thick as its arms
    thin = qa_report(frame, requirements={"model_type": "drone", "dimensions_mm": arms})
    assert [w.split(":")[0] for w in thin.warnings] == ["arm_thickness"]
    short = qa_report(
        facts((138, 138, 3), reach_xy=60),
        requirements={"model_type": "drone", "dimensions_mm": asked},
    )
    assert short.warnings == (
        "motor_to_motor: asked 160 mm, measured 95 mm (twice the horizontal reach from the "
        "centre of mass, less a 25 mm motor mount; tolerance ±16 mm)",
    )


@pytest.mark.parametrize(
    "dimensions",
    [None, "160 mm", ["length", 3], {"length": "100"}, {"length": True}, {"length": -4},
     {"length": float("nan")}, {"wall_thickness": 1, "diameter": 3}],
)  # fmt: skip
def test_sizes_it_cannot_use_are_not_checked(dimensions: object) -> None:
    report = qa_report(facts(), requirements={"dimensions_mm": dimensions})
    assert not any(c.name.startswith("dimension") for c in report.checks)


@pytest.mark.parametrize(
    ("model_type", "kind"),
    [("quadcopter", "drone"), ("FPV drone", "drone"), ("mounting plate", "plate"),
     ("L bracket", "bracket"), ("box", "other"), (None, "other"), (42, "other")],
)  # fmt: skip
def test_kinds_of_model(model_type: object, kind: str) -> None:
    assert kind_of(model_type) == kind


@pytest.mark.parametrize(
    ("text", "size"),
    [("256x256x256", DEFAULT_BUILD_VOLUME), ("220 x 220 x 250", (220, 220, 250)),
     ("180X180X180.5", (180, 180, 180.5))],
)  # fmt: skip
def test_build_volume_settings_parse(text: str, size: tuple[float, float, float]) -> None:
    assert parse_build_volume(text) == size


@pytest.mark.parametrize("text", ["", "256", "256x256", "256x256x256x1", "axbxc", "0x10x10",
                                  "-5x10x10", "infx1x1", "nanx1x1"])  # fmt: skip
def test_bad_build_volume_settings_are_named(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_build_volume(text)
    assert caught.value.field == "FORGE_BUILD_VOLUME"
    assert "like 256x256x256" in caught.value.detail


def test_the_renderers_warnings_are_soft_checks() -> None:
    said = ("WARNING: Ignoring unknown module 'motor_mount' in file model.scad, line 7",)
    report = qa_report(facts(), render_warnings=said)
    assert report.passed and report.warnings == said
    (render,) = (c for c in report.checks if c.name == "render")
    assert render.hard is False and render.ok is False
    assert report.to_json()["warnings"] == list(said)


def test_a_flood_of_renderer_warnings_is_shown_in_part_and_counted() -> None:
    said = [f"WARNING: Ignoring unknown variable 'v{n}', line {n}" for n in range(25)]
    warnings = qa_report(facts(), render_warnings=said).warnings
    assert warnings == (*said[:10], "and 15 more renderer warnings")
