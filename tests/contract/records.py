"""Records for the Repository tests: one tree of each kind, at fixed UTC times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from forge_core.entities import Asset, AssetMeta, Chat, Job, Message, OwnedEntity, Session
from forge_core.errors import NotFound
from forge_core.ports import Repository

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Tree:
    """One record of each kind, each under the one before."""

    session: Session
    chat: Chat
    message: Message
    job: Job
    asset: Asset
    meta: AssetMeta

    def records(self) -> list[OwnedEntity]:
        return [self.session, self.chat, self.message, self.job, self.asset, self.meta]


def make_tree(owner: UUID, when: datetime = T0) -> Tree:
    stamps: dict[str, Any] = {"user_id": owner, "created_at": when, "updated_at": when}
    session = Session(id=uuid4(), name="Quadcopter", metadata_json={"a": 1}, **stamps)
    chat = Chat(id=uuid4(), session_id=session.id, title="Frame", **stamps)
    message = Message(id=uuid4(), chat_id=chat.id, role="user", content="160 mm", **stamps)
    job = Job(id=uuid4(), session_id=session.id, prompt="a frame", output_format="stl", **stamps)
    asset = Asset(id=uuid4(), job_id=job.id, asset_type="stl", uri="file:///f.stl", **stamps)
    meta = AssetMeta(id=uuid4(), asset_id=asset.id, part_name="arm", **stamps)
    return Tree(session, chat, message, job, asset, meta)


async def add_tree(repo: Repository, owner: UUID, when: datetime = T0) -> Tree:
    tree = make_tree(owner, when)
    for record in tree.records():
        await repo.add(record)
    return tree


async def assert_gone(repo: Repository, owner: UUID, *records: OwnedEntity) -> None:
    for record in records:
        with pytest.raises(NotFound):
            await repo.get(type(record), record.id, owner)


async def assert_kept(repo: Repository, owner: UUID, *records: OwnedEntity) -> None:
    for record in records:
        assert await repo.get(type(record), record.id, owner) == record
