"""The server's log lines keep socket tokens out."""

from __future__ import annotations

import logging

from forge_http.log_config import REDACTED, RedactTokens, redact, uvicorn_log_config


def test_a_token_in_a_query_is_redacted_and_the_rest_kept() -> None:
    line = '127.0.0.1:5 - "WebSocket /api/v1/chat-socket/c1?token=eyJ.abc.def&since=3" 403'
    assert redact(line) == (
        f'127.0.0.1:5 - "WebSocket /api/v1/chat-socket/c1?token={REDACTED}&since=3" 403'
    )
    assert redact("/x?since=1&access_token=secret") == f"/x?since=1&access_token={REDACTED}"
    assert redact("/api/v1/sessions?limit=5") == "/api/v1/sessions?limit=5"


def test_the_filter_rewrites_the_arguments_of_a_record() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s"',
        ("ip", "/s?token=t0k"),
        None,
    )
    assert RedactTokens().filter(record)
    assert record.getMessage() == f'ip - "WebSocket /s?token={REDACTED}"'


def test_every_uvicorn_handler_has_the_filter() -> None:
    config = uvicorn_log_config()
    assert all("redact_tokens" in h["filters"] for h in config["handlers"].values())
