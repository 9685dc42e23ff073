"""Request ids and structured logs.

Every request gets an id: the client's ``X-Request-ID`` when it is a sane token, else a
new one, set at the app's edge (``edge.py``). It is echoed in the response header and
kept in a context variable for as long as the request is handled, so each log line
written meanwhile (the app's ``forge.*`` loggers and the access line) carries it.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar.types import Scope

HEADER = "x-request-id"
HEADER_BYTES = HEADER.encode()
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # anything else could forge log lines
# A made id is this process's random half and a counter: unique without a system call
# for randomness on every request, 32 hex digits like a UUID's.
_PROCESS_PART = secrets.token_hex(8)
_COUNT = itertools.count()

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER_BYTES:
            text = value.decode("latin-1")
            if _SANE.match(text):
                return text
    return f"{_PROCESS_PART}{next(_COUNT) & 0xFFFFFFFFFFFFFFFF:016x}"


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and exc)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return _JSON.encode(line).decode()


_JSON = msgspec.json.Encoder()  # UTF-8 as it is (no \u escapes), like ensure_ascii=False
