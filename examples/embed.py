"""Use Forge's core from Python, without HTTP: a design session on the in-memory adapters.

Run it with ``python examples/embed.py``; pass ``--sqlite PATH`` to keep the records in a
SQLite file instead (migrated on the spot).
"""

from __future__ import annotations

import argparse
import asyncio
from uuid import UUID, uuid4

from forge_adapters.memory import MemoryAuthStore, MemoryRepository
from forge_adapters.sql import SqlAuthStore, SqlRepository, create_engine, migrate
from forge_core.commands import JobChanges, NewAsset, NewChat, NewJob, NewMessage, NewSession
from forge_core.entities import JobStatus, User, utc_now
from forge_core.errors import InvalidTransition, NotFound
from forge_core.ports import AuthStore, Repository
from forge_core.services import Assets, Chats, Jobs, Messages, Page, Sessions


async def add_user(users: AuthStore, email: str) -> UUID:
    """Records belong to users; here they are made directly, with no password."""
    now = utc_now()
    user = User(id=uuid4(), email=email, created_at=now, updated_at=now)
    await users.add_user(user, password_hash=None)
    return user.id


async def design_session(repo: Repository, users: AuthStore) -> None:
    owner = await add_user(users, "maker@example.com")
    stranger = await add_user(users, "stranger@example.com")
    sessions, chats, messages = Sessions(repo), Chats(repo), Messages(repo)
    jobs, assets = Jobs(repo), Assets(repo)

    session = await sessions.create(owner, NewSession(name="Quadcopter", metadata_json={"a": 1}))
    chat = await chats.create(owner, NewChat(session_id=session.id, title="Frame"))
    await messages.create(
        owner, NewMessage(chat_id=chat.id, role="user", content="160 mm frame, 3 mm arms")
    )
    job = await jobs.create(owner, NewJob(session_id=session.id, prompt="160 mm quad frame"))
    job = await jobs.start(owner, job.id)
    job = await jobs.complete(owner, job.id, success=True)
    asset = await assets.create(
        owner, NewAsset(job_id=job.id, asset_type="stl", uri="file:///f.stl")
    )

    print(f"session {session.name!r}: job {job.status.value}, asset {asset.asset_type}")
    print("messages:", [m.content for m in await messages.list(owner, Page(), chat.id)])

    try:
        await jobs.update(owner, job.id, JobChanges(status=JobStatus.RUNNING))
    except InvalidTransition as exc:
        print("refused:", exc)
    try:
        await sessions.get(stranger, session.id)
    except NotFound as exc:
        print("another user sees:", exc)

    await sessions.delete(owner, session.id)
    print("after delete:", len(await jobs.list(owner, Page())), "jobs left")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sqlite", help="a SQLite file to store the records in")
    args = parser.parse_args()
    if not args.sqlite:
        await design_session(MemoryRepository(), MemoryAuthStore())
        return
    engine = create_engine(f"sqlite+aiosqlite:///{args.sqlite}")
    try:
        await migrate(engine)
        await design_session(SqlRepository(engine), SqlAuthStore(engine))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
