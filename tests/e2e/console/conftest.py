"""A real ``forge serve`` and Debian's headless Chromium, driven by Playwright for Python.

The browser is the system's (``/usr/bin/chromium``, from Debian's ``chromium`` package;
``FORGE_TEST_CHROMIUM`` names another): Playwright downloads nothing. Without it the
browser tests skip, saying why, or fail when ``FORGE_REQUIRE_BROWSER=1`` (CI).

Every page records the browser's console errors and uncaught exceptions; a test ends by
asserting there were none (``Console.assert_clean``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, forge_process
from tests.e2e.console.pages import Console

#: Headless, and quiet on the network: without the background-networking flags Chromium
#: calls home, and a closed network refuses it with errors in the log.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = os.environ.get("FORGE_TEST_CHROMIUM") or shutil.which("chromium")
    if found and Path(found).exists() and _has_playwright():
        return found
    reason = (
        "the browser tests need Debian's chromium (apt-get install -y chromium "
        "chromium-driver) and Playwright for Python (pip install -e '.[test]')"
    )
    if os.environ.get("FORGE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One ``forge serve`` for the module, on the defaults the README's first command
    uses (SQLite, local files, the template backend, the default renderer)."""
    with forge_process(tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[object]:
    chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def console(
    playwright_driver: object, server: Server, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Console]:
    """A page in a fresh browser profile, 1280 x 720 unless the test parametrizes the size
    (the browser first: without one, the test skips before a server starts)."""
    size = getattr(request, "param", {"width": 1280, "height": 720})
    context = playwright_driver.chromium.launch_persistent_context(  # type: ignore[attr-defined]
        str(tmp_path / "profile"),
        executable_path=chromium_path(),
        args=CHROMIUM_FLAGS,
        headless=True,
        viewport=size,
        accept_downloads=True,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        yield Console(page, server.base, tmp_path)
    finally:
        context.close()
