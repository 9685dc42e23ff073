"""A non-editable install ships the console: every file of it is in the built wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from forge_http.console_files import CONSOLE_DIR

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]


def test_the_wheel_carries_every_console_file(tmp_path: Path) -> None:
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("needs the source tree (pyproject.toml) to build a wheel from")
    # A copy, so that no build/ folder left by an earlier build can fill the gaps.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", source / "src", ignore=junk)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("forge-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"forge_http/console/{path.relative_to(CONSOLE_DIR).as_posix()}"
        for path in CONSOLE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert len(expected) > 20
    assert expected - shipped == set()
