"""The default (template) backend over HTTP: a request no template covers is answered in
words and starts no 3D job; one it covers says what its numbers were read as and starts
one."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import User, create, sign_up

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Any]
NO_MODEL = (
    "The offline template backend has no model for a phone stand; it makes quadcopter "
    "frames, enclosures, L brackets and plates."
)


async def run(client: Client, user: User, chat_id: str, action: str, words: str) -> Any:
    body = {"action": action, "content": words, "sync": True}
    response = await client.post(f"/chats/{chat_id}/runpod", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def jobs(client: Client, user: User) -> list[dict[str, Any]]:
    response = await client.get("/jobs", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_phone_stand_is_refused_in_words_and_starts_no_job(client: Client) -> None:
    alice = await sign_up(client, "alice@example.com")
    session = await create(client, alice, "/sessions", {"name": "s"})
    chat = (await create(client, alice, "/chats", {"session_id": session["id"]}))["id"]

    asked = await run(client, alice, chat, "process_requirements", "a phone stand")
    assert asked["status"] == "completed"
    assert asked["message"]["content"] == NO_MODEL
    refused = await run(client, alice, chat, "generate_scad", "a phone stand")
    assert (refused["status"], refused["message"]["content"]) == ("completed", NO_MODEL)
    assert refused["output"]["status"] == "unsupported"

    # A request a template covers, after it: once its job is there, the refused run's
    # hand-off (which came first) has long been decided.
    made = await run(client, alice, chat, "generate_scad", "a 160 mm quadcopter with 3 mm arms")
    assert made["output"]["parameters"]["arm_thickness"] == 3
    header = made["message"]["content"].replace("\n// ", " ")  # the SCAD's wrapped comment
    assert '"3 mm arms" as arm thickness 3 mm' in header
    with anyio.fail_after(10):
        while True:
            found = await jobs(client, alice)
            if found:
                break
            await anyio.sleep(0.05)
    assert [job["prompt"] for job in found] == ["a 160 mm quadcopter with 3 mm arms"]
