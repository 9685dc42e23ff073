"""The console as a test sees it: a Playwright page plus the steps a person takes, and
the pixel reading that says whether the 3D view shows a model."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: The viewer's background (viewer.js BACKGROUND), and how far a pixel may be from it
#: and still count as background (antialiasing, lighting).
BACKGROUND = (0xF3, 0xF4, 0xF6)
TOLERANCE = 24
PASSWORD = "correct horse battery staple"
#: The progress badge once a request has ended.
DONE = "#progress-state[data-state=completed], #progress-state[data-state=failed]"


@dataclass
class Console:
    page: Any  # playwright.sync_api.Page
    base: str
    folder: Path
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        self.page.set_default_timeout(30_000)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} at {message.location}")

    def assert_clean(self) -> None:
        assert self.problems == [], self.problems

    def open(self) -> None:
        self.page.goto(f"{self.base}/console/")
        self.page.wait_for_selector("#signin-form")

    def register(self) -> str:
        """Register a new account through the form and land in the app; its email."""
        email = f"console-{self.unique()}@example.com"
        self.page.click("#signin-toggle")
        self.page.fill("#signin-email", email)
        self.page.fill("#signin-password", PASSWORD)
        self.page.fill("#signin-name", "Console Tester")
        self.page.click("#signin-submit")
        self.page.wait_for_selector("#app-view:not([hidden]) #chat-title:text-is('New chat')")
        return email

    def prompt(self, text: str) -> None:
        self.page.fill("#prompt-text", text)
        self.page.click("#prompt-send")

    def wait_until_done(self, timeout_s: float = 180) -> str:
        """The progress state once the request ends: completed, or failed with a reason."""
        self.page.wait_for_selector(DONE, timeout=timeout_s * 1000)
        return str(self.page.inner_text("#progress-state"))

    def loaded_job(self) -> str:
        """The id of the job whose model the viewer has drawn."""
        self.page.wait_for_selector("#viewer[data-loaded]")
        return str(self.page.get_attribute("#viewer", "data-loaded"))

    def tab_to(self, selector: str, presses: int = 60) -> Any:
        """Press Tab until ``selector`` has the focus (failing if it never does); its locator."""
        target = self.page.locator(selector).first
        for _ in range(presses):
            if target.evaluate("node => node === document.activeElement"):
                return target
            self.page.keyboard.press("Tab")
        raise AssertionError(f"{selector} is not reachable with Tab")

    def overflow(self) -> int:
        """How many pixels the page is wider than the window (0: no sideways scrolling)."""
        return int(self.page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"))  # fmt: skip

    @staticmethod
    def unique() -> str:
        return uuid.uuid4().hex[:10]

    def canvas(self) -> Image.Image:
        shot = self.page.locator("#model-canvas").screenshot()
        return Image.open(io.BytesIO(shot)).convert("RGB")

    def screenshot(self, name: str, full_page: bool = False) -> Path:
        """A screenshot in the test's folder, copied to FORGE_CONSOLE_SCREENSHOTS."""
        path = self.folder / name
        self.page.screenshot(path=str(path), full_page=full_page)
        target = shots_folder()
        if target is not None:
            shutil.copyfile(path, target / name)
        return path


def shots_folder() -> Path | None:
    """FORGE_CONSOLE_SCREENSHOTS: a folder (docs/ for the README) for the screenshots."""
    folder = os.environ.get("FORGE_CONSOLE_SCREENSHOTS")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


def is_background(pixels: np.ndarray) -> np.ndarray:
    """Which pixels (an H x W x 3 array) are the viewer's background."""
    return np.all(np.abs(pixels.astype(int) - BACKGROUND) <= TOLERANCE, axis=-1)


def is_highlight(pixels: np.ndarray) -> np.ndarray:
    """Which pixels are the highlight colour (viewer.js HIGHLIGHT, 0xff7a00) as lit."""
    red, green, blue = (pixels[..., i].astype(int) for i in range(3))
    return (red > 180) & (green > 60) & (green < 190) & (blue < 110) & (red - blue > 120)


def share(image: Image.Image, test: Any, box: tuple[float, float, float, float]) -> float:
    """The share of pixels in ``box`` (fractions of width and height) that pass ``test``."""
    width, height = image.size
    left, top, right, bottom = (int(box[0] * width), int(box[1] * height),
                                int(box[2] * width), int(box[3] * height))  # fmt: skip
    region = np.asarray(image.crop((left, top, right, bottom)))
    return float(test(region).mean())


def changed(before: Image.Image, after: Image.Image) -> float:
    """The share of pixels that differ visibly between two shots of the same size."""
    difference = np.abs(np.asarray(before).astype(int) - np.asarray(after).astype(int))
    return float((difference.max(axis=-1) > TOLERANCE).mean())
