"""Frames between the renderer and a worker: a 4-byte length, a JSON header, then the
payload (a mesh's bytes, or the SCAD source) whose length the header's ``size`` gives.

Both sides use these; the server side reads with a deadline, the worker blocks.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any, BinaryIO

LENGTH = struct.Struct("<I")
MAX_HEADER = 1024 * 1024


class WorkerGone(Exception):
    """The worker's pipe closed: it exited or was killed."""


class WorkerLate(Exception):
    """The deadline passed before the worker answered."""


def encode(header: dict[str, Any], payload: bytes = b"") -> bytes:
    data = json.dumps({**header, "size": len(payload)}).encode()
    return LENGTH.pack(len(data)) + data + payload


def write(stream: BinaryIO, header: dict[str, Any], payload: bytes = b"") -> None:
    stream.write(encode(header, payload))
    stream.flush()


def read(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """The next frame from a blocking stream, or None at its end."""
    head = stream.read(LENGTH.size)
    if len(head) < LENGTH.size:
        return None
    (length,) = LENGTH.unpack(head)
    if length > MAX_HEADER:
        raise ValueError("frame header too long")
    header = json.loads(stream.read(length))
    payload = stream.read(int(header["size"]))
    return header, payload


def read_by(fd: int, deadline: float) -> tuple[dict[str, Any], bytes]:
    """The next frame from pipe ``fd``, waiting until ``deadline`` (time.monotonic)."""
    (length,) = LENGTH.unpack(_exactly(fd, LENGTH.size, deadline))
    if length > MAX_HEADER:
        raise WorkerGone("the worker sent a malformed frame")
    header = json.loads(_exactly(fd, length, deadline))
    return header, _exactly(fd, int(header["size"]), deadline)


def _exactly(fd: int, count: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while count > 0:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerLate
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, min(count, 1 << 20))
        except OSError as exc:
            raise WorkerGone(f"the worker's pipe failed: {exc.strerror}") from exc
        if not chunk:
            raise WorkerGone("the worker's pipe closed")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)
