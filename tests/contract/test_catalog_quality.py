"""The labelled chat-style queries (benchmarks/data/catalog_queries.jsonl) find their
parts on every catalog: recall@5 at least 0.95 and MRR at least 0.85, the issue's bar.
Quality, not speed: the figures are the same on every machine."""

from __future__ import annotations

import pytest
from benchmarks.catalog_quality import labelled, measure
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.catalog import MemoryCatalog, SqlCatalog
from forge_core.ports import ComponentCatalog

pytestmark = pytest.mark.anyio


def test_the_set_is_large_and_every_expected_part_is_shipped() -> None:
    from forge_adapters.catalog import shipped_components

    ids = {c.id for c in shipped_components()}
    queries = labelled()
    assert len(queries) >= 80
    assert {e for q in queries for e in q["expected"]} <= ids


async def check(catalog: ComponentCatalog) -> None:
    quality = await measure(catalog)
    assert quality.recall_at_5 >= 0.95, quality.misses
    assert quality.mrr >= 0.85, quality.misses


async def test_memory() -> None:
    await check(MemoryCatalog())


async def test_sqlite(sqlite_engine: AsyncEngine) -> None:
    await check(SqlCatalog(sqlite_engine))


@pytest.mark.postgres
async def test_postgres(postgres_engine: AsyncEngine) -> None:
    await check(SqlCatalog(postgres_engine))
