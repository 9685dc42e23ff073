"""Bearer-token authentication for every route but the few marked public.

The token comes from ``Authorization: Bearer <token>`` (or, for sockets, ``?token=``);
the AuthProvider checks it, and the Principal lands in ``request.user``.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.types import Scope

from forge_core.errors import Unauthenticated
from forge_core.ports import Principal
from forge_http.dependencies import authenticated

PUBLIC = {"public": True}  # handler opt that skips authentication


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = _authorization(connection.scope)
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <token>'")
        return token.strip()
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        if connection.query_params.get("token"):
            return str(connection.query_params["token"])
        # Browsers cannot set headers on a socket: the query is how it authenticates.
        raise Unauthenticated("Missing token: open the socket with ?token=<access_token>")
    raise Unauthenticated("Missing bearer token: send 'Authorization: Bearer <access_token>'")


def _authorization(scope: Scope) -> str | None:
    """The Authorization header, read from the raw ASGI headers (names are lower case
    there): parsing them all into Litestar's ``Headers`` costs more than the rest of the
    check when the token is known."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection)
        services = connection.app.state.services
        principal: Principal = await services.auth.authenticate(token)
        authenticated(principal, services)
        return AuthenticationResult(user=principal, auth=token)


def auth_middleware() -> DefineMiddleware:
    return DefineMiddleware(
        BearerAuthMiddleware,
        exclude=["^/schema"],
        exclude_from_auth_key="public",
    )
