"""Sessions, chats and messages."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from forge_core.commands import ChatChanges, NewChat, NewMessage, NewSession, SessionChanges
from forge_http.dependencies import Caller, Paging, ParentFilter, PathId, Services
from forge_http.dto import ChatOut, MessageOut, SessionOut, to_dto, to_dtos


class SessionController(Controller):
    path = "/sessions"
    tags = ["sessions"]

    @post("/")
    async def create(
        self, data: JSONBody[NewSession], principal: Caller, services: Services
    ) -> SessionOut:
        return to_dto(SessionOut, await services.sessions.create(principal.user_id, data))

    @get("/", description="The caller's sessions, oldest first (created_at, then id).")
    async def list(self, principal: Caller, services: Services, page: Paging) -> list[SessionOut]:
        return to_dtos(SessionOut, await services.sessions.list(principal.user_id, page))

    @get("/{session_id:uuid}")
    async def read(self, session_id: PathId, principal: Caller, services: Services) -> SessionOut:
        return to_dto(SessionOut, await services.sessions.get(principal.user_id, session_id))

    @patch("/{session_id:uuid}")
    async def update(
        self,
        session_id: PathId,
        data: JSONBody[SessionChanges],
        principal: Caller,
        services: Services,
    ) -> SessionOut:
        updated = await services.sessions.update(principal.user_id, session_id, data)
        return to_dto(SessionOut, updated)

    @delete("/{session_id:uuid}", description="Deletes the session and everything under it.")
    async def remove(self, session_id: PathId, principal: Caller, services: Services) -> None:
        await services.sessions.delete(principal.user_id, session_id)


class ChatController(Controller):
    path = "/chats"
    tags = ["chats"]

    @post("/")
    async def create(
        self, data: JSONBody[NewChat], principal: Caller, services: Services
    ) -> ChatOut:
        return to_dto(ChatOut, await services.chats.create(principal.user_id, data))

    @get("/", description="The chats of one of the caller's sessions, oldest first.")
    async def list(
        self,
        principal: Caller,
        services: Services,
        page: Paging,
        session_id: Annotated[UUID, QueryParameter(description="Required: whose chats to list")],
    ) -> list[ChatOut]:
        chats = await services.chats.list(principal.user_id, page, parent_id=session_id)
        return to_dtos(ChatOut, chats)

    @get("/{chat_id:uuid}")
    async def read(self, chat_id: PathId, principal: Caller, services: Services) -> ChatOut:
        return to_dto(ChatOut, await services.chats.get(principal.user_id, chat_id))

    @patch("/{chat_id:uuid}")
    async def update(
        self, chat_id: PathId, data: JSONBody[ChatChanges], principal: Caller, services: Services
    ) -> ChatOut:
        return to_dto(ChatOut, await services.chats.update(principal.user_id, chat_id, data))

    @delete("/{chat_id:uuid}", description="Deletes the chat and its messages.")
    async def remove(self, chat_id: PathId, principal: Caller, services: Services) -> None:
        await services.chats.delete(principal.user_id, chat_id)


class MessageController(Controller):
    path = "/messages"
    tags = ["messages"]

    @post("/")
    async def create(
        self, data: JSONBody[NewMessage], principal: Caller, services: Services
    ) -> MessageOut:
        return to_dto(MessageOut, await services.messages.create(principal.user_id, data))

    @get("/", description="The caller's messages, of one chat if given, oldest first.")
    async def list(
        self,
        principal: Caller,
        services: Services,
        page: Paging,
        chat_id: ParentFilter = None,
    ) -> list[MessageOut]:
        found = await services.messages.list(principal.user_id, page, parent_id=chat_id)
        return to_dtos(MessageOut, found)

    @get("/{message_id:uuid}")
    async def read(self, message_id: PathId, principal: Caller, services: Services) -> MessageOut:
        return to_dto(MessageOut, await services.messages.get(principal.user_id, message_id))

    @delete("/{message_id:uuid}")
    async def remove(self, message_id: PathId, principal: Caller, services: Services) -> None:
        await services.messages.delete(principal.user_id, message_id)
