"""The AuthProvider contract: the local adapter and the Supabase adapter (against the fake
GoTrue) pass the same suite. A new provider is done when a subclass passes."""

from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher

from forge_adapters.local_auth import LocalAuthProvider
from forge_adapters.memory import MemoryAuthStore
from forge_core.errors import AlreadyExists, InvalidInput, Unauthenticated
from forge_core.ports import AuthProvider
from tests.fakes.fixtures import supabase_provider
from tests.fakes.gotrue import FakeGoTrue

pytestmark = pytest.mark.anyio

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
EMAIL = "ada@example.com"


class AuthProviderContract:
    """Subclasses provide ``provider``."""

    @pytest.fixture
    def provider(self) -> AuthProvider:
        raise NotImplementedError

    async def test_register_answers_the_new_user(self, provider: AuthProvider) -> None:
        user = await provider.register("Ada@Example.com", "secret", "Ada")
        assert user.email == EMAIL
        assert user.display_name == "Ada"

    async def test_a_registered_email_is_taken(self, provider: AuthProvider) -> None:
        await provider.register(EMAIL, "secret", None)
        with pytest.raises(AlreadyExists):
            await provider.register(EMAIL, "another", None)

    async def test_a_short_password_is_refused(self, provider: AuthProvider) -> None:
        with pytest.raises(InvalidInput) as caught:
            await provider.register(EMAIL, "abc", None)
        assert caught.value.field == "password"

    async def test_login_gives_tokens_for_the_user(self, provider: AuthProvider) -> None:
        user = await provider.register(EMAIL, "secret", "Ada")
        tokens = await provider.login(EMAIL, "secret")
        assert tokens.user_id == user.id
        assert tokens.token_type == "bearer"
        assert tokens.expires_in > 0
        principal = await provider.authenticate(tokens.access_token)
        assert principal.user_id == user.id
        assert principal.session_id is not None
        assert principal.email == EMAIL

    async def test_wrong_password_and_unknown_email_look_the_same(
        self, provider: AuthProvider
    ) -> None:
        await provider.register(EMAIL, "secret", None)
        with pytest.raises(Unauthenticated) as wrong:
            await provider.login(EMAIL, "not-it")
        with pytest.raises(Unauthenticated) as unknown:
            await provider.login("nobody@example.com", "secret")
        assert wrong.value.detail == unknown.value.detail

    async def test_profile_is_the_callers(self, provider: AuthProvider) -> None:
        user = await provider.register(EMAIL, "secret", "Ada")
        principal = await provider.authenticate(
            (await provider.login(EMAIL, "secret")).access_token
        )
        profile = await provider.profile(principal)
        assert (profile.id, profile.email, profile.display_name) == (user.id, EMAIL, "Ada")

    async def test_refresh_rotates(self, provider: AuthProvider) -> None:
        await provider.register(EMAIL, "secret", None)
        first = await provider.login(EMAIL, "secret")
        second = await provider.refresh(first.refresh_token)
        assert second.refresh_token != first.refresh_token
        assert second.user_id == first.user_id
        principal = await provider.authenticate(second.access_token)
        assert principal.user_id == first.user_id
        third = await provider.refresh(second.refresh_token)
        assert third.user_id == first.user_id

    async def test_a_replayed_refresh_token_ends_the_login(self, provider: AuthProvider) -> None:
        await provider.register(EMAIL, "secret", None)
        first = await provider.login(EMAIL, "secret")
        second = await provider.refresh(first.refresh_token)
        with pytest.raises(Unauthenticated):
            await provider.refresh(first.refresh_token)
        with pytest.raises(Unauthenticated):  # the rotated token went with the login
            await provider.refresh(second.refresh_token)

    async def test_an_unknown_refresh_token_is_refused(self, provider: AuthProvider) -> None:
        with pytest.raises(Unauthenticated):
            await provider.refresh("not-a-refresh-token")

    async def test_logout_refuses_the_same_token_and_its_refresh(
        self, provider: AuthProvider
    ) -> None:
        await provider.register(EMAIL, "secret", None)
        tokens = await provider.login(EMAIL, "secret")
        principal = await provider.authenticate(tokens.access_token)
        await provider.logout(principal)
        with pytest.raises(Unauthenticated):
            await provider.authenticate(tokens.access_token)
        with pytest.raises(Unauthenticated):
            await provider.refresh(tokens.refresh_token)
        await provider.logout(principal)  # twice is harmless

    async def test_logout_ends_one_login_only(self, provider: AuthProvider) -> None:
        await provider.register(EMAIL, "secret", None)
        laptop = await provider.login(EMAIL, "secret")
        phone = await provider.login(EMAIL, "secret")
        await provider.logout(await provider.authenticate(laptop.access_token))
        assert (await provider.authenticate(phone.access_token)).email == EMAIL

    @pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
    async def test_a_malformed_token_is_refused(self, provider: AuthProvider, token: str) -> None:
        with pytest.raises(Unauthenticated):
            await provider.authenticate(token)


class TestLocalAuthProvider(AuthProviderContract):
    @pytest.fixture
    def provider(self) -> AuthProvider:
        return LocalAuthProvider(
            MemoryAuthStore(), "contract-secret-" + "x" * 32, hasher=FAST_HASHER
        )


class TestSupabaseAuthProvider(AuthProviderContract):
    @pytest.fixture
    def provider(self, gotrue: FakeGoTrue, supabase_http: httpx.AsyncClient) -> AuthProvider:
        return supabase_provider(gotrue, supabase_http)
