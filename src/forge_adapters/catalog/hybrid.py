"""Hybrid ranking: the lexical (BM25) list and the vector list, fused by
``vectors.fuse``, visibility and category applied to both."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from forge_adapters.sql.catalog_table import COMPONENTS
from forge_core.catalog_text import matched_terms
from forge_core.components import ComponentHit
from forge_core.ports import ComponentQuery

C = COMPONENTS.c
VECTOR_CANDIDATES = 100


async def fused(
    conn: AsyncConnection,
    vectors: Any,
    viewer: UUID | None,
    query: ComponentQuery,
    wanted: list[str],
    lexical: list[ComponentHit],
    min_similarity: float,
) -> list[ComponentHit]:
    from forge_adapters.catalog.sql import component_of
    from forge_adapters.catalog.vectors import fuse

    nearest = await vectors.nearest(conn, " ".join(wanted), VECTOR_CANDIDATES)
    nums = [num for num, _ in nearest]
    statement = select(C.num, C.id, C.owner_id, C.data, C.created_at, C.updated_at).where(
        C.num.in_(nums)
    )
    if viewer is None:
        statement = statement.where(C.owner_id.is_(None))
    else:
        statement = statement.where((C.owner_id.is_(None)) | (C.owner_id == viewer))
    if query.category is not None:
        statement = statement.where(C.category == query.category)
    rows = {row[0]: row for row in (await conn.execute(statement)).all()}
    near = [(rows[n], similarity) for n, similarity in nearest if n in rows]
    scores = fuse(
        [(h.component.id, h.score) for h in lexical],
        [(row[1], sim) for row, sim in near],
        min_similarity,
    )
    hits = {h.component.id: h for h in lexical}
    for row, _ in near:
        if row[1] in scores and row[1] not in hits:
            part = component_of(row[1:])
            hits[row[1]] = ComponentHit(part, 0.0, matched_terms(wanted, part))
    ordered = sorted(scores, key=lambda key: (-scores[key], key))
    window = ordered[query.offset : query.offset + query.limit]
    return [ComponentHit(hits[key].component, scores[key], hits[key].matched) for key in window]
