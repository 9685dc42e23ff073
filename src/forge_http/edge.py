"""What every request passes once, at the edge of the app, in one pure ASGI wrapper.

Outside everything (the exception handler and the router included), so that every
answer, a refused token or an unknown path too, gets:

- its request id (``observability``): set before anything logs, echoed in
  ``X-Request-ID``;
- its count and latency by route template and status (``metrics``);
- its access line, when ``forge serve`` asked for one (``access_log``);
- on OPTIONS, an ``Allow`` that lists every method of the path (``allowed_methods``).

One wrapper rather than one per concern: each layer cost a coroutine, a closure and a
copy of the response's first message per request, which a small GET felt.
"""

from __future__ import annotations

import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from forge_http.access_log import AccessLog
from forge_http.allowed_methods import with_allow
from forge_http.metrics import REQUESTS, UNMATCHED
from forge_http.observability import HEADER_BYTES, incoming_id, request_id


class Edge:
    def __init__(
        self, app: ASGIApp, allowed: dict[str, bytes], access_log: AccessLog | None = None
    ) -> None:
        self.app = app
        self.allowed = allowed  # each path template's Allow (allowed_methods.methods_by_path)
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in (ScopeType.HTTP, ScopeType.WEBSOCKET):
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope)
        token = request_id.set(rid)
        if scope["type"] == ScopeType.WEBSOCKET:
            try:
                await self.app(scope, receive, send)
            finally:
                request_id.reset(token)
            return
        start, status = time.perf_counter(), 500

        async def send_at_edge(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (HEADER_BYTES, rid.encode())]
                if scope["method"] == "OPTIONS":  # the router has put the template in scope
                    headers = with_allow(headers, self.allowed.get(scope.get("path_template", "")))
                message = {**message, "headers": headers}
                if self.access_log is not None:
                    self.access_log.write(scope, status, rid)
            await send(message)

        try:
            await self.app(scope, receive, send_at_edge)
        finally:
            request_id.reset(token)
            if scope["path"] != "/metrics":  # a scrape is not traffic
                route = scope.get("path_template") or UNMATCHED
                REQUESTS.record(scope["method"], route, status, time.perf_counter() - start)
