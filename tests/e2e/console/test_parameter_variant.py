"""A parameter slider makes a variant: moving the frame's motor-to-motor slider from 160
to 200 mm posts a variant of the job, and the viewer shows the new, larger part."""

from __future__ import annotations

import re

import pytest

from tests.e2e.console.pages import Console, is_background, share

pytestmark = pytest.mark.e2e


def measured(console: Console) -> list[float]:
    text = console.page.inner_text("#model-size")
    return [float(x) for x in re.findall(r"([\d.]+) mm", text)]


def test_a_slider_change_shows_a_variant(console: Console) -> None:
    console.open()
    console.register()
    console.prompt("a 160 mm quadcopter frame")
    assert console.wait_until_done() == "completed"
    first = console.loaded_job()
    slider = console.page.locator("#param-motor_to_motor")
    assert slider.get_attribute("type") == "range"
    assert slider.input_value() == "160"
    assert (slider.get_attribute("min"), slider.get_attribute("max")) == ("80", "1000")
    before = measured(console)
    console.page.locator("#parameters").scroll_into_view_if_needed()
    console.screenshot("console-parameters.png")

    slider.fill("200")
    console.page.wait_for_selector(f"#viewer[data-loaded]:not([data-loaded='{first}'])")
    second = console.loaded_job()
    assert console.page.inner_text("#progress-state") == "completed"
    assert console.page.locator("#param-motor_to_motor").input_value() == "200"
    after = measured(console)
    assert after[0] > before[0] + 25, (before, after)  # 40 mm more from motor to motor
    assert after[2] == before[2]  # the same thickness
    assert 1 - share(console.canvas(), is_background, (0.3, 0.3, 0.7, 0.7)) > 0.05
    assert second != first
    console.assert_clean()
