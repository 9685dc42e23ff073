"""The API on Supabase Auth (the fake GoTrue): the seed's auth flow, what each bad token
gets, how Supabase's errors reach the client, and how rarely Supabase is asked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.testing import AsyncTestClient

from forge_http import build_container, create_app
from tests.fakes.gotrue import FakeGoTrue
from tests.http.conftest import make_settings

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Any]


def supabase_app(tmp_path: Path, fake: FakeGoTrue, **overrides: Any) -> AsyncTestClient[Any]:
    settings = make_settings(
        tmp_path, supabase_url=fake.url, supabase_anon_key=fake.anon_key, **overrides
    )
    assert settings.auth_backend == "supabase"  # SUPABASE_URL alone selects it
    return AsyncTestClient(
        create_app(build_container(settings)), base_url="http://testserver.local/api/v1"
    )


@pytest.fixture
async def client(tmp_path: Path, gotrue: FakeGoTrue) -> AsyncIterator[Client]:
    async with supabase_app(tmp_path, gotrue) as c:
        yield c


async def login(
    client: Client, email: str = "demo@example.com", password: str = "secret"
) -> dict[str, Any]:
    registered = await client.post(
        "/auth/register", json={"email": email, "password": password, "display_name": "Demo"}
    )
    assert registered.status_code == 201, registered.text
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed_hs256(claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token made by hand: PyJWT refuses to sign with a public key, attackers don't."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def public_pem(fake: FakeGoTrue) -> bytes:
    return fake.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# -- the seed's flow --------------------------------------------------------------------


async def test_the_seed_auth_flow_on_supabase(client: Client, gotrue: FakeGoTrue) -> None:
    registered = await client.post(
        "/auth/register",
        json={"email": "demo@example.com", "password": "secret", "display_name": "Demo"},
    )
    assert registered.status_code == 201
    body = registered.json()
    assert set(body) == {"message", "user_id", "email"}
    assert body["message"] == "Registration successful"
    assert body["user_id"] == gotrue.users["demo@example.com"].id

    tokens = (
        await client.post("/auth/login", json={"email": "demo@example.com", "password": "secret"})
    ).json()
    assert tokens["token_type"] == "bearer" and tokens["user_id"] == body["user_id"]

    me = await client.get("/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert (me.json()["user_id"], me.json()["email"], me.json()["display_name"]) == (
        body["user_id"],
        "demo@example.com",
        "Demo",
    )
    session = await client.post(
        "/sessions", json={"name": "On Supabase"}, headers=bearer(tokens["access_token"])
    )
    assert session.status_code == 201 and session.json()["user_id"] == body["user_id"]

    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]

    assert (
        await client.get("/auth/logout", headers=bearer(tokens["access_token"]))
    ).status_code == 200
    assert gotrue.count("/logout") == 1
    for token in (tokens["access_token"], refreshed.json()["access_token"]):  # the whole login
        after = await client.get("/sessions", headers=bearer(token))
        assert after.status_code == 401
        assert after.json()["detail"] == "This login has ended; log in again"


async def test_register_with_email_confirmation_on(client: Client, gotrue: FakeGoTrue) -> None:
    gotrue.knobs.autoconfirm = False
    body = {"email": "new@example.com", "password": "secret"}
    registered = await client.post("/auth/register", json=body)
    assert registered.status_code == 201
    assert registered.json()["user_id"] == gotrue.users["new@example.com"].id

    refused = await client.post("/auth/login", json=body)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("Email not confirmed")
    gotrue.confirm("new@example.com")
    assert (await client.post("/auth/login", json=body)).status_code == 200

    again = await client.post("/auth/register", json=body)  # GoTrue answers a decoy user
    assert again.status_code == 409


# -- what bad tokens get ----------------------------------------------------------------


LEGACY_SECRET = "legacy-jwt-secret-" + "s" * 32


def bad_tokens(fake: FakeGoTrue, good: str) -> dict[str, str | None]:
    claims = jwt.decode(good, options={"verify_signature": False})
    other_key = ec.generate_private_key(ec.SECP256R1())
    head, _, rest = good.partition(".")
    payload = b64(json.dumps({**claims, "sub": "00000000-0000-0000-0000-000000000001"}).encode())
    kid = {"kid": fake.kid}
    none_head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    rs_head = b64(json.dumps({"alg": "RS256", **kid}).encode())
    return {
        "no token": None,
        "garbage": "garbage",
        "bad signature": jwt.encode(claims, other_key, algorithm="ES256", headers=kid),
        "tampered claims": f"{head}.{payload}.{rest.partition('.')[2]}",
        "expired": fake.sign({**claims, "exp": int(time.time()) - 5}),
        "wrong audience": fake.sign({**claims, "aud": "anon"}),
        "wrong issuer": fake.sign({**claims, "iss": "https://evil.example.com/auth/v1"}),
        "no session id": fake.sign({k: v for k, v in claims.items() if k != "session_id"}),
        "alg none": f"{none_head}.{b64(json.dumps(claims).encode())}.",
        "HS256 with the public key": hand_signed_hs256(claims, public_pem(fake)),
        "HS256 with the JWK": hand_signed_hs256(claims, json.dumps(fake.public_jwk()).encode()),
        "RS256 header on the EC key": f"{rs_head}.{good.split('.', 1)[1]}",
        "unknown kid": jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": "k2"}),
        "the project's anon key": jwt.encode(
            {"iss": "supabase", "ref": "p", "role": "anon", "iat": 0, "exp": 2**31},
            LEGACY_SECRET,
            algorithm="HS256",
        ),
    }


NAMES = [
    "no token",
    "garbage",
    "bad signature",
    "tampered claims",
    "expired",
    "wrong audience",
    "wrong issuer",
    "no session id",
    "alg none",
    "HS256 with the public key",
    "HS256 with the JWK",
    "RS256 header on the EC key",
    "unknown kid",
    "the project's anon key",
]


@pytest.mark.parametrize("secret", [None, LEGACY_SECRET], ids=["jwks", "hs256"])
async def test_every_bad_token_is_a_401(
    tmp_path: Path, gotrue: FakeGoTrue, secret: str | None
) -> None:
    async with supabase_app(tmp_path, gotrue, supabase_jwt_secret=secret) as client:
        good = (await login(client))["access_token"]
        assert (await client.get("/sessions", headers=bearer(good))).status_code == 200
        for name, token in bad_tokens(gotrue, good).items():
            headers = bearer(token) if token is not None else {}
            response = await client.get("/sessions", headers=headers)
            assert response.status_code == 401, (name, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
        assert sorted(bad_tokens(gotrue, good)) == sorted(NAMES)
        assert gotrue.count("/.well-known/jwks.json") <= 2  # the unknown kid: one refetch


# -- how rarely Supabase is asked -------------------------------------------------------


async def test_a_thousand_calls_fetch_the_jwks_once_and_never_ask_for_the_user(
    client: Client, gotrue: FakeGoTrue
) -> None:
    tokens = await login(client)
    headers = bearer(tokens["access_token"])
    session = (await client.post("/sessions", json={"name": "count"}, headers=headers)).json()
    before = dict(gotrue.requests)
    paths = ["/sessions", f"/sessions/{session['id']}", "/auth/me", "/jobs"]
    for i in range(1000):
        response = await client.get(paths[i % len(paths)], headers=headers)
        assert response.status_code == 200
    jwks, user = gotrue.count("/.well-known/jwks.json"), gotrue.count("/user")
    asked = {path: n - before.get(path, 0) for path, n in gotrue.requests.items()}
    print(
        f"\nrequests to the fake GoTrue: {dict(gotrue.requests)}; during the 1,000 calls: {asked}"
    )
    assert jwks <= 1
    assert user == 0
    assert sum(asked.values()) == 0


# -- Supabase's errors at the client ----------------------------------------------------


async def test_supabase_errors_reach_the_client_mapped(client: Client, gotrue: FakeGoTrue) -> None:
    weak = await client.post("/auth/register", json={"email": "w@example.com", "password": "abc"})
    assert weak.status_code == 422
    assert weak.json()["detail"] == (
        "password: Password should be at least 6 characters. (reasons: length)"
    )
    pwned = await client.post(
        "/auth/register", json={"email": "w@example.com", "password": "password123"}
    )
    assert pwned.status_code == 422 and "reasons: pwned" in pwned.json()["detail"]

    await login(client)
    taken = await client.post(
        "/auth/register", json={"email": "demo@example.com", "password": "secret"}
    )
    assert taken.status_code == 409 and taken.json()["detail"] == "User already registered"
    wrong = await client.post(
        "/auth/login", json={"email": "demo@example.com", "password": "wrong!"}
    )
    assert wrong.status_code == 401 and wrong.json()["detail"] == "Invalid login credentials"

    gotrue.rate_limit("/token", allowed=0, retry_after=17)
    limited = await client.post(
        "/auth/login", json={"email": "demo@example.com", "password": "secret"}
    )
    assert limited.status_code == 429 and limited.headers["retry-after"] == "17"
    gotrue.rate_limit("/signup", allowed=0)
    limited = await client.post(
        "/auth/register", json={"email": "x@example.com", "password": "secret"}
    )
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"

    gotrue.knobs.limits.clear()
    gotrue.fail_next("/token", 502, 504, 503)
    down = await client.post(
        "/auth/login", json={"email": "demo@example.com", "password": "secret"}
    )
    assert down.status_code == 503
    assert gotrue.count("/token") == 6  # login, wrong password, limited; then three tries


async def test_keys_passwords_and_tokens_never_reach_a_log(
    client: Client, gotrue: FakeGoTrue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gotrue.fail_next("/signup", 502)
    tokens = await login(client, password="Unl1kely-Pa55word")
    await client.get("/auth/me", headers=bearer(tokens["access_token"]))
    gotrue.fail_next("/logout", 503, 503, 503)  # the upstream logout fails: logged, not fatal
    assert (
        await client.post("/auth/logout", headers=bearer(tokens["access_token"]))
    ).status_code == 200
    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "Supabase logout not confirmed" in logged
    for secret in (
        gotrue.anon_key,
        "Unl1kely-Pa55word",
        tokens["access_token"],
        tokens["refresh_token"],
    ):
        assert secret not in logged
