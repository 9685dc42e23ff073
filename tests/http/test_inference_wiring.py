"""Which inference backend the container wires from settings, and that the shared
httpx client and in-flight runs are closed at shutdown. A missing or bad inference
setting stops start-up with one line naming the variable."""

from __future__ import annotations

import inspect
import subprocess
from pathlib import Path
from typing import Any

import pytest

from forge_adapters.openai_backend import OpenAIBackend
from forge_adapters.runpod import RunPodBackend
from forge_adapters.template_backend import TemplateBackend
from forge_core.inference import RunStatus
from forge_core.services.run_supervisor import IN_PROCESS_POLL_DELAYS, POLL_DELAYS
from forge_http import Settings, build_container
from forge_http.container import Application, shutdown
from forge_http.gateway_factories import runpod_config
from forge_http.settings import SettingsError, load_settings
from tests.contract.inference import REQUIREMENTS
from tests.e2e.conftest import forge_command
from tests.fakes.openai import FakeOpenAI
from tests.fakes.runpod import FakeRunPod

pytestmark = pytest.mark.anyio


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, database_url="memory://", **values)  # type: ignore[call-arg]


async def resolve(container: Application) -> Any:
    value = container.gateways.inference()
    return await value if inspect.isawaitable(value) else value


async def test_templates_by_default_with_no_network_client() -> None:
    container = build_container(settings())
    assert isinstance(await resolve(container), TemplateBackend)
    assert not container.gateways.http_client.initialized
    await shutdown(container)


async def test_runpod_when_its_endpoint_is_set(fake_runpod: FakeRunPod) -> None:
    container = build_container(
        settings(
            runpod_endpoint_id=fake_runpod.endpoint_id,
            runpod_api_key=fake_runpod.api_key,
            runpod_base_url=fake_runpod.base_url,
        )
    )
    backend = await resolve(container)
    assert isinstance(backend, RunPodBackend)
    assert (await backend.run(REQUIREMENTS, wait=5)).status is RunStatus.COMPLETED
    client = await container.gateways.http_client()
    await shutdown(container)
    assert client.is_closed


async def test_a_chosen_backend_wins_over_runpod_settings() -> None:
    chosen = settings(inference_backend="template", runpod_endpoint_id="ep", runpod_api_key="k")
    assert isinstance(await resolve(build_container(chosen)), TemplateBackend)


async def test_openai_backend_and_its_runs_close_at_shutdown() -> None:
    with FakeOpenAI(delay=0.5).running() as fake:
        container = build_container(
            settings(
                inference_backend="openai",
                openai_base_url=fake.base_url,
                openai_model=fake.model,
                openai_api_key=fake.api_key,
            )
        )
        backend = await resolve(container)
        assert isinstance(backend, OpenAIBackend)
        assert (await backend.run(REQUIREMENTS, wait=5)).status is RunStatus.COMPLETED
        pending = await backend.submit(REQUIREMENTS)
        await shutdown(container)
        assert (await backend.status(pending.run_id)).status is RunStatus.CANCELLED


OPENAI = {"inference_backend": "openai", "openai_base_url": "http://h/v1", "openai_model": "m"}


@pytest.mark.parametrize(
    ("values", "delays"),
    [
        ({}, IN_PROCESS_POLL_DELAYS),  # the offline templates
        ({"runpod_endpoint_id": "ep", "runpod_api_key": "k"}, POLL_DELAYS),
        (OPENAI, IN_PROCESS_POLL_DELAYS),
    ],
)
async def test_runs_are_polled_on_their_backends_schedule(
    values: dict[str, Any], delays: tuple[float, ...]
) -> None:
    """RunPod's runs over the network, on a backoff; runs kept in this process often."""
    container = build_container(settings(**values))
    try:
        supervisor = container.services.supervisor()
        if inspect.isawaitable(supervisor):
            supervisor = await supervisor
        assert supervisor.poll_delays == delays
    finally:
        await shutdown(container)


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"RUNPOD_ENDPOINT_ID": "ep"}, "missing setting RUNPOD_API_KEY: required when"),
        ({"FORGE_INFERENCE_BACKEND": "runpod"}, "missing setting RUNPOD_ENDPOINT_ID"),
        ({"FORGE_INFERENCE_BACKEND": "openai"}, "missing setting FORGE_OPENAI_BASE_URL"),
        (
            {"FORGE_INFERENCE_BACKEND": "openai", "FORGE_OPENAI_BASE_URL": "http://h/v1"},
            "missing setting FORGE_OPENAI_MODEL",
        ),
        ({"FORGE_INFERENCE_BACKEND": "gpu"}, "invalid setting FORGE_INFERENCE_BACKEND"),
        ({"RUNPOD_BASE_URL": "runpod.io"}, "invalid setting RUNPOD_BASE_URL"),
        (
            {"RUNPOD_ENDPOINT_ID": "../x", "RUNPOD_API_KEY": "k"},
            "invalid setting RUNPOD_ENDPOINT_ID",
        ),
        ({"FORGE_OPENAI_BASE_URL": "localhost:11434"}, "invalid setting FORGE_OPENAI_BASE_URL"),
        ({"FORGE_INFERENCE_MAX_RETRIES": "-1"}, "invalid setting FORGE_INFERENCE_MAX_RETRIES"),
    ],
)
def test_inference_settings_are_checked(
    env: dict[str, str], line: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(line)
    assert "\n" not in str(caught.value)


def test_a_secret_never_reaches_the_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNPOD_API_KEY", "rpa_SECRET")
    monkeypatch.setenv("FORGE_INFERENCE_BACKEND", "runpod")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "rpa_SECRET" not in str(caught.value)
    config = runpod_config(settings(runpod_endpoint_id="ep", runpod_api_key="rpa_SECRET"))
    assert config.api_key == "rpa_SECRET"
    assert "rpa_SECRET" not in repr(config)


def test_forge_serve_names_the_missing_runpod_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [*forge_command(), "serve"],
        cwd=tmp_path,
        env={"RUNPOD_ENDPOINT_ID": "ep", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "forge: missing setting RUNPOD_API_KEY: required when the inference backend is runpod"
    )
