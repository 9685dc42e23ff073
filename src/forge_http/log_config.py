"""The server's log configuration: uvicorn's own, with access tokens kept out of it.

A socket's token travels in its URL (``?token=``, as the seed says), and uvicorn logs
each socket's path with its query; the filter rewrites the token's value before any
handler writes the line.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_TOKEN = re.compile(r"((?:^|[?&])(?:access_)?token=)[^&\s\"']+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _TOKEN.sub(rf"\g<1>{REDACTED}", text)


class RedactTokens(logging.Filter):
    """Replace the value of any ``token=`` query parameter in a record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging, with ``RedactTokens`` on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config
