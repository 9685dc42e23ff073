"""The worker's second wall: an audit hook that refuses file access outside its folders.

The first wall is the SCAD sandbox (``forge_adapters.openscad.sandbox``), which vets
every ``include``/``use``/``import``/``surface`` before the source reaches a worker.
This hook, installed once the evaluator is imported and warm, holds even if that vetting
missed something: Python raises PermissionError for any ``open`` outside the worker's
own folder (read and write), the SCAD library and the evaluator's packages (read only,
fonts and grammar), and Python's own modules (read only, for late imports); and for any
new process, ``exec`` or socket. An audit hook cannot be removed, and SCAD cannot run
Python, so nothing in a render turns it off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_CODE_SUFFIXES = (".py", ".pyc", ".so")
_FORBIDDEN = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "pty.spawn",
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "ctypes.dlopen",
    }
)
_PATH_CHANGES = frozenset(
    {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.truncate", "os.symlink"}
)


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root + os.sep) for root in roots)


class Guard:
    """The hook; ``writable`` is the worker's folder, ``readable`` adds the rest."""

    def __init__(self, writable: Path, readable: Iterable[Path]) -> None:
        self.writable = (str(writable.resolve()),)
        self.readable = self.writable + tuple(str(p.resolve()) for p in readable)
        self.code = tuple(str(Path(p).resolve()) for p in sys.path if p and Path(p).is_dir())

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            self._open(args[0], args[1], args[2])
        elif event in _FORBIDDEN:
            raise PermissionError(f"the render sandbox refuses {event}")
        elif event in _PATH_CHANGES:
            self._change(args[0])

    def _open(self, path: object, mode: object, flags: object) -> None:
        if isinstance(path, int):
            return  # an already open descriptor
        real = os.path.realpath(os.fsdecode(path))  # type: ignore[arg-type]
        writing = _writes(mode, flags)
        if _inside(real, self.writable):
            return
        if not writing and _inside(real, self.readable):
            return
        if not writing and real.endswith(_CODE_SUFFIXES) and _inside(real, self.code):
            return
        raise PermissionError(f"the render sandbox refuses to open {real}")

    def _change(self, path: object) -> None:
        if isinstance(path, int) or _inside(os.path.realpath(os.fsdecode(path)), self.writable):  # type: ignore[arg-type]
            return
        raise PermissionError("the render sandbox refuses to change files outside its folder")


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    if isinstance(flags, int):
        return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
    return True


def install(writable: Path, readable: Iterable[Path]) -> None:
    sys.addaudithook(Guard(writable, readable))
