"""What the chat socket sends and reads: events as flat JSON objects, and client frames
checked into a ``Frame`` (or a readable reason why not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from pydantic import ValidationError

from forge_core.commands import RunRequest
from forge_core.entities import ChatEvent
from forge_http.json_input import TooDeep, decode

#: The client frame types the socket answers.
FRAME_TYPES = ("runpod.request", "ping")
#: Frames above this size are refused (as the HTTP API refuses large bodies).
MAX_FRAME_BYTES = 1024 * 1024

_encoder = msgspec.json.Encoder()


def event_frame(event: ChatEvent) -> str:
    """An event on the wire: ``type``, ``chat_id`` and ``seq``, then the event's own fields."""
    body: dict[str, Any] = {"type": event.type, "chat_id": event.chat_id, "seq": event.seq}
    body.update((k, v) for k, v in event.data.items() if k not in body)
    return _encoder.encode(body).decode()


def error_frame(
    chat_id: UUID, status_code: int, detail: str, retry_after: int | None = None
) -> str:
    """An answer to one client frame that was refused; the socket stays open. A rate
    limit adds ``retry_after`` in seconds (the HTTP answer's Retry-After)."""
    body: dict[str, Any] = {
        "type": "error",
        "chat_id": chat_id,
        "status_code": status_code,
        "detail": detail,
    }
    if retry_after is not None:
        body["retry_after"] = retry_after
    return _encoder.encode(body).decode()


PONG = _encoder.encode({"type": "pong"}).decode()


class BadFrame(Exception):
    """A client frame that cannot be acted on; ``detail`` says why."""

    def __init__(self, detail: str, status_code: int = 400) -> None:
        super().__init__(detail)
        self.detail, self.status_code = detail, status_code


@dataclass(frozen=True, slots=True)
class Frame:
    type: str
    request: RunRequest | None = None


def read_frame(raw: str | bytes) -> Frame:
    """The client's frame, checked. Raises BadFrame naming the problem."""
    if len(raw) > MAX_FRAME_BYTES:
        raise BadFrame(f"a frame may be at most {MAX_FRAME_BYTES} bytes", 413)
    try:
        body = decode(raw)
    except msgspec.DecodeError as exc:
        raise BadFrame(f"the frame is not JSON: {exc}") from exc
    except TooDeep as exc:
        raise BadFrame(exc.detail) from exc
    kind = body.get("type") if isinstance(body, dict) else None
    if kind not in FRAME_TYPES:
        expected = ", ".join(FRAME_TYPES)
        raise BadFrame(f"type: must be one of {expected} (got {kind!r})")
    if kind == "ping":
        return Frame("ping")
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise BadFrame("payload: a runpod.request needs a JSON object payload")
    try:
        return Frame(kind, RunRequest.model_validate(payload))
    except ValidationError as exc:
        raise BadFrame(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in ("payload", *error["loc"]))
        problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def parse_since(value: str | None) -> int:
    """``?since=<seq>``: the last event the client has (0, or absent, for all). Raises
    BadFrame for anything but a whole number from 0."""
    if value is None or value == "":
        return 0
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise BadFrame("since: must be a whole number from 0 (the last seq received)")
    return int(value)
