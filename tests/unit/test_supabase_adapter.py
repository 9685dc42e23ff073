"""The Supabase adapter's parts against the fake GoTrue: error shapes and their mapping,
retries, the JWKS cache, the HS256 and ``GET /user`` paths, and the client wrapper."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from forge_adapters.memory import MemoryAuthStore
from forge_adapters.supabase import GoTrue, SupabaseClient, TokenVerifier, parse_jwks, to_error
from forge_core.errors import (
    AlreadyExists,
    ForgeError,
    InvalidInput,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from tests.fakes.fixtures import supabase_provider
from tests.fakes.gotrue import FakeGoTrue

pytestmark = pytest.mark.anyio


# -- error shapes and their mapping ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"},
        {"code": "invalid_credentials", "message": "Invalid login credentials"},
        {"error": "invalid_grant", "error_description": "Invalid login credentials"},
    ],
    ids=["default", "2024-01-01", "oauth"],
)
def test_every_error_shape_is_read(body: dict[str, Any]) -> None:
    error = to_error(400, body)
    assert isinstance(error, Unauthenticated)
    assert error.detail == "Invalid login credentials"


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "invalid_credentials", Unauthenticated),
        (400, "refresh_token_already_used", Unauthenticated),
        (403, "bad_jwt", Unauthenticated),
        (400, "email_not_confirmed", PermissionDenied),
        (422, "signup_disabled", PermissionDenied),
        (422, "user_already_exists", AlreadyExists),
        (422, "email_exists", AlreadyExists),
        (422, "weak_password", InvalidInput),
        (400, "email_address_invalid", InvalidInput),
        (429, "over_request_rate_limit", RateLimited),
        (429, "over_email_send_rate_limit", RateLimited),
        (500, "unexpected_failure", Unavailable),
        (400, "something_new", ForgeError),
    ],
)
def test_error_codes_map_to_the_error_tree(status: int, code: str, expected: type) -> None:
    for body in ({"code": status, "error_code": code, "msg": "m"}, {"code": code, "message": "m"}):
        assert type(to_error(status, body)) is expected


def test_weak_password_names_its_reasons() -> None:
    body = {
        "code": "weak_password",
        "message": "Weak.",
        "weak_password": {"reasons": ["length", "characters"]},
    }
    error = to_error(422, body)
    assert isinstance(error, InvalidInput)
    assert error.detail == "password: Weak. (reasons: length, characters)"


def test_rate_limits_carry_retry_after() -> None:
    body = {"code": 429, "error_code": "over_request_rate_limit", "msg": "slow down"}
    limited = to_error(429, body, "12")
    assert isinstance(limited, RateLimited) and limited.retry_after == 12
    assert isinstance(default := to_error(429, {}, None), RateLimited) and default.retry_after == 60


def test_email_not_confirmed_says_so() -> None:
    error = to_error(400, {"code": "email_not_confirmed", "message": "Email not confirmed"})
    assert error.detail.startswith("Email not confirmed: confirm the address")


def test_a_refused_api_key_is_this_servers_problem() -> None:
    error = to_error(401, {"message": "Invalid API key", "hint": "..."})
    assert isinstance(error, Unavailable) and "SUPABASE_ANON_KEY" in error.detail


# -- the wire ----------------------------------------------------------------------------


@pytest.fixture
def wire(gotrue: FakeGoTrue, supabase_http: httpx.AsyncClient) -> GoTrue:
    return GoTrue(supabase_http, gotrue.url, gotrue.anon_key, backoff=0.001)


async def test_gateway_errors_are_retried(wire: GoTrue, gotrue: FakeGoTrue) -> None:
    gotrue.fail_next("/.well-known/jwks.json", 502, 503)
    assert (await wire.call("GET", "/.well-known/jwks.json"))["keys"]
    assert gotrue.count("/.well-known/jwks.json") == 3


async def test_an_unreachable_supabase_is_unavailable(supabase_http: httpx.AsyncClient) -> None:
    closed = GoTrue(supabase_http, "http://127.0.0.1:9", "key", backoff=0.001)
    with pytest.raises(Unavailable, match="cannot be reached"):
        await closed.call("GET", "/user")


async def test_a_slow_supabase_is_unavailable(gotrue: FakeGoTrue) -> None:
    def too_slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(too_slow)) as http:
        with pytest.raises(Unavailable, match="in time"):
            await GoTrue(http, gotrue.url, "key").call("GET", "/user")


async def test_every_request_carries_the_apikey(wire: GoTrue, gotrue: FakeGoTrue) -> None:
    await wire.call("GET", "/.well-known/jwks.json")
    assert gotrue.seen_headers[-1]["apikey"] == gotrue.anon_key
    wrong = GoTrue(wire._http, gotrue.url, "not-the-key")
    with pytest.raises(Unavailable, match="API key"):
        await wrong.call("GET", "/.well-known/jwks.json")


async def test_older_token_errors_are_read(
    gotrue: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    gotrue.knobs.legacy_errors = True
    provider = supabase_provider(gotrue, supabase_http)
    with pytest.raises(Unauthenticated, match="Invalid login credentials"):
        await provider.login("nobody@example.com", "secret")


# -- the JWKS cache ----------------------------------------------------------------------


class Clock:
    """The verifier's clock, moved by hand: it times the caches and tokens' ``exp``."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def test_jwks_is_kept_ten_minutes_and_refetched_at_most_once_a_minute(
    wire: GoTrue, gotrue: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    provider = supabase_provider(gotrue, supabase_http)
    await provider.register("ada@example.com", "secret", None)
    token = (await provider.login("ada@example.com", "secret")).access_token
    claims = jwt.decode(token, options={"verify_signature": False})
    clock = Clock()
    verifier = TokenVerifier(wire, clock=clock)
    fetches = lambda: gotrue.count("/.well-known/jwks.json")  # noqa: E731

    await verifier.verify(token)
    assert fetches() == 1
    stranger = jwt.encode(claims, gotrue.private_key, algorithm="ES256", headers={"kid": "new"})
    for _ in range(3):  # an unknown kid: one refetch, not one per request
        clock.now += 61
        with pytest.raises(Unauthenticated):
            await verifier.verify(stranger)
        with pytest.raises(Unauthenticated):
            await verifier.verify(stranger + "")
    assert fetches() == 4
    with pytest.raises(Unauthenticated):
        await verifier.verify(stranger)  # within the minute: no refetch
    assert fetches() == 4

    other = gotrue.sign({**claims, "iat": claims["iat"] - 1})
    clock.now += 599
    await verifier.verify(other)
    assert fetches() == 4
    clock.now += 2  # ten minutes since the last fetch
    await verifier.verify(gotrue.sign({**claims, "iat": claims["iat"] - 2}))
    assert fetches() == 5


