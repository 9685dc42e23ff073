"""Checks: ``nox`` runs them all; ``nox -s tests`` just the tests.

``types``, ``imports`` and ``tests`` need the same packages (the ``dev`` extras), so they
share one environment, ``.nox/dev``, installed once and again only when pyproject.toml
changes; ``lint`` needs only ruff and keeps its own small one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.sessions = ["lint", "types", "imports", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
SHARED = Path(".nox") / "dev"


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")  # pinned: a new release may add rules
    session.run("ruff", "check", "src", "tests", "examples", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "examples", "benchmarks")


@nox.session(venv_backend="none")
def types(session: nox.Session) -> None:
    run_in_shared(session, "mypy")


@nox.session(venv_backend="none")
def imports(session: nox.Session) -> None:
    run_in_shared(session, "lint-imports")


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    # One worker per core; the tests that start servers share one (tests/conftest.py).
    run_in_shared(session, "pytest", "-n", "auto", "--dist", "loadgroup", *session.posargs)


def run_in_shared(session: nox.Session, command: str, *args: str) -> None:
    """Run ``command`` from the shared environment, making it first if needed."""
    bin_dir = (SHARED / "bin").resolve()
    _install_shared(session, bin_dir)
    env = {"VIRTUAL_ENV": str(bin_dir.parent), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    session.run(str(bin_dir / command), *args, env=env, external=True)


def _install_shared(session: nox.Session, bin_dir: Path) -> None:
    stamp = bin_dir.parent / "installed-from"
    wanted = hashlib.sha256(Path("pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and (bin_dir / "python").exists():
        return
    python = shutil.which(f"python{PYTHON}") or sys.executable
    session.run(python, "-m", "venv", "--clear", str(bin_dir.parent), external=True)
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet"]
    session.run(*pip, "--upgrade", "pip", external=True)
    session.run(*pip, "-e", ".[dev]", external=True)
    stamp.write_text(wanted)
