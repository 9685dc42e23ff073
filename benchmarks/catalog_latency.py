"""Latency of one catalog search on SQLite with 10,000 components (the shipped parts plus
generated user parts), against the shipped parts alone as the baseline of the same run.

    python -m benchmarks.catalog_latency [--parts 10000] [--rounds 20] [--postgres URL]

Each of the labelled chat-style queries (benchmarks/data/catalog_queries.jsonl) is
searched ``rounds`` times as one user who owns some of the generated parts; the time is
the whole ``SqlCatalog.search`` call (normalising, FTS5 and BM25, reading and building
the components), as a request handler pays it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from uuid import UUID, uuid4

from benchmarks.catalog_quality import labelled

from forge_core.components import Component, Dimensions, HolePattern, rectangle
from forge_core.entities import User
from forge_core.ports import ComponentQuery

WORDS = [
    "bracket", "mount", "holder", "plate", "clip", "cover", "adapter",
    "spacer", "guard", "housing", "lid", "foot", "arm",
]  # fmt: skip
MODELS = ["2306", "m3", "608", "nema17", "20x20", "pi4", "18650", "sg90", "2020", "usbc"]


def generated(owner: UUID, n: int, rng: random.Random) -> Component:
    name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {rng.choice(MODELS)} v{n}"
    now = datetime.now(UTC)
    return Component(
        id=str(uuid4()),
        owner=owner,
        name=name,
        aliases=(f"{rng.choice(WORDS)} {rng.randint(1, 999)}",),
        category=rng.choice(["other", "mount", "board", "motor", "screw"]),
        dimensions_mm=Dimensions(length=rng.uniform(5, 200), width=rng.uniform(5, 200)),
        hole_patterns=(HolePattern(name="m", hole_diameter=3.2, positions=rectangle(20, 20)),),
        notes=f"made for {rng.choice(WORDS)} {rng.choice(MODELS)}",
        source="generated for the benchmark",
        created_at=now,
        updated_at=now,
    )


async def timings(catalog: object, viewer: UUID, rounds: int) -> tuple[list[float], list[float]]:
    """Wall time and this thread's CPU time of each search, in ms. On a shared machine
    the wall time also holds the waits for a core; the CPU time does not."""
    queries = [q["q"] for q in labelled()]
    for text in queries:  # warm the caches once
        await catalog.search(viewer, ComponentQuery(text, limit=10))  # type: ignore[attr-defined]
    wall, cpu = [], []
    for _ in range(rounds):
        for text in queries:
            start, start_cpu = time.perf_counter(), time.thread_time()
            await catalog.search(viewer, ComponentQuery(text, limit=10))  # type: ignore[attr-defined]
            cpu.append((time.thread_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def summary(name: str, parts: int, spent: tuple[list[float], list[float]]) -> str:
    cells = []
    for values in spent:
        ordered = sorted(values)
        p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731, B023
        cells.append(f"{statistics.mean(ordered):.2f} | {p(0.5):.2f} | {p(0.99):.2f}")
    return f"| {name} | {parts} | {len(spent[0])} | {cells[0]} | {cells[1]} |"


async def measure(url: str, total: int, rounds: int) -> tuple[str, str]:
    from forge_adapters.catalog import SqlCatalog
    from forge_adapters.sql import SqlAuthStore, create_engine, migrate

    engine = create_engine(url)
    await migrate(engine)
    store, now = SqlAuthStore(engine), datetime.now(UTC)
    users = [
        User(
            id=uuid4(), email=f"u{i}-{uuid4().hex[:6]}@bench.local", created_at=now, updated_at=now
        )
        for i in range(20)
    ]
    for user in users:
        await store.add_user(user, None)
    viewer = users[0].id
    catalog = SqlCatalog(engine)
    shipped = await catalog.count()
    baseline = await timings(catalog, viewer, rounds)
    rng = random.Random(7)
    extra = [generated(users[i % len(users)].id, i, rng) for i in range(total - shipped)]
    await catalog.import_parts(extra)
    full = await timings(catalog, viewer, rounds)
    await engine.dispose()
    kind = url.split(":", 1)[0]
    return summary(f"{kind}, shipped only", shipped, baseline), summary(kind, total, full)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL, for reference")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        "| catalog | parts | searches | wall mean ms | wall p50 | wall p99 "
        "| CPU mean ms | CPU p50 | CPU p99 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for row in asyncio.run(measure(f"sqlite:///{folder}/bench.db", args.parts, args.rounds)):
            print(row)
    if args.postgres:
        for row in asyncio.run(measure(args.postgres, args.parts, args.rounds)):
            print(row)


if __name__ == "__main__":
    main()
