"""The storage layer alone: what one SQLite call costs through SQLAlchemy + aiosqlite.

    python benchmarks/storage_probe.py [--calls 2000]

No HTTP and no concurrency: one coroutine calls the SQL adapters in a loop on a fresh
SQLite file (50 sessions, one login) and prints, per call, the aiosqlite thread hand-offs
("hops") and the time taken. For scale it also times a bare aiosqlite hop and the list
query on the plain ``sqlite3`` module. ``http_bench.py`` says how far the server is from
its ceiling; this says how much of a request the storage calls alone account for.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiosqlite
import aiosqlite.core

from forge_adapters.sql import SqlAuthStore, SqlRepository, create_engine, migrate
from forge_core.entities import AuthSession, Session, User

HOPS: Counter[str] = Counter()
_execute = aiosqlite.core.Connection._execute


async def _counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
    HOPS[getattr(fn, "__qualname__", repr(fn))] += 1
    return await _execute(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]


async def timed(name: str, call: Callable[[], Awaitable[object]], calls: int) -> None:
    for _ in range(calls // 10):  # warm the statement caches
        await call()
    HOPS.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        await call()
    wall = (time.perf_counter() - wall) / calls * 1e6
    cpu = (time.process_time() - cpu) / calls * 1e6
    hops = sum(HOPS.values()) / calls
    print(f"| {name} | {hops:.1f} | {wall:,.0f} | {cpu:,.0f} |")


async def probe(calls: int, tmp: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp}/probe.db")
    await migrate(engine)
    repo, auth = SqlRepository(engine), SqlAuthStore(engine)
    now = datetime.now(UTC)
    user = User(id=uuid4(), email="probe@example.com", created_at=now, updated_at=now)
    await auth.add_user(user, None)
    login = AuthSession(
        id=uuid4(),
        user_id=user.id,
        refresh_token_hash="x",
        expires_at=now + timedelta(days=1),
        created_at=now,
        updated_at=now,
    )
    await auth.add_session(login)
    ids = []
    for n in range(50):
        at = now + timedelta(seconds=n)
        session = Session(id=uuid4(), user_id=user.id, name=f"s{n}", created_at=at, updated_at=at)
        await repo.add(session)
        ids.append(session.id)

    aiosqlite.core.Connection._execute = _counted  # type: ignore[method-assign]
    print("| call | aiosqlite hops | µs wall | µs CPU |")
    print("|---|---:|---:|---:|")
    await timed(
        "SqlAuthStore.get_session (every request)", lambda: auth.get_session(login.id), calls
    )
    await timed("SqlRepository.get, 1 session", lambda: repo.get(Session, ids[25], user.id), calls)
    await timed("SqlRepository.list, 50 sessions", lambda: repo.list(Session, user.id), calls)
    hops_by_call = ", ".join(f"{name}" for name, _ in HOPS.most_common())
    await engine.dispose()

    async with aiosqlite.connect(":memory:") as bare:
        await timed("bare aiosqlite hop (a no-op)", lambda: bare._execute(lambda: None), calls)  # type: ignore[no-untyped-call]
    aiosqlite.core.Connection._execute = _execute  # type: ignore[method-assign]

    db = sqlite3.connect(tmp / "probe.db")
    query = "SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at, id LIMIT 50"
    rows = db.execute(query, (user.id.hex,)).fetchall()
    start = time.perf_counter()
    for _ in range(calls):
        rows = db.execute(query, (user.id.hex,)).fetchall()
    took = (time.perf_counter() - start) / calls * 1e6
    print(f"| plain sqlite3, same list query ({len(rows)} rows) | 0 | {took:,.0f} | - |")
    db.close()
    print(f"\nthe hops of one SQLAlchemy query: {hops_by_call}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per measurement")
    with tempfile.TemporaryDirectory(prefix="forge-probe-") as tmp:
        asyncio.run(probe(parser.parse_args().calls, Path(tmp)))


if __name__ == "__main__":
    main()
