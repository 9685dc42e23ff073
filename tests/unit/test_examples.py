"""The embedding example in docs/embedding.md runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "embed.py"
EXPECTED = [
    "session 'Quadcopter': job succeeded, asset stl",
    "messages: ['160 mm frame, 3 mm arms']",
    "refused: job cannot go from 'succeeded' to 'running'",
    "after delete: 0 jobs left",
]


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_embedding_example_runs(storage: str, tmp_path: Path) -> None:
    args = ["--sqlite", str(tmp_path / "forge.db")] if storage == "sqlite" else []
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for line in EXPECTED:
        assert line in result.stdout
    assert "another user sees: Session" in result.stdout
