"""The renderer's settings: FORGE_RENDER_TIMEOUT and FORGE_SCAD_LIBRARY."""

from __future__ import annotations

from pathlib import Path

import pytest

from forge_http.settings import SettingsError, load_settings


def test_render_defaults() -> None:
    settings = load_settings(_env_file=None)
    assert settings.render_timeout == 120
    assert settings.scad_library is None


def test_a_library_must_be_a_folder(tmp_path: Path) -> None:
    assert load_settings(_env_file=None, scad_library=tmp_path).scad_library == tmp_path
    with pytest.raises(SettingsError, match="FORGE_SCAD_LIBRARY: must be an existing folder"):
        load_settings(_env_file=None, scad_library=tmp_path / "missing")


def test_a_timeout_must_be_positive() -> None:
    with pytest.raises(SettingsError, match="FORGE_RENDER_TIMEOUT"):
        load_settings(_env_file=None, render_timeout=0)
