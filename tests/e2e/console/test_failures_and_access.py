"""The console when things go wrong, and for people who do not use a mouse or a wide
screen: a SCAD that does not render shows its reason; the sign-in, the prompt, the
parts and the 3D view are reachable by keyboard; a phone width scrolls only downwards."""

from __future__ import annotations

import pytest

from tests.e2e.console.pages import PASSWORD, Console, changed

pytestmark = pytest.mark.e2e
BROKEN_SCAD = "// a missing bracket\ncube([10, 10, 10);\n"
PHONE = {"width": 390, "height": 844}
TOO_LONG_SCAD = "cube([300, 10, 10]);  // longer than the 256 mm build volume\n"


def test_a_failing_scad_shows_its_reason(console: Console) -> None:
    console.open()
    console.register()
    console.page.click("#scad-panel summary")
    console.page.fill("#scad-source", BROKEN_SCAD)
    console.page.click("#scad-render")
    state = console.wait_until_done()
    assert state.startswith("failed: render failed"), state
    assert "line 2" in state, state
    status = console.page.locator("#viewer-status")
    assert status.get_attribute("data-state") == "failed"
    assert status.inner_text().startswith("Failed: render failed")
    failed_line = console.page.locator("#progress li.failed").last.inner_text()
    assert failed_line.startswith("Failed at render: ") and "line 2" in failed_line
    console.page.evaluate("() => document.getElementById('viewer').scrollTo(0, 0)")
    console.screenshot("console-failed.png")
    console.assert_clean()


def test_a_part_that_fails_qa_shows_the_failed_check(console: Console) -> None:
    console.open()
    console.register()
    console.page.click("#scad-panel summary")
    console.page.fill("#scad-source", TOO_LONG_SCAD)
    console.page.click("#scad-render")
    state = console.wait_until_done()
    assert state.startswith("failed: qa failed"), state
    assert console.page.inner_text("#qa-verdict") == "Failed"
    failed = console.page.locator("#qa-report tr.bad").all_inner_texts()
    assert len(failed) == 1 and "build_volume" in failed[0] and "✗ hard" in failed[0]
    assert console.page.locator("#qa-report tr.ok").count() >= 3  # the checks that passed
    console.assert_clean()


def test_everything_is_reachable_by_keyboard(console: Console) -> None:
    console.open()
    console.tab_to("#signin-toggle").press("Enter")
    console.tab_to("#signin-email").type("keys-" + console.unique() + "@example.com")
    console.tab_to("#signin-password").type(PASSWORD)
    console.page.keyboard.press("Enter")
    console.page.wait_for_selector("#app-view:not([hidden]) #chat-title:text-is('New chat')")
    console.tab_to("#prompt-send")
    console.tab_to("#prompt-text").type("a 160 mm quadcopter frame")
    console.page.keyboard.press("Enter")  # sends; Shift+Enter would start a new line
    assert console.wait_until_done() == "completed"
    console.loaded_job()
    console.tab_to("#part-list button.part").press("Space")
    assert console.page.get_attribute("#part-list button.part", "aria-pressed") == "true"
    canvas = console.tab_to("#model-canvas")
    canvas.press("ArrowLeft")  # stops the turning, so the view holds still
    console.page.wait_for_timeout(400)
    before = console.canvas()
    for _ in range(6):
        canvas.press("ArrowLeft")
    console.page.wait_for_timeout(400)
    turned = console.canvas()
    assert changed(before, turned) > 0.01, "the arrow keys did not turn the model"
    canvas.press("0")
    for selector in ("#downloads button[data-download=stl]", "#scad-panel summary", "#signout"):
        console.tab_to(selector)
    console.assert_clean()


@pytest.mark.parametrize("console", [PHONE], indirect=True)
def test_a_phone_width_reads_in_one_column(console: Console) -> None:
    console.open()
    assert console.overflow() == 0
    console.register()
    assert console.page.locator("#sidebar").is_hidden()
    console.page.click("#sidebar-toggle")
    assert console.page.locator("#sidebar .chat-link").first.is_visible()
    console.prompt("a 160 mm quadcopter frame")
    assert console.wait_until_done() == "completed"
    console.loaded_job()
    assert console.overflow() == 0
    box = console.page.locator("#model-canvas").bounding_box()
    assert box is not None and box["width"] > 300
    console.screenshot("console-phone.png", full_page=True)
    console.assert_clean()
