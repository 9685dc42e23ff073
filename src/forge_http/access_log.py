"""``forge serve``'s access line: one per HTTP request, written as its response starts.

uvicorn's own access logger made a log record, ran two filters and a formatter for each
line: about 12 % of the CPU of a small GET. Forge writes the same line itself, in the
format of the other lines (``FORGE_LOG_FORMAT``: a JSON object, or text in uvicorn's
layout), with tokens in a query redacted, and turns uvicorn's off. Only ``forge serve``
writes it; an app embedded in another server gets that server's log. Socket handshakes
are logged by uvicorn, as before.

The lines of one turn of the event loop leave in one write at the end of that turn: a
write is a system call (stdout is unbuffered under ``PYTHONUNBUFFERED``, as containers
often run), and a line each cost more than making the line. They share that turn's
time, too, read once: the responses of one turn start within a millisecond or so.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import TextIO

import msgspec
from litestar.types import HTTPScope

from forge_http.log_config import redact

_JSON = msgspec.json.Encoder()
LOGGER = "forge.access"


class AccessLog:
    """Writes one access line per request to ``stream`` (stdout, as uvicorn's did)."""

    def __init__(self, log_format: str = "json", stream: TextIO | None = None) -> None:
        self.json = log_format == "json"
        self.stream = stream or sys.stdout
        self._pending: list[str] = []
        self._now = ""  # the time of the turn whose lines are pending

    def write(self, scope: HTTPScope, status: int, request_id: str) -> None:
        client = scope.get("client")
        address = f"{client[0]}:{client[1]}" if client else "-"
        query = scope.get("query_string")
        path = redact(f"{scope['path']}?{query.decode('latin-1')}") if query else scope["path"]
        message = f'{address} - "{scope["method"]} {path} HTTP/{scope["http_version"]}" {status}'
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
            self._now = datetime.now(UTC).isoformat()
        if self.json:
            # The same object JsonFormatter writes, spelled out: the request id is a sane
            # token (observability), the message the one value that needs escaping.
            line = (
                f'{{"time":"{self._now}","level":"info",'
                f'"logger":"{LOGGER}","message":{_JSON.encode(message).decode()},'
                f'"request_id":"{request_id}"}}\n'
            )
        else:
            line = f"INFO:     [{request_id}] {message}\n"
        self._pending.append(line)

    def flush(self) -> None:
        """Write the lines made so far, in one go."""
        lines, self._pending = self._pending, []
        self.stream.write("".join(lines))
        self.stream.flush()
