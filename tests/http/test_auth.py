"""Local auth over HTTP: register, login, me, refresh, logout, and refused tokens."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import User, sign_up

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Any]


async def test_register_answers_the_seed_body(client: Client) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": "demo@example.com", "password": "secret", "display_name": "Demo"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Registration successful"
    assert body["email"] == "demo@example.com"
    assert set(body) == {"message", "user_id", "email"}


async def test_a_registered_email_is_a_409(client: Client, alice: User) -> None:
    again = await client.post(
        "/auth/register", json={"email": "Alice@Example.com", "password": "another"}
    )
    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]


async def test_wrong_password_and_unknown_email_look_the_same(client: Client, alice: User) -> None:
    wrong = await client.post("/auth/login", json={"email": alice.email, "password": "nope!!"})
    unknown = await client.post(
        "/auth/login", json={"email": "nobody@example.com", "password": "secret"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_me_answers_the_profile(client: Client, alice: User) -> None:
    me = await client.get("/auth/me", headers=alice.headers)
    assert me.status_code == 200
    assert me.json()["email"] == alice.email
    assert me.json()["user_id"] == alice.user_id
    assert me.json()["display_name"] == "Demo"


async def test_logout_refuses_the_same_token_afterwards(client: Client) -> None:
    for method in ("GET", "POST"):
        user = await sign_up(client, f"{method.lower()}@example.com")
        response = await client.request(method, "/auth/logout", headers=user.headers)
        assert response.status_code == 200
        after = await client.get("/sessions", headers=user.headers)
        assert after.status_code == 401
        assert after.headers["www-authenticate"] == "Bearer"
        refreshed = await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
        assert refreshed.status_code == 401


async def test_refresh_rotates_and_a_replay_revokes_the_login(client: Client, alice: User) -> None:
    first = await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert first.status_code == 200
    tokens = first.json()
    assert tokens["refresh_token"] != alice.refresh_token
    new_headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/auth/me", headers=new_headers)).status_code == 200

    replay = await client.post("/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert replay.status_code == 401
    # The replay ended the whole login: the newest tokens are refused too.
    assert (await client.get("/auth/me", headers=new_headers)).status_code == 401
    again = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


async def test_missing_and_malformed_tokens_are_401_with_a_detail(client: Client) -> None:
    for headers in ({}, {"Authorization": "Token abc"}, {"Authorization": "Bearer not-a-jwt"}):
        response = await client.get("/sessions", headers=headers)
        assert response.status_code == 401
        assert response.json()["detail"]


async def test_forged_tokens_are_refused(client: Client, alice: User) -> None:
    token = alice.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = {
        "none": jwt.encode(claims, None, algorithm="none"),
        "other key": jwt.encode(claims, "another-secret-" + "y" * 32, algorithm="HS256"),
        "expired": jwt.encode(
            {**claims, "exp": int(time.time()) - 10}, "test-secret-" + "x" * 32, algorithm="HS256"
        ),
        "wrong audience": jwt.encode(
            {**claims, "aud": "someone-else"}, "test-secret-" + "x" * 32, algorithm="HS256"
        ),
    }
    for name, bad in forged.items():
        response = await client.get("/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, name


async def test_bad_registration_bodies_are_4xx_and_store_nothing(client: Client) -> None:
    cases = [
        ({"email": "x@example.com", "password": "123"}, 422, "password"),
        ({"email": "x@example.com"}, 400, "password"),
        ({"email": "x@example.com", "password": "secret", "role": "admin"}, 400, "role"),
        ({"email": "not-an-email", "password": "secret"}, 400, "email"),
    ]
    for body, status, field in cases:
        response = await client.post("/auth/register", json=body)
        assert response.status_code == status, response.text
        assert field in response.json()["detail"]
    login = await client.post("/auth/login", json={"email": "x@example.com", "password": "secret"})
    assert login.status_code == 401


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@example.com", "a@b.c\x85"])
async def test_a_bad_email_says_so_without_a_regex(client: Client, email: str) -> None:
    response = await client.post("/auth/register", json={"email": email, "password": "secret"})
    assert response.status_code == 400
    assert response.json()["detail"] == "email: not a valid email address"
