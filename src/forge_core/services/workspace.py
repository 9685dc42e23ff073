"""Sessions, chats and messages: the conversation side of the product."""

from __future__ import annotations

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


class Sessions(Records[Session, NewSession, SessionChanges]):
    kind = Session


class Chats(Records[Chat, NewChat, ChatChanges]):
    kind = Chat


class Messages(Records[Message, NewMessage, Changes]):
    """Messages are written once: the API creates, reads and deletes them."""

    kind = Message
