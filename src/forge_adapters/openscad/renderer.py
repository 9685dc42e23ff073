"""The Renderer port on the ``openscad`` command line (Debian's 2021.01, CGAL).

Each render runs in a private temporary folder (mode 0700) as its own process group,
with a minimal environment, after the sandbox has vetted every file reference. Limits:
``timeout`` seconds of wall time (the whole group is killed with SIGKILL, then reaped),
an address-space cap (RLIMIT_AS), a file-size cap on everything it writes
(RLIMIT_FSIZE: the STL and its log), a CPU-time backstop, and no core dumps.
OpenSCAD's messages become RenderFailed with the line OpenSCAD names.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from forge_adapters.openscad.sandbox import vet_scad
from forge_core.errors import RenderFailed, RenderLimitExceeded, Unavailable
from forge_core.ports import RendererInfo, RenderResult
from forge_core.render_request import RenderRequest

MiB = 1024 * 1024
_LOG_READ_LIMIT = 64 * 1024
_MAX_WARNINGS = 50
_FILE_NAME = re.compile(r'in file "?[^",]*model\.scad"?,')
_OUT_OF_MEMORY = re.compile(r"bad_alloc|failed to map segment|annot allocate memory")
_LINE = re.compile(r"\bline (\d+)")


@dataclass(frozen=True, slots=True)
class RenderLimits:
    timeout: float = 120.0
    memory_bytes: int = 2048 * MiB
    output_bytes: int = 256 * MiB

    def apply(self) -> None:
        """Runs in the child between fork and exec: only ``setrlimit`` calls."""
        cpu = int(self.timeout) + 5
        resource.setrlimit(resource.RLIMIT_AS, (self.memory_bytes, self.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.output_bytes, self.output_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class OpenSCADRenderer:
    """Renders SCAD to binary STL with ``openscad``; see the module docstring."""

    def __init__(
        self,
        *,
        library: Path | None = None,
        limits: RenderLimits | None = None,
        executable: str = "openscad",
    ) -> None:
        self._library = library
        self._limits = limits or RenderLimits()
        self._executable = executable
        self._version: str | None = None

    async def render(self, request: RenderRequest) -> RenderResult:
        source = vet_scad(request.source, self._library)
        arguments: list[str] = []
        for name, literal in request.assignments().items():
            arguments += ["-D", f"{name}={literal}"]  # a list, no shell: nothing to escape
        executable = shutil.which(self._executable)
        if executable is None:
            raise Unavailable("renderer not installed")
        run = _Run(executable, source, self._limits, arguments)
        try:
            return await anyio.to_thread.run_sync(run.render, abandon_on_cancel=True)
        finally:
            run.kill()  # a cancelled render stops now, not at its timeout

    async def about(self) -> RendererInfo:
        if self._version is None:
            self._version = await anyio.to_thread.run_sync(_version_of, self._executable)
        return RendererInfo("openscad", self._version)


class _Run:
    """One ``openscad`` process; ``render`` runs in a worker thread, ``kill`` from anywhere."""

    def __init__(
        self, executable: str, source: str, limits: RenderLimits, arguments: list[str]
    ) -> None:
        self._executable = executable
        self._source = source
        self._limits = limits
        self._arguments = arguments
        self._process: subprocess.Popen[bytes] | None = None

    def kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def render(self) -> RenderResult:
        with tempfile.TemporaryDirectory(prefix="forge-render-") as name:
            folder = Path(name)
            folder.chmod(0o700)
            (folder / "model.scad").write_text(self._source, encoding="utf-8")
            started = time.monotonic()
            returncode = self._run(folder)
            seconds = time.monotonic() - started
            messages = _read_log(folder / "log")
            mesh = _read_mesh(folder / "model.stl", returncode, messages, self._limits)
        warnings = [_clean(m) for m in messages if m.startswith(("WARNING:", "DEPRECATED:"))]
        return RenderResult(mesh, "stl", tuple(warnings[:_MAX_WARNINGS]), seconds)

    def _run(self, folder: Path) -> int:
        command = [self._executable, "-o", "model.stl", "--export-format", "binstl"]
        command += self._arguments
        with (folder / "log").open("wb") as log:
            try:
                self._process = subprocess.Popen(
                    [*command, "model.scad"],
                    cwd=folder,
                    env=_environment(folder),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=self._limits.apply,  # only setrlimit calls, no locks
                )
            except OSError as exc:
                raise Unavailable(f"the renderer cannot start: {exc.strerror}") from exc
            try:
                return self._process.wait(timeout=self._limits.timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self._process.wait()
                raise RenderLimitExceeded(
                    "time", f"the render took longer than {self._limits.timeout:g} s"
                ) from None


def _version_of(executable: str) -> str:
    """``openscad --version``'s number ("2021.01"); it prints to stderr."""
    found = shutil.which(executable)
    if found is None:
        raise Unavailable("renderer not installed")
    try:
        done = subprocess.run(
            [found, "--version"], capture_output=True, timeout=10, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"the renderer cannot start: {exc}") from exc
    text = (done.stderr + done.stdout).decode("utf-8", "replace").strip()
    return text.rsplit(" ", 1)[-1] if text else "unknown"


def _environment(folder: Path) -> dict[str, str]:
    """No inherited variables (OPENSCADPATH, HOME's libraries): only what it needs."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(folder),
        "XDG_CONFIG_HOME": str(folder),
        "XDG_DATA_HOME": str(folder),
        "XDG_CACHE_HOME": str(folder),
        "LANG": "C.UTF-8",
    }


def _read_log(path: Path) -> list[str]:
    """The log's lines: all of it, or its head and tail when an ``echo`` flood filled it."""
    with path.open("rb") as log:
        data = log.read(_LOG_READ_LIMIT)
        if len(data) == _LOG_READ_LIMIT:
            log.seek(max(log.tell(), path.stat().st_size - _LOG_READ_LIMIT))
            data += b"\n" + log.read()
    return data.decode("utf-8", "replace").splitlines()


def _read_mesh(path: Path, returncode: int, messages: list[str], limits: RenderLimits) -> bytes:
    if returncode == -signal.SIGXFSZ:
        raise RenderLimitExceeded("output", f"the output is over {limits.output_bytes} bytes")
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise RenderLimitExceeded("time", "the render used up its CPU time")
    if returncode == -signal.SIGABRT or any(_OUT_OF_MEMORY.search(m) for m in messages):
        raise RenderLimitExceeded("memory", f"the render needs over {limits.memory_bytes} bytes")
    errors = [m for m in messages if m.startswith("ERROR:")]
    if errors:
        raise _failure(errors[0])
    if returncode != 0 or not path.is_file() or path.stat().st_size <= 84:
        last = next((m for m in reversed(messages) if m.strip()), f"exit status {returncode}")
        raise RenderFailed(f"OpenSCAD made no model: {last.strip()}")
    return path.read_bytes()


def _failure(message: str) -> RenderFailed:
    line = _LINE.search(message)
    return RenderFailed(_clean(message), int(line.group(1)) if line else None)


def _clean(message: str) -> str:
    """OpenSCAD's message, without the temporary file's name."""
    return _FILE_NAME.sub("in", message).strip()
