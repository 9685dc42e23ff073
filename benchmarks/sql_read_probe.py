"""The two reads of the list GET, on SQLite and on PostgreSQL, with no HTTP in the way.

    python benchmarks/sql_read_probe.py [--calls 500] [--rounds 5] [--postgres URL]

Every authenticated ``GET /api/v1/sessions`` makes two storage calls: the login check
(``SqlAuthStore.get_session``) and the list (``SqlRepository.list``, 50 rows). This
times both, one coroutine calling them in a loop, on a SQLite file and on a throw-away
PostgreSQL database (created on the ``--postgres`` server, dropped at the end), each
through the fast read path (rows as JSON, decoded by msgspec) and through SQLAlchemy
alone (``fast_reads=False``, the path every read took before), the four alternating
each round. It prints the median over rounds of the wall and CPU
(this process's) time per call. ``scale_bench.py`` says how the two databases compare
under load; this says how much of the difference the storage calls alone make.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from bench_services import database_url, postgres

from forge_adapters.sql import SqlAuthStore, SqlRepository, create_engine, migrate
from forge_core.entities import AuthSession, Session, User

Call = Callable[[], Awaitable[object]]


async def calls_on(
    url: str, fast_reads: bool
) -> tuple[dict[str, Call], Callable[[], Awaitable[None]]]:
    """A migrated database holding one user, one login and 50 sessions; its two calls."""
    engine = create_engine(url)
    await migrate(engine)
    repo = SqlRepository(engine, fast_reads=fast_reads)
    auth = SqlAuthStore(engine, fast_reads=fast_reads)
    now = datetime.now(UTC)
    user = User(id=uuid4(), email=f"{uuid4()}@example.com", created_at=now, updated_at=now)
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
    for n in range(50):
        at = now + timedelta(seconds=n)
        await repo.add(
            Session(id=uuid4(), user_id=user.id, name=f"s{n}", created_at=at, updated_at=at)
        )
    calls: dict[str, Call] = {
        "login check (get_session)": lambda: auth.get_session(login.id),
        "list of 50 (Repository.list)": lambda: repo.list(Session, user.id),
    }
    return calls, engine.dispose


async def timed(call: Call, count: int) -> tuple[float, float]:
    """Microseconds per call: wall, then this process's CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await call()
    return (
        (time.perf_counter() - wall) * 1e6 / count,
        (time.process_time() - cpu) * 1e6 / count,
    )


async def probe(urls: dict[str, str], args: argparse.Namespace) -> None:
    engines = {
        f"{name}, {path}": await calls_on(url, fast)
        for name, url in urls.items()
        for path, fast in (("fast reads", True), ("SQLAlchemy", False))
    }
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        for calls, _ in engines.values():  # warm-up: caches, prepared statements
            for call in calls.values():
                await timed(call, 50)
        for number in range(args.rounds):
            order = list(engines.items())
            for name, (calls, _) in order if number % 2 == 0 else order[::-1]:
                for label, call in calls.items():
                    figures.setdefault((name, label), []).append(await timed(call, args.calls))
    finally:
        for _, dispose in engines.values():
            await dispose()
    print("| database, read path | call | µs wall | µs CPU |")
    print("|---|---|---:|---:|")
    for (name, label), values in figures.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"| {name} | {label} | {wall:,.0f} | {cpu:,.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    name = f"forge_bench_probe_{secrets.token_hex(4)}"
    postgres(args.postgres, f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="forge-probe-") as tmp:
            urls = {
                "SQLite": f"sqlite+aiosqlite:///{Path(tmp) / 'probe.db'}",
                "PostgreSQL": database_url(args.postgres, name),
            }
            asyncio.run(probe(urls, args))
    finally:
        postgres(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
