"""Schemathesis from outside, as a client generated from the schema would meet the API.

A fresh ``forge serve`` on its embedded defaults and one registered user's token; every
check and every phase (examples, coverage, fuzzing, then the stateful run that follows
the schema's links from each create to its reads, updates and deletes) for
``FORGE_CONFORMANCE_SECONDS`` (150 by default). The stateful phase runs on its own,
with 40 % of that time: in one run the others took 138 of 150 s on a busy machine and
left it 11 s, too few to reach every linked operation. The seed is fixed and printed, so
a failure replays with the commands the test prints. tests/e2e/schemathesis.toml holds the
answers the schema cannot state; tests/e2e/conformance_hooks.py teaches Schemathesis'
created-resource check (ST302) the API's cascading deletes.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import forge_server

pytestmark = pytest.mark.e2e

SEED = 16
SECONDS = int(os.environ.get("FORGE_CONFORMANCE_SECONDS", "150"))
CONFIG = Path(__file__).with_name("schemathesis.toml")


def login(api: str) -> str:
    body = {"email": "conformance@example.com", "password": "secret"}
    assert httpx.post(f"{api}/auth/register", json=body).status_code == 201
    answer = httpx.post(f"{api}/auth/login", json=body)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


# Each run: its phases and its share of the time.
RUNS = (("examples,coverage,fuzzing", 0.6), ("stateful", 0.4))


def schemathesis_command(
    base: str, token: str, report: Path, phases: str, seconds: int
) -> list[str]:
    script = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [
        *([script] if script else [sys.executable, "-m", "schemathesis.cli"]),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/schema/openapi.json",
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-time",
        str(seconds),
        "--seed",
        str(SEED),
        "--header",
        f"Authorization: Bearer {token}",
        # Replaced by the same check taught Forge's cascades (conformance_hooks.py).
        "--exclude-checks",
        "ensure_resource_availability",
        # Logging out would end the one login every other request uses.
        "--exclude-path-regex",
        "/auth/logout$",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
    ]


# Operations on one record by its id that only a followed link can make succeed: a made-up
# id is 404. Two of them answering 2xx show the stateful run reached updates and deletes.
BY_ID = ("GET /api/v1/sessions/{session_id}", "PATCH /api/v1/sessions/{session_id}",
         "DELETE /api/v1/jobs/{job_id}", "PATCH /api/v1/asset-meta/{meta_id}")  # fmt: skip


def succeeded(base: str) -> Counter[str]:
    """2xx answers by method and route, from the server's own request counter."""
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(httpx.get(f"{base}/metrics").text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "forge_http_requests_total" and labels["status"].startswith("2"):
                found[f"{labels['method']} {labels['route']}"] += int(sample.value)
    return found


def hooked_env() -> dict[str, str]:
    """The environment with the hooks module importable and named."""
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "SCHEMATHESIS_HOOKS": "tests.e2e.conformance_hooks",
    }


def test_every_check_every_phase_finds_nothing(tmp_path: Path) -> None:
    outputs = []
    with forge_server(tmp_path) as base:
        token = login(f"{base}/api/v1")
        for phases, share in RUNS:
            seconds = max(1, round(SECONDS * share))
            report = tmp_path / f"junit-{phases.replace(',', '-')}.xml"
            command = schemathesis_command(base, token, report, phases, seconds)
            run = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=seconds + 600,
                env=hooked_env(),
                cwd=tmp_path,  # Schemathesis keeps its cache (.schemathesis/) in the cwd
            )
            replay = shlex.join(["schemathesis", *command[1:]]).replace(token, "$TOKEN")
            output = run.stdout
            print(f"seed {SEED}; replay against a fresh forge serve with:")
            print(f"SCHEMATHESIS_HOOKS=tests.e2e.conformance_hooks {replay}\n{output}")
            assert run.returncode == 0, f"{output[-8000:]}\n{run.stderr[-2000:]}"
            outputs.append(output)
        reached = succeeded(base)
    output = "\n".join(outputs)
    assert "Stateful" in output and "Fuzzing" in output and "Coverage" in output, output
    assert {op: reached[op] for op in BY_ID if not reached[op]} == {}, reached
