"""``Allow`` on OPTIONS lists every method of the path (RFC 9110, section 10.2.1).

Litestar 2 makes one OPTIONS handler per route and, when a later handler joins the same
path, keeps the first one, which still lists only the methods it saw (litestar#4169,
fixed in Litestar 3). Its 405 answers are right: they read the routing trie. This
wrapper rewrites the OPTIONS answer's ``Allow`` from the app's final routes, so both
answers agree.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def methods_by_path(app: Litestar) -> dict[str, bytes]:
    """Each HTTP path template's ``Allow`` value, from the app's routes once built."""
    return {
        route.path_format: ", ".join(sorted(route.methods)).encode()
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


class AllowEveryMethod:
    """Pure ASGI around the app: touches only OPTIONS answers that carry ``Allow``."""

    def __init__(self, app: ASGIApp, allowed: dict[str, bytes]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            # The router puts the matched template in the scope before the handler runs.
            allow = self.allowed.get(scope.get("path_template", ""))
            if message["type"] == "http.response.start" and allow is not None:
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"allow"]
                if len(headers) < len(message.get("headers", ())):
                    message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await self.app(scope, receive, send_with_allow)
