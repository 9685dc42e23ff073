"""Sessions, chats and messages: the conversation side of the product."""

from __future__ import annotations

from uuid import UUID

from forge_core.commands import (
    Changes,
    ChatChanges,
    NewChat,
    NewMessage,
    NewSession,
    SessionChanges,
)
from forge_core.entities import Chat, Message, Session
from forge_core.services.records import Records
from forge_core.storage_keys import session_prefix


class Sessions(Records[Session, NewSession, SessionChanges]):
    kind = Session

    async def _folder(self, owner: UUID, entity_id: UUID) -> str:
        return session_prefix(owner, entity_id)  # the delete itself checks it is the owner's


class Chats(Records[Chat, NewChat, ChatChanges]):
    kind = Chat


class Messages(Records[Message, NewMessage, Changes]):
    """Messages are written once: the API creates, reads and deletes them."""

    kind = Message
