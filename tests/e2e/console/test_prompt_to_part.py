"""The console in a real browser, from sign-up to a downloaded part: register, prompt "a
160 mm quadcopter frame", watch the progress, see the model drawn (pixels), highlight a
part (orange pixels), download the STL (a watertight mesh of the measured size)."""

from __future__ import annotations

import io
import json

import pytest
import trimesh

from tests.e2e.console.pages import Console, is_background, is_highlight, share

pytestmark = pytest.mark.e2e
CENTRE = (0.3, 0.3, 0.7, 0.7)  # where a framed model sits in the view
CORNER = (0.0, 0.0, 0.08, 0.08)  # where it does not
#: How the other downloads begin: GLB's magic, 3MF is a zip, the SCAD, a PNG.
MAGIC = {"glb": b"glTF", "3mf": b"PK\x03\x04", "scad": b"// Quadcopter frame", "png": b"\x89PNG"}


def test_a_prompt_becomes_a_model_a_highlighted_part_and_an_stl(console: Console) -> None:
    console.open()
    console.register()
    console.prompt("a 160 mm quadcopter frame")
    assert console.wait_until_done() == "completed"
    job_id = console.loaded_job()
    steps = console.page.locator("#progress li").all_inner_texts()
    assert steps[-6:] == [
        "Job started",
        "Rendering the SCAD",
        "Checking the mesh",
        "Exporting STL, GLB, 3MF and a preview",
        "Storing the files",
        "Completed",
    ]
    assert "Requirements ready" in steps and "SCAD written" in steps

    drawn = console.canvas()
    model_share = 1 - share(drawn, is_background, CENTRE)
    assert model_share > 0.05, f"only {model_share:.1%} of the view's centre is the model"
    assert share(drawn, is_background, CORNER) > 0.95, "the corner should be background"
    assert share(drawn, is_highlight, CENTRE) == 0
    assert console.overflow() == 0  # 1280 x 720 reads without sideways scrolling
    console.screenshot("console.png")

    size = console.page.inner_text("#model-size")
    assert size.startswith("Measured size: 138.3 mm \N{MULTIPLICATION SIGN} 138.3 mm")
    assert console.page.inner_text("#qa-verdict") == "Passed"
    parts = console.page.locator("#part-list button.part")
    assert parts.all_inner_texts()[0].startswith("plate")
    plate = parts.first
    assert plate.get_attribute("aria-pressed") == "false"
    plate.click()
    assert plate.get_attribute("aria-pressed") == "true"
    console.page.wait_for_timeout(500)  # the part's STL is fetched, then drawn
    lit = share(console.canvas(), is_highlight, CENTRE)
    assert lit > 0.005, f"only {lit:.2%} of the view's centre is highlighted"
    console.screenshot("console-part.png")

    with console.page.expect_download() as waiting:
        console.page.click("#downloads button[data-download=stl]")
    download = waiting.value
    assert download.suggested_filename == f"forge-{job_id[:8]}.stl"
    mesh = trimesh.load(io.BytesIO(download.path().read_bytes()), file_type="stl")
    assert mesh.is_watertight and mesh.volume > 0
    assert [round(float(v), 1) for v in sorted(mesh.extents)] == [3.0, 138.3, 138.3]

    for kind, start in MAGIC.items():
        with console.page.expect_download() as waiting:
            console.page.click(f"#downloads button[data-download='{kind}']")
        assert waiting.value.path().read_bytes().startswith(start), kind

    console.page.click("#scad-panel summary")
    assert console.page.input_value("#scad-source").startswith("// Quadcopter frame")
    console.assert_clean()


def test_the_tokens_are_kept_as_documented(console: Console) -> None:
    """The access token only in memory; the refresh token in sessionStorage, so a reload
    resumes the login and nothing is left in localStorage or cookies."""
    console.open()
    console.register()
    stored = console.page.evaluate(
        "() => ({local: {...localStorage}, session: {...sessionStorage}, cookies: document.cookie})"
    )
    assert stored["local"] == {} and stored["cookies"] == ""
    assert list(stored["session"]) == ["forge.refresh_token"]
    assert "eyJ" not in json.dumps(stored)  # no JWT (the access token) stored anywhere
    console.page.reload()
    console.page.wait_for_selector("#app-view:not([hidden]) #chat-title:text-is('New chat')")
    console.page.click("#signout")
    console.page.wait_for_selector("#signin-view:not([hidden])")
    assert console.page.evaluate("() => sessionStorage.length") == 0
    console.assert_clean()


def test_a_spent_refresh_token_leads_back_to_sign_in(console: Console) -> None:
    console.open()
    console.register()
    console.page.evaluate("() => sessionStorage.setItem('forge.refresh_token', 'spent.token')")
    console.page.reload()
    console.page.wait_for_selector("#signin-view:not([hidden])")
    assert console.page.evaluate("() => sessionStorage.length") == 0
    # The browser reports the refused refresh (a 401) in its console; nothing else.
    assert len(console.problems) == 1 and "401" in console.problems[0], console.problems
