"""The ceiling: a bare Litestar app serving the API's session payloads from memory.

No database, no authentication, no dependency injection, no logging: just routing, a
plain dataclass per session and Litestar's serialization of it, behind the same uvicorn
settings as ``forge serve``.
Whatever the real server does on top of this is what ``http_bench.py`` measures.

    python benchmarks/ceiling_app.py --port 8001 [--fixture sessions.json]

With ``--fixture`` (a JSON list of sessions, as ``GET /api/v1/sessions`` returns it),
the app serves exactly those objects, so its bodies are byte-for-byte the real ones;
without it, it makes up 50 sessions of the same shape.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
from litestar import Controller, Litestar, Router, get, post
from litestar.exceptions import NotFoundException

from forge_http.dto import MessageOut

API_PREFIX = "/api/v1"
LIST_SIZE = 50


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    chat_id: UUID
    role: str
    content: str
    tokens: int | None = None
    metadata_json: dict[str, object] | None = None


@dataclass(slots=True)
class SessionOut:
    """A session as the API shows it, as a plain dataclass (what an app without
    msgspec Structs would serialize)."""

    id: UUID
    user_id: UUID
    name: str
    status: str
    metadata_json: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


def synthetic_sessions(count: int = LIST_SIZE) -> list[SessionOut]:
    user_id = uuid4()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        SessionOut(
            id=uuid4(),
            user_id=user_id,
            name=f"bench session {n:02d}",
            status="active",
            metadata_json=None,
            created_at=start + timedelta(seconds=n),
            updated_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    ]


def load_sessions(fixture: Path) -> list[SessionOut]:
    return msgspec.json.decode(fixture.read_bytes(), type=list[SessionOut])


def create_ceiling_app(sessions: list[SessionOut] | None = None) -> Litestar:
    served = sessions if sessions is not None else synthetic_sessions()
    by_id = {session.id: session for session in served}
    user_id = served[0].user_id if served else uuid4()

    class SessionController(Controller):
        path = "/sessions"

        @get("/")
        async def list(self) -> list[SessionOut]:
            return served

        @get("/{session_id:uuid}")
        async def read(self, session_id: UUID) -> SessionOut:
            try:
                return by_id[session_id]
            except KeyError:
                raise NotFoundException(f"No session {session_id}") from None

    class MessageController(Controller):
        path = "/messages"

        @post("/")
        async def create(self, data: MessageIn) -> MessageOut:
            now = datetime.now(UTC)
            return MessageOut(
                id=uuid4(),
                user_id=user_id,
                chat_id=data.chat_id,
                role=data.role,
                content=data.content,
                tokens=data.tokens,
                metadata_json=data.metadata_json,
                created_at=now,
                updated_at=now,
            )

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    api = Router(path=API_PREFIX, route_handlers=[health, SessionController, MessageController])
    return Litestar(route_handlers=[api], openapi_config=None)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--fixture", type=Path, help="JSON list of sessions to serve")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()

    sessions = load_sessions(args.fixture) if args.fixture else None
    # The same uvicorn.run() call as forge_http.cli.serve: one worker, same flags.
    uvicorn.run(
        create_ceiling_app(sessions),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    main()
