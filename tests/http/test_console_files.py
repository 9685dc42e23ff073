"""``/console``: the console's files, served without a token, under a strict policy."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from forge_http.console_files import CONSOLE_DIR, console_url

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Any]
ROOT = "http://testserver.local"  # the client's base URL is the API's
# A module specifier at the start of a line: `import ... from "x"`, `export ... from "x"`,
# `import "x"`, or the `} from "x"` that ends an import over several lines.
IMPORT = re.compile(
    r"""^\s*(?:import\s*|(?:import|export)\s[^'"\n;]*?\bfrom\s*|\}\s*from\s*)["']([^"']+)["']""",
    re.M,
)


async def test_the_console_page_is_public_and_locked_down(client: Client) -> None:
    page = await client.get(f"{ROOT}/console/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<canvas id="model-canvas"' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    import_map = re.search(r'<script type="importmap">(.*?)</script>', page.text, re.DOTALL)
    assert import_map is not None
    digest = base64.b64encode(hashlib.sha256(import_map.group(1).encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"


async def test_scripts_and_the_vendored_library_are_served(client: Client) -> None:
    script = await client.get(f"{ROOT}/console/js/main.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    three = await client.get(f"{ROOT}/console/vendor/three/build/three.module.js")
    assert three.status_code == 200 and "REVISION" in three.text
    licence = await client.get(f"{ROOT}/console/vendor/three/LICENSE")
    assert "MIT" in licence.text
    assert (await client.get(f"{ROOT}/console/js/nothing.js")).status_code == 404
    assert (await client.get(f"{ROOT}/console/%2e%2e/console_files.py")).status_code == 404


def test_every_module_the_console_imports_is_shipped() -> None:
    """Each relative import of the console's scripts, and each file the import map names,
    exists in the package (a missing file would be a blank page, not a test failure)."""
    index = (CONSOLE_DIR / "index.html").read_text()
    mapped = re.findall(r'"/console/([^"]+\.js)"', index)
    assert mapped and all((CONSOLE_DIR / path).is_file() for path in mapped)
    scripts = [*CONSOLE_DIR.glob("js/*.js"), *CONSOLE_DIR.glob("vendor/**/*.js")]
    missing = []
    for script in scripts:
        for target in IMPORT.findall(script.read_text()):
            if target.startswith("."):
                if not (script.parent / target).resolve().is_file():
                    missing.append(f"{script.name}: {target}")
            elif target != "three" and not target.startswith("three/addons/"):
                missing.append(f"{script.name}: bare import {target}")
    assert missing == []


def test_the_console_url_is_one_a_browser_can_open() -> None:
    assert console_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/console/"
    assert console_url("0.0.0.0", 9000) == "http://127.0.0.1:9000/console/"
    assert console_url("::1", 8000) == "http://[::1]:8000/console/"


def test_the_vendoring_script_pins_what_is_shipped() -> None:
    shipped = (CONSOLE_DIR / "vendor" / "three" / "VERSION").read_text()
    script = (Path(__file__).parents[2] / "scripts" / "vendor_frontend.py").read_text()
    version = re.search(r'"three": \(\s*"([\d.]+)"', script)
    assert version is not None and shipped.startswith(f"three@{version.group(1)} ")
