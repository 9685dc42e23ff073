"""benchmarks/pipeline_load.py starts: its imports (http_bench's helpers, the template
backend) resolve and its options parse, without starting a server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_load_benchmark_answers_help() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pipeline_load.py"), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--workers" in result.stdout and "--jobs" in result.stdout
