"""The server's log configuration: uvicorn's and the app's loggers, one format, no tokens.

A socket's token travels in its URL (``?token=``, as the seed says), and uvicorn logs
each socket's path with its query; the filter rewrites the token's value before any
handler writes the line. Every line carries the request id (see ``observability``);
``FORGE_LOG_FORMAT=json`` writes one JSON object per line, ``text`` uvicorn's layout.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_TOKEN = re.compile(r"((?:^|[?&])(?:access_)?token=)[^&\s\"']+", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    if "=" not in text:  # no query parameter at all: most lines, skipped cheaply
        return text
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


#: The app's own loggers, written through uvicorn's default handler.
APP_LOGGERS = ("forge", "forge_core", "forge_adapters", "forge_http")


def uvicorn_log_config(log_format: str = "json", level: str = "info") -> dict[str, Any]:
    """uvicorn's default logging plus the app's loggers, request ids, redacted tokens."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {}).update(
        redact_tokens={"()": RedactTokens},
        request_id={"()": "forge_http.observability.RequestIdFilter"},
    )
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).extend(["request_id", "redact_tokens"])
    formatters = config["formatters"]
    if log_format == "json":
        for name in formatters:
            formatters[name] = {"()": "forge_http.observability.JsonFormatter"}
    else:
        formatters["default"]["fmt"] = "%(levelprefix)s [%(request_id)s] %(name)s: %(message)s"
        formatters["access"]["fmt"] = (
            '%(levelprefix)s [%(request_id)s] %(client_addr)s - "%(request_line)s" %(status_code)s'
        )
    for name in APP_LOGGERS:
        config["loggers"][name] = {
            "handlers": ["default"],
            "level": level.upper(),
            "propagate": False,
        }
    return config
