"""A fake OpenAI-compatible server (``/v1/chat/completions`` and ``/v1/models``) on a
local port: it answers requirements as a fenced JSON object and SCAD as a fenced
``openscad`` block (or what ``reply`` makes of the messages), after ``delay`` seconds;
``fail_next`` makes it answer errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.server import serve

REQUIREMENTS = {"model_type": "drone", "primary_function": "A small quadcopter frame"}


def default_reply(messages: list[dict[str, Any]]) -> str:
    system = messages[0]["content"]
    if "OpenSCAD" in system:
        return "Here it is:\n```openscad\nsize = 10;  // mm\ncube(size);\n```\n"
    return "```json\n" + json.dumps(REQUIREMENTS) + "\n```"


@dataclass
class FakeOpenAI:
    model: str = "fake-model"
    api_key: str | None = "fake-openai-key"
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    #: What the model answers, given the messages it was sent (a test may script it).
    reply: Callable[[list[dict[str, Any]]], str] = default_reply
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def fail_next(self, status: int, times: int = 1) -> None:
        self.failures += [status] * times

    @contextmanager
    def running(self) -> Iterator[FakeOpenAI]:
        fake = self

        class Handler(OpenAIHandler):
            server_state = fake

        with serve(Handler) as self._server:
            yield self


class OpenAIHandler(BaseHTTPRequestHandler):
    server_state: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/v1/models" or not self.authorized():
            return self.answer(404 if self.path != "/v1/models" else 401, {"error": "no"})
        return self.answer(
            200, {"object": "list", "data": [{"id": self.server_state.model, "object": "model"}]}
        )

    def do_POST(self) -> None:
        fake = self.server_state
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        if self.path != "/v1/chat/completions":
            return self.answer(404, {"error": "no such route"})
        if not self.authorized():
            return self.answer(401, {"error": {"message": "bad key"}})
        fake.requests.append(body)
        if fake.failures:
            return self.answer(fake.failures.pop(0), {"error": {"message": "injected"}})
        if body.get("model") != fake.model:
            return self.answer(
                404, {"error": {"message": f"model {body.get('model')!r} not found"}}
            )
        time.sleep(fake.delay)
        message = {"role": "assistant", "content": fake.reply(body["messages"])}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        completion = {"id": "chatcmpl-fake", "object": "chat.completion", "model": fake.model}
        return self.answer(200, {**completion, "choices": [choice], "usage": usage})

    def authorized(self) -> bool:
        key = self.server_state.api_key
        return key is None or self.headers.get("Authorization") == f"Bearer {key}"

    def answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
