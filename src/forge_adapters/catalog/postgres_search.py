"""Search on PostgreSQL: the GIN index finds the parts holding any query word, and the
same query counts what BM25 needs (how many parts hold each word, the mean length);
``bm25.score`` then ranks them as FTS5 ranks them on SQLite."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Float, Integer, String, Uuid, bindparam, column, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from forge_adapters.catalog import bm25
from forge_adapters.sql.catalog_table import COMPONENTS
from forge_core.components import Component, ComponentHit, component_from_json
from forge_core.ports import ComponentQuery

C = COMPONENTS.c
#: Parts ranked in Python at most: the best by ts_rank when more match.
MAX_CANDIDATES = 500

CANDIDATES = (
    text(
        """
    WITH q AS (SELECT to_tsquery('simple', :match) AS query)
    SELECT c.id, c.owner_id, c.data, c.created_at, c.updated_at,
           c.search_name, c.search_aliases, c.search_body
    FROM components AS c, q
    WHERE c.search_vector @@ q.query
      AND (c.owner_id IS NULL OR c.owner_id = :viewer)
      AND (CAST(:category AS varchar) IS NULL OR c.category = :category)
    ORDER BY ts_rank(c.search_vector, q.query) DESC, c.id
    LIMIT :candidates
    """
    )
    .bindparams(bindparam("viewer", type_=Uuid()))
    .columns(
        C.id,
        C.owner_id,
        C.data,
        C.created_at,
        C.updated_at,
        C.search_name,
        C.search_aliases,
        C.search_body,
    )
)
# Counted over the whole table, as FTS5 counts over its whole index.
STATS = (
    text(
        """
    SELECT (SELECT count(*) FROM components),
           (SELECT coalesce(avg(array_length(string_to_array(
               trim(search_name || ' ' || search_aliases || ' ' || search_body), ' '), 1)), 1)
            FROM components),
           array(SELECT (SELECT count(*) FROM components
                         WHERE search_vector @@ to_tsquery('simple', t))
                 FROM unnest(CAST(:terms AS varchar[])) AS t)
    """
    )
    .bindparams(bindparam("terms", type_=ARRAY(String())))
    .columns(column("n", Integer()), column("mean", Float()), column("df", ARRAY(Integer())))
)


async def postgres_search(
    conn: AsyncConnection, viewer: UUID | None, query: ComponentQuery, wanted: list[str]
) -> list[ComponentHit]:
    params: dict[str, Any] = {
        "match": " | ".join(wanted),
        "viewer": viewer,
        "category": query.category,
        "candidates": MAX_CANDIDATES,
    }
    rows = (await conn.execute(CANDIDATES, params)).all()
    if not rows:
        return []
    n, mean, dfs = (await conn.execute(STATS, {"terms": wanted})).one()
    corpus = bm25.Stats(int(n), float(mean) + bm25.SCOPE_WORDS, dict(zip(wanted, dfs, strict=True)))
    hits = []
    for row in rows:
        fields = (row[5], row[6], row[7])
        value = bm25.score(bm25.doc(row[0], fields), wanted, corpus)
        words = set(" ".join(fields).split())
        matched = tuple(t for t in wanted if t in words)
        hits.append(ComponentHit(_component(row), value, matched))
    hits.sort(key=lambda h: (-h.score, h.component.id))
    return hits[query.offset : query.offset + query.limit]


def _component(row: Any) -> Component:
    from dataclasses import replace

    parsed = component_from_json(row[2], owner=row[1], id=row[0])
    return replace(parsed, created_at=row[3], updated_at=row[4])
