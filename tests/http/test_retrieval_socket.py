"""Through the app as a client sees it: a run on a chat that names standard parts
answers with them, and the chat's socket hears a ``retrieval`` event first."""

from __future__ import annotations

from tests.http.test_chat_socket import (  # noqa: F401  (its fixtures, shared)
    Client,
    Person,
    client,
    database,
    fresh_database_url,
    make_client,
    until,
)

QUAD = "a 5-inch quad frame for a 20x20 stack and 2306 motors"


def test_a_run_reports_and_answers_with_the_parts_it_found(client: Client) -> None:  # noqa: F811
    alice = Person(client, "alice@example.com")
    chat_id = alice.new_chat()
    body = {"action": "process_requirements", "content": QUAD, "sync": True}
    with alice.socket(chat_id) as live:
        answer = alice.post(f"/chats/{chat_id}/runpod", body).json()
        seen = until(live, "runpod.completed")
    assert [e["type"] for e in seen] == ["retrieval", "runpod.queued", "runpod.completed"]
    found = [c["id"] for c in seen[0]["components"]]
    assert found == ["prop-5inch", "fc-stack-20x20", "motor-2306"]
    requirements = answer["message"]["metadata_json"]["requirements_json"]
    assert [c["id"] for c in requirements["components"]] == found
    assert requirements["components"][1]["hole_patterns"][0]["spacing"] == [20.0, 20.0]
