"""Accounts and tokens: register, login, refresh, me, logout.

Register, login and refresh are rate limited per client address and per email (refresh
names no email) before the auth provider sees them; the address is the peer's, or the
``X-Forwarded-For`` one when uvicorn trusts the proxy (``FORWARDED_ALLOW_IPS``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, route
from litestar.params import JSONBody

from forge_core.ports import Tokens
from forge_http.dependencies import CallerRequest, Services
from forge_http.dto import (
    LoginIn,
    MessageResult,
    RefreshIn,
    RegisteredOut,
    RegisterIn,
    TokensOut,
    UserOut,
)
from forge_http.openapi import Documented, PublicOperation
from forge_http.security import PUBLIC


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def tokens_out(tokens: Tokens) -> TokensOut:
    return TokensOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_type=tokens.token_type,
        user_id=tokens.user_id,
        expires_in=tokens.expires_in,
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/register", opt=PUBLIC, operation_class=PublicOperation, status_code=201)
    async def register(
        self, data: JSONBody[RegisterIn], services: Services, request: Request[Any, Any, Any]
    ) -> RegisteredOut:
        await services.limits.check_auth(client_address(request), data.email)
        user = await services.auth.register(data.email, data.password, data.display_name)
        return RegisteredOut(message="Registration successful", user_id=user.id, email=user.email)

    @post("/login", opt=PUBLIC, operation_class=PublicOperation, status_code=200)
    async def login(
        self, data: JSONBody[LoginIn], services: Services, request: Request[Any, Any, Any]
    ) -> TokensOut:
        await services.limits.check_auth(client_address(request), data.email)
        return tokens_out(await services.auth.login(data.email, data.password))

    @post("/refresh", opt=PUBLIC, operation_class=PublicOperation, status_code=200)
    async def refresh(
        self, data: JSONBody[RefreshIn], services: Services, request: Request[Any, Any, Any]
    ) -> TokensOut:
        await services.limits.check_auth(client_address(request))
        return tokens_out(await services.auth.refresh(data.refresh_token))

    @get("/me", operation_class=Documented)
    async def me(self, request: CallerRequest) -> UserOut:
        caller = request.caller
        user = await caller.services.auth.profile(caller.principal)
        return UserOut(
            id=user.id,
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )

    @route("/logout", http_method=["GET", "POST"], status_code=200, operation_class=Documented)
    async def logout(self, request: CallerRequest) -> MessageResult:
        caller = request.caller
        await caller.services.auth.logout(caller.principal)
        return MessageResult(message="Logout successful")
