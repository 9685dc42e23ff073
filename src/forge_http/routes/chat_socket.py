"""``WS /chat-socket/{chat_id}?token=<access token>[&since=<seq>]``: the chat's events.

On connect, and before any event, the socket is accepted (so that a close code reaches
the client) and then closed if it is refused: 4401 for a bad or missing token, 4404 for
a chat that is missing or another user's, 4400 for a ``since`` that is not a whole
number from 0. Otherwise it subscribes to the chat first, then replays from the log the
events after ``since``, then forwards live events, skipping any ``seq`` already sent; a
gap in the live stream (an event the bus missed) is filled from the log, so the client
sees every seq once and in order.

Client frames: ``{"type": "runpod.request", "payload": {...}}`` starts a run as the POST
does (its events follow on every socket of the chat; ``sync`` changes nothing here) and
``{"type": "ping"}`` gets ``{"type": "pong"}``. A frame that is malformed or refused gets
an ``error`` frame (``status_code`` and ``detail``, as the HTTP errors, and a rate
limit's ``retry_after``) and the socket stays open. The handler catches errors because a
socket has no response to map them to.

A socket can go under a send: the client left, or the server is stopping (uvicorn closes
every socket with 1012 on SIGTERM, so that clients reconnect to another replica with
``since``). The stream then ends quietly: there is no one left to tell.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import anyio
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from forge_core.entities import ChatEvent
from forge_core.errors import ForgeError, NotFound, RateLimited, Unauthenticated
from forge_http.container import ServiceSet
from forge_http.dependencies import PathId
from forge_http.errors import status_for
from forge_http.metrics import OPEN_SOCKETS
from forge_http.security import PUBLIC, bearer_token
from forge_http.socket_frames import (
    PONG,
    BadFrame,
    error_frame,
    event_frame,
    parse_since,
    read_frame,
)

CLOSE_BAD_REQUEST, CLOSE_UNAUTHENTICATED, CLOSE_NOT_FOUND = 4400, 4401, 4404
CLOSE_UNAVAILABLE, CLOSE_GOING_AWAY = 1011, 1001
#: Events read from the log per query while replaying.
REPLAY_PAGE = 500


class Gone(Exception):
    """The socket closed under a send."""


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason[:120]  # a close reason fits in 123 bytes


async def admit(socket: WebSocket[Any, Any, Any], services: ServiceSet, chat_id: UUID) -> UUID:
    """The caller's user id, once the token and the chat are checked. Raises Refused."""
    try:
        principal = await services.auth.authenticate(bearer_token(socket))
        await services.events.check_chat(principal.user_id, chat_id)
    except Unauthenticated as exc:
        raise Refused(CLOSE_UNAUTHENTICATED, exc.detail) from exc
    except NotFound as exc:
        raise Refused(CLOSE_NOT_FOUND, "chat not found") from exc
    except ForgeError as exc:
        raise Refused(CLOSE_UNAVAILABLE, exc.detail) from exc
    return principal.user_id


class ChatStream:
    """One open socket on one chat: replays, forwards live events, answers frames."""

    def __init__(
        self, socket: WebSocket[Any, Any, Any], services: ServiceSet, user_id: UUID, chat_id: UUID
    ) -> None:
        self.socket, self.services = socket, services
        self.user_id, self.chat_id = user_id, chat_id
        self.last = 0  # the highest seq sent
        self._send_lock = anyio.Lock()

    async def run(self, since: int) -> None:
        async with self.services.events.follow(self.chat_id) as live:
            self.last = since
            await self.replay()
            async with anyio.create_task_group() as group:
                group.start_soon(self.forward, live, group.cancel_scope)
                await self.read()
                group.cancel_scope.cancel()

    async def replay(self) -> None:
        """Send the stored events after ``last``, page by page."""
        while True:
            page = await self.services.events.since(
                self.user_id, self.chat_id, self.last, REPLAY_PAGE
            )
            for event in page:
                await self.send_event(event)
            if len(page) < REPLAY_PAGE:
                return

    async def forward(self, live: AsyncIterator[ChatEvent], scope: anyio.CancelScope) -> None:
        async for event in live:
            if event.seq > self.last + 1:
                await self.replay()  # the bus missed one: the log has it
            if event.seq == self.last + 1:
                await self.send_event(event)
        # The bus closed (the server is stopping): the client reconnects with ``since``.
        await self.socket.close(CLOSE_GOING_AWAY, "the server is stopping")
        scope.cancel()

    async def read(self) -> None:
        """Answer the client's frames until it disconnects."""
        while True:
            message = await self.socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message["type"] == "websocket.receive":
                await self.answer(message.get("text") or message.get("bytes") or "")

    async def answer(self, raw: str | bytes) -> None:
        try:
            frame = read_frame(raw)
            if frame.request is None:
                await self.send(PONG)
                return
            await self.services.runs.start(self.user_id, self.chat_id, frame.request)
        except BadFrame as bad:
            await self.send(error_frame(self.chat_id, bad.status_code, bad.detail))
        except ForgeError as exc:
            wait = exc.retry_after if isinstance(exc, RateLimited) else None
            await self.send(error_frame(self.chat_id, status_for(exc), exc.detail, wait))

    async def send_event(self, event: ChatEvent) -> None:
        await self.send(event_frame(event))
        self.last = event.seq

    async def send(self, text: str) -> None:
        """Send one frame. Raises Gone if the socket has closed (uvicorn's
        ClientDisconnected is an OSError)."""
        async with self._send_lock:
            try:
                await self.socket.send_text(text)
            except (WebSocketDisconnect, OSError) as exc:
                raise Gone from exc


@websocket("/chat-socket/{chat_id:uuid}", opt=PUBLIC)
async def chat_socket(socket: WebSocket[Any, Any, Any], chat_id: PathId) -> None:
    await socket.accept()
    services: ServiceSet = socket.app.state.services
    try:
        user_id = await admit(socket, services, chat_id)
        since = parse_since(socket.query_params.get("since"))
    except BadFrame as bad:
        await socket.close(CLOSE_BAD_REQUEST, bad.detail[:120])
        return
    except Refused as refused:
        await socket.close(refused.code, refused.reason)
        return
    OPEN_SOCKETS.inc()
    try:
        await ChatStream(socket, services, user_id, chat_id).run(since)
    except* Gone:
        pass  # nothing to send on a socket that is closed
    except* NotFound:  # the chat was deleted while the socket replayed it
        await socket.close(CLOSE_NOT_FOUND, "chat not found")
    finally:
        OPEN_SOCKETS.dec()


__all__ = ["chat_socket"]
