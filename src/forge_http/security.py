"""Bearer-token authentication for every route but the few marked public.

The token comes from ``Authorization: Bearer <token>`` (or, for sockets, ``?token=``);
the AuthProvider checks it, and the caller (the Principal with the use cases) lands in
``request.user``, where handlers read it as ``request.caller``.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from forge_core.errors import Unauthenticated
from forge_core.ports import Principal
from forge_http.dependencies import MISSING_TOKEN, Caller

PUBLIC_KEY = "public"
PUBLIC = {PUBLIC_KEY: True}  # handler opt that skips authentication


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = _authorization(connection.scope)
    if header:
        return _token_in(header)
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        if connection.query_params.get("token"):
            return str(connection.query_params["token"])
        # Browsers cannot set headers on a socket: the query is how it authenticates.
        raise Unauthenticated("Missing token: open the socket with ?token=<access_token>")
    raise Unauthenticated(MISSING_TOKEN)


def _token_in(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return token.strip()


def _authorization(scope: Scope) -> str | None:
    """The Authorization header, read from the raw ASGI headers (names are lower case
    there): parsing them all into Litestar's ``Headers`` costs more than the rest of the
    check when the token is known."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


def _not_checked(scope: Scope) -> bool:
    # Preflights (CORS answers them) and the schema's pages need no token.
    return scope.get("method") == "OPTIONS" or scope["path"].startswith("/schema")


class BearerAuth(ASGIMiddleware):
    """Checks the token of every HTTP request to a route not marked public; the caller
    lands in ``request.user``.

    The chat socket is public to this middleware: it checks its token itself
    (``?token=``), so that a refusal is a close code the socket's client reads. Built on
    Litestar's ``ASGIMiddleware`` and reading the scope alone: its authentication base
    made an ``ASGIConnection`` for every request, which a small GET felt.
    """

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = PUBLIC_KEY

    def __init__(self) -> None:
        self.should_bypass_for_scope = _not_checked

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        header = _authorization(scope)
        if not header:
            raise Unauthenticated(MISSING_TOKEN)
        token = _token_in(header)
        services = scope["app"].state.services
        principal: Principal = await services.auth.authenticate(token)
        scope["user"], scope["auth"] = Caller(principal, services), token
        await next_app(scope, receive, send)
