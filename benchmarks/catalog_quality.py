"""Catalog search quality on a labelled set of chat-style queries
(``benchmarks/data/catalog_queries.jsonl``: each query with the ids it should find).

    python -m benchmarks.catalog_quality [--postgres URL]

recall@5: the share of each query's expected parts in its first five results, averaged;
MRR: 1 / the rank of the first expected part (0 beyond ten), averaged. Runs the memory,
SQLite and (when reachable) PostgreSQL catalogs; prints a table and the misses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_core.ports import ComponentCatalog, ComponentQuery

QUERIES = Path(__file__).parent / "data" / "catalog_queries.jsonl"


def labelled() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUERIES.read_text().splitlines() if line.strip()]


@dataclass
class Quality:
    queries: int
    recall_at_5: float
    mrr: float
    misses: list[str]


async def measure(catalog: ComponentCatalog) -> Quality:
    recalls, ranks, misses = [], [], []
    for item in labelled():
        hits = await catalog.search(None, ComponentQuery(item["q"], limit=10))
        ids = [h.component.id for h in hits]
        expected = set(item["expected"])
        recalls.append(len(expected & set(ids[:5])) / len(expected))
        first = next((i for i, found in enumerate(ids, 1) if found in expected), None)
        ranks.append(1.0 / first if first else 0.0)
        if recalls[-1] < 1 or first != 1:
            misses.append(f"{item['q']!r}: expected {sorted(expected)}, got {ids[:5]}")
    n = len(recalls)
    return Quality(n, sum(recalls) / n, sum(ranks) / n, misses)


async def run(postgres: str | None) -> dict[str, Quality]:
    from forge_adapters.catalog import MemoryCatalog, SqlCatalog
    from forge_adapters.sql import create_engine, migrate

    results = {"memory": await measure(MemoryCatalog())}
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/quality.db")
        await migrate(engine)
        results["sqlite"] = await measure(SqlCatalog(engine))
        await engine.dispose()
    if postgres:
        engine = create_engine(postgres)
        await migrate(engine)
        results["postgresql"] = await measure(SqlCatalog(engine))
        await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL")
    args = parser.parse_args()
    results = asyncio.run(run(args.postgres))
    print(f"{len(labelled())} labelled queries")
    print("| catalog | recall@5 | MRR |\n| --- | --- | --- |")
    for name, q in results.items():
        print(f"| {name} | {q.recall_at_5:.3f} | {q.mrr:.3f} |")
    for name, q in results.items():
        for miss in q.misses:
            print(f"{name}: {miss}")


if __name__ == "__main__":
    main()
