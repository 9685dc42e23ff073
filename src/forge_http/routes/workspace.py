"""Sessions, chats and messages."""

from __future__ import annotations

import builtins
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from forge_core.commands import ChatChanges, NewChat, NewMessage, NewSession, SessionChanges
from forge_http.dependencies import CallerRequest, Limit, Offset, ParentFilter, PathId, page
from forge_http.dto import ChatOut, MessageOut, SessionOut, to_dto, to_dtos
from forge_http.openapi import CHAT_CREATED, MESSAGE_CREATED, SESSION_CREATED, Documented

SessionFilter = Annotated[UUID, QueryParameter(description="Required: the session's id")]


class SessionController(Controller):
    path = "/sessions"
    tags = ["sessions"]

    @post("/", operation_class=SESSION_CREATED)
    async def create(self, data: JSONBody[NewSession], request: CallerRequest) -> SessionOut:
        caller = request.caller
        created = await caller.services.sessions.create(caller.user_id, data)
        return to_dto(SessionOut, created)

    @get(
        "/",
        description="The caller's sessions, oldest first (created_at, then id).",
        operation_class=Documented,
    )
    async def list(
        self, request: CallerRequest, limit: Limit = 50, offset: Offset = 0
    ) -> builtins.list[SessionOut]:
        caller = request.caller
        found = await caller.services.sessions.list(caller.user_id, page(limit, offset))
        return to_dtos(SessionOut, found)

    @get("/{session_id:uuid}", operation_class=Documented)
    async def read(self, session_id: PathId, request: CallerRequest) -> SessionOut:
        caller = request.caller
        found = await caller.services.sessions.get(caller.user_id, session_id)
        return to_dto(SessionOut, found)

    @patch("/{session_id:uuid}", operation_class=Documented)
    async def update(
        self, session_id: PathId, data: JSONBody[SessionChanges], request: CallerRequest
    ) -> SessionOut:
        caller = request.caller
        updated = await caller.services.sessions.update(caller.user_id, session_id, data)
        return to_dto(SessionOut, updated)

    @delete(
        "/{session_id:uuid}",
        description="Deletes the session and everything under it.",
        operation_class=Documented,
    )
    async def remove(self, session_id: PathId, request: CallerRequest) -> None:
        caller = request.caller
        await caller.services.sessions.delete(caller.user_id, session_id)


class ChatController(Controller):
    path = "/chats"
    tags = ["chats"]

    @post("/", operation_class=CHAT_CREATED)
    async def create(self, data: JSONBody[NewChat], request: CallerRequest) -> ChatOut:
        caller = request.caller
        return to_dto(ChatOut, await caller.services.chats.create(caller.user_id, data))

    @get(
        "/",
        description="The chats of one of the caller's sessions, oldest first.",
        operation_class=Documented,
    )
    async def list(
        self,
        request: CallerRequest,
        session_id: SessionFilter,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> builtins.list[ChatOut]:
        caller = request.caller
        found = await caller.services.chats.list(caller.user_id, page(limit, offset), session_id)
        return to_dtos(ChatOut, found)

    @get("/{chat_id:uuid}", operation_class=Documented)
    async def read(self, chat_id: PathId, request: CallerRequest) -> ChatOut:
        caller = request.caller
        return to_dto(ChatOut, await caller.services.chats.get(caller.user_id, chat_id))

    @patch("/{chat_id:uuid}", operation_class=Documented)
    async def update(
        self, chat_id: PathId, data: JSONBody[ChatChanges], request: CallerRequest
    ) -> ChatOut:
        caller = request.caller
        updated = await caller.services.chats.update(caller.user_id, chat_id, data)
        return to_dto(ChatOut, updated)

    @delete(
        "/{chat_id:uuid}",
        description="Deletes the chat and its messages.",
        operation_class=Documented,
    )
    async def remove(self, chat_id: PathId, request: CallerRequest) -> None:
        caller = request.caller
        await caller.services.chats.delete(caller.user_id, chat_id)


class MessageController(Controller):
    path = "/messages"
    tags = ["messages"]

    @post("/", operation_class=MESSAGE_CREATED)
    async def create(self, data: JSONBody[NewMessage], request: CallerRequest) -> MessageOut:
        caller = request.caller
        created = await caller.services.messages.create(caller.user_id, data)
        return to_dto(MessageOut, created)

    @get(
        "/",
        description="The caller's messages, of one chat if given, oldest first.",
        operation_class=Documented,
    )
    async def list(
        self,
        request: CallerRequest,
        chat_id: ParentFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> builtins.list[MessageOut]:
        caller = request.caller
        found = await caller.services.messages.list(caller.user_id, page(limit, offset), chat_id)
        return to_dtos(MessageOut, found)

    @get("/{message_id:uuid}", operation_class=Documented)
    async def read(self, message_id: PathId, request: CallerRequest) -> MessageOut:
        caller = request.caller
        return to_dto(MessageOut, await caller.services.messages.get(caller.user_id, message_id))

    @delete("/{message_id:uuid}", operation_class=Documented)
    async def remove(self, message_id: PathId, request: CallerRequest) -> None:
        caller = request.caller
        await caller.services.messages.delete(caller.user_id, message_id)