async def test_stale_keys_serve_while_supabase_is_down(wire: GoTrue, gotrue: FakeGoTrue) -> None:
    clock = Clock()
    verifier = TokenVerifier(wire, clock=clock)
    user_claims = {
        "sub": "7d3f6a52-3b1e-4a0c-9f57-2f6c1d9e8b10",
        "session_id": "0c8f3b9e-6a51-4a7d-8c1e-5b2d9f4e7a36",
        "aud": "authenticated",
        "iss": gotrue.issuer,
    }
    await verifier.verify(gotrue.sign({**user_claims, "exp": int(clock.now) + 99_999}))
    clock.now += 700
    gotrue.fail_next("/.well-known/jwks.json", 503, 503, 503)
    claims = await verifier.verify(gotrue.sign({**user_claims, "exp": int(clock.now) + 99_998}))
    assert str(claims.user_id) == user_claims["sub"]


def test_symmetric_and_foreign_keys_are_never_taken_from_the_jwks(gotrue: FakeGoTrue) -> None:
    jwk = gotrue.public_jwk()
    keys = parse_jwks(
        {
            "keys": [
                {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0", "alg": "HS256"},
                {**jwk, "kid": "mislabeled", "alg": "RS256"},
                {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"},
                jwk,
            ]
        }
    )
    assert list(keys) == [gotrue.kid]
    assert parse_jwks({"keys": []}) == {} == parse_jwks("not json")


# -- HS256 projects, and GET /user when nothing else can verify --------------------------


@pytest.fixture
def legacy() -> Iterator[FakeGoTrue]:
    fake = FakeGoTrue(hs256_secret="legacy-secret-" + "s" * 32).start()
    yield fake
    fake.stop()


async def test_hs256_with_the_secret_asks_supabase_nothing(
    legacy: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    provider = supabase_provider(legacy, supabase_http, jwt_secret=legacy.hs256_secret)
    await provider.register("ada@example.com", "secret", "Ada")
    token = (await provider.login("ada@example.com", "secret")).access_token
    for _ in range(5):
        assert (await provider.authenticate(token)).email == "ada@example.com"
    assert legacy.count("/user") == legacy.count("/.well-known/jwks.json") == 0


async def test_hs256_without_the_secret_asks_supabase_once_per_token(
    legacy: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    store = MemoryAuthStore()
    provider = supabase_provider(legacy, supabase_http, store=store)
    await provider.register("ada@example.com", "secret", "Ada")
    tokens = await provider.login("ada@example.com", "secret")
    for _ in range(5):
        principal = await provider.authenticate(tokens.access_token)
    assert legacy.count("/user") == 1
    assert (await provider.profile(principal)).display_name == "Ada"
    await provider.logout(principal)
    with pytest.raises(Unauthenticated):
        await provider.authenticate(tokens.access_token)
    forged = jwt.encode(
        jwt.decode(tokens.access_token, options={"verify_signature": False}),
        "not-the-secret-" + "x" * 32,
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated):
        await provider.authenticate(forged)
    assert legacy.count("/user") == 2


# -- profiles ----------------------------------------------------------------------------


async def test_the_first_authenticated_request_keeps_the_profile(
    gotrue: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    store = MemoryAuthStore()
    provider = supabase_provider(gotrue, supabase_http, store=store)
    user = await provider.register("ada@example.com", "secret", "Ada")
    assert await store.find_login("ada@example.com") is None  # not before it is used
    tokens = await provider.login("ada@example.com", "secret")
    await provider.authenticate(tokens.access_token)
    stored = await store.get_user(user.id)
    assert (stored.email, stored.display_name) == ("ada@example.com", "Ada")

    gotrue.users["ada@example.com"].metadata["display_name"] = "Ada L."
    renamed = await provider.refresh(tokens.refresh_token)
    await provider.authenticate(renamed.access_token)
    assert (await store.get_user(user.id)).display_name == "Ada L."
    assert (await store.get_user(user.id)).created_at == stored.created_at


# -- the seed's client wrapper -----------------------------------------------------------


async def test_the_wrapper_calls_any_path_with_its_key(
    gotrue: FakeGoTrue, supabase_http: httpx.AsyncClient
) -> None:
    anon = SupabaseClient(supabase_http, gotrue.url, gotrue.anon_key)
    service = SupabaseClient(supabase_http, gotrue.url, gotrue.service_key)
    resp = await anon.request("GET", "/rest/v1/echo", params={"select": "*"})
    assert resp.ok and resp.json()["role"] == "anon" and resp.json()["params"] == {"select": "*"}
    assert resp.json()["authorization"] == f"Bearer {gotrue.anon_key}"
    resp = await service.request("POST", "/rest/v1/echo", json={"a": 1}, token="user-jwt")
    assert resp.json() == {
        "role": "service_role",
        "params": {},
        "body": {"a": 1},
        "authorization": "Bearer user-jwt",
    }
    assert (await anon.request("GET", "/rest/v1/missing")).status_code == 404
    for path in ("https://elsewhere.example.com/steal", "//elsewhere.example.com/x", "rest/v1"):
        with pytest.raises(InvalidInput):
            await anon.request("GET", path)
    assert gotrue.anon_key not in repr(anon)
