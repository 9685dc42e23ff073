"""Vectors for hybrid search: each part's embedding (its name, aliases, category and
notes, through the ``Embeddings`` port), kept beside the catalog and fused with BM25.

- SQLite: a plain table ``components_vectors`` (float32 blobs). Where the Python's
  sqlite3 can load extensions and the ``sqlite-vec`` wheel is installed, the nearest
  parts are found in SQL with its ``vec_distance_cosine``; elsewhere (a Python built
  without extension loading) by numpy over the same table. Same rows, same order.
- PostgreSQL: pgvector's ``vector`` column with an HNSW index, when the server has the
  extension (``CREATE EXTENSION vector``); see docs/catalog.md to enable it.

A part's vector is recomputed when its text changes (a digest of the text is kept).
Scores are fused by ``fuse``. The query is embedded as its normalised words
(``catalog_text``), as the parts are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from forge_core.ports import Embeddings

#: A part's vector similarity (cosine) adds at most this much to its lexical score,
#: which is scaled to 1 for the best match: BM25 over the domain's normalised words is
#: precise ("20x20" is not "25.5x25.5"); vectors add what the words miss (misspellings,
#: synonyms) and order near-ties.
VECTOR_WEIGHT = 0.5
#: A part found by its vector alone must be at least this similar to be a match.
MIN_SIMILARITY = 0.4


def fuse(
    lexical: Sequence[tuple[str, float]],
    vector: Sequence[tuple[str, float]],
    min_similarity: float = MIN_SIMILARITY,
) -> dict[str, float]:
    """id -> score (higher is better): the BM25 score over the best one, plus
    VECTOR_WEIGHT times the cosine similarity; a part only the vectors found counts
    when its similarity reaches ``min_similarity``."""
    best = max((score for _, score in lexical), default=0.0) or 1.0
    scores = {key: score / best for key, score in lexical}
    for key, similarity in vector:
        if key in scores or similarity >= min_similarity:
            scores[key] = scores.get(key, 0.0) + VECTOR_WEIGHT * max(similarity, 0.0)
    return scores


def digest(text_: str) -> str:
    return hashlib.blake2s(text_.encode()).hexdigest()


def embed_text(row: Any) -> str:
    """What is embedded for a part: its stored words (name, aliases, notes)."""
    return f"{row.search_name}. {row.search_aliases}. {row.search_body}"


def sqlite_vec_loader(engine: AsyncEngine) -> bool:
    """Load sqlite-vec into every new connection of ``engine`` if this Python can;
    whether it can."""
    try:
        import sqlite3

        import sqlite_vec  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return False
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        return False

    def load(dbapi_connection: Any, _record: Any) -> None:
        raw = dbapi_connection.driver_connection._conn  # aiosqlite's sqlite3 connection
        dbapi_connection.await_(dbapi_connection.driver_connection._execute(_load_into, raw))

    def _load_into(raw: Any) -> None:
        raw.enable_load_extension(True)
        sqlite_vec.load(raw)
        raw.enable_load_extension(False)

    event.listen(engine.sync_engine, "connect", load)
    return True


class SqliteVectors:
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS components_vectors ("
        "num INTEGER PRIMARY KEY REFERENCES components(num) ON DELETE CASCADE, "
        "digest TEXT NOT NULL, embedding BLOB NOT NULL)"
    )

    def __init__(self, engine: AsyncEngine, embeddings: Embeddings, *, in_sql: bool) -> None:
        self.embeddings, self.in_sql = embeddings, in_sql
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None

    async def sync(self, conn: AsyncConnection) -> None:
        """Embed every part whose text is new or changed; drop vectors of gone parts."""
        await conn.execute(text(self.SCHEMA))
        rows = (
            await conn.execute(
                text(
                    "SELECT c.num, c.search_name, c.search_aliases, c.search_body, v.digest "
                    "FROM components AS c LEFT JOIN components_vectors AS v ON v.num = c.num"
                )
            )
        ).all()
        stale = [r for r in rows if r.digest != digest(embed_text(r))]
        for start in range(0, len(stale), 256):
            batch = stale[start : start + 256]
            vectors = await self.embeddings.embed([embed_text(r) for r in batch])
            await conn.execute(
                text(
                    "INSERT OR REPLACE INTO components_vectors (num, digest, embedding) "
                    "VALUES (:num, :digest, :embedding)"
                ),
                [
                    {"num": r.num, "digest": digest(embed_text(r)), "embedding": _blob(v)}
                    for r, v in zip(batch, vectors, strict=True)
                ],
            )
        if stale:
            self._matrix = None

    async def nearest(self, conn: AsyncConnection, query: str, k: int) -> list[tuple[int, float]]:
        """(``num``, cosine similarity) of the ``k`` parts nearest the query, nearest first."""
        [vector] = await self.embeddings.embed([query])
        if self.in_sql:
            found = await conn.execute(
                text(
                    "SELECT num, 1 - vec_distance_cosine(embedding, :q) AS similarity "
                    "FROM components_vectors ORDER BY similarity DESC, num LIMIT :k"
                ),
                {"q": _blob(vector), "k": k},
            )
            return [(row[0], float(row[1])) for row in found.all()]
        nums, matrix = await self._loaded(conn)
        if not len(nums):
            return []
        q = np.asarray(vector, dtype=np.float32)
        similarity = (
            matrix @ q / (np.linalg.norm(matrix, axis=1) * (np.linalg.norm(q) or 1.0) + 1e-12)
        )
        order = np.lexsort((nums, -similarity))[:k]
        return [(int(nums[i]), float(similarity[i])) for i in order]

    async def _loaded(self, conn: AsyncConnection) -> tuple[np.ndarray, np.ndarray]:
        if self._matrix is None:
            rows = (await conn.execute(text("SELECT num, embedding FROM components_vectors"))).all()
            nums = np.array([r[0] for r in rows], dtype=np.int64)
            dims = self.embeddings.dimensions
            matrix = (
                np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
                if rows
                else np.zeros((0, dims), dtype=np.float32)
            )
            self._matrix = (nums, matrix)
        return self._matrix

    def forget(self) -> None:
        """Drop the in-memory copy (after a write)."""
        self._matrix = None


def _blob(vector: Sequence[float]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


class PgVectors:
    """pgvector: needs the ``vector`` extension on the server (Unavailable without)."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings

    def schema(self) -> tuple[str, ...]:
        dims = int(self.embeddings.dimensions)
        return (
            "CREATE EXTENSION IF NOT EXISTS vector",
            "CREATE TABLE IF NOT EXISTS components_vectors ("
            "num integer PRIMARY KEY REFERENCES components(num) ON DELETE CASCADE, "
            f"digest text NOT NULL, embedding vector({dims}) NOT NULL)",
            "CREATE INDEX IF NOT EXISTS components_vectors_hnsw ON components_vectors "
            "USING hnsw (embedding vector_cosine_ops)",
        )

    async def sync(self, conn: AsyncConnection) -> None:
        for statement in self.schema():
            await conn.execute(text(statement))
        rows = (
            await conn.execute(
                text(
                    "SELECT c.num, c.search_name, c.search_aliases, c.search_body, v.digest "
                    "FROM components AS c LEFT JOIN components_vectors AS v ON v.num = c.num"
                )
            )
        ).all()
        stale = [r for r in rows if r.digest != digest(embed_text(r))]
        for start in range(0, len(stale), 256):
            batch = stale[start : start + 256]
            vectors = await self.embeddings.embed([embed_text(r) for r in batch])
            await conn.execute(
                text(
                    "INSERT INTO components_vectors (num, digest, embedding) "
                    "VALUES (:num, :digest, CAST(:embedding AS vector)) ON CONFLICT (num) "
                    "DO UPDATE SET digest = excluded.digest, embedding = excluded.embedding"
                ),
                [
                    {"num": r.num, "digest": digest(embed_text(r)), "embedding": _literal(v)}
                    for r, v in zip(batch, vectors, strict=True)
                ],
            )

    async def nearest(self, conn: AsyncConnection, query: str, k: int) -> list[tuple[int, float]]:
        [vector] = await self.embeddings.embed([query])
        found = await conn.execute(
            text(
                "SELECT num, 1 - (embedding <=> CAST(:q AS vector)) AS similarity "
                "FROM components_vectors ORDER BY embedding <=> CAST(:q AS vector), num "
                "LIMIT :k"
            ),
            {"q": _literal(vector), "k": k},
        )
        return [(row[0], float(row[1])) for row in found.all()]

    def forget(self) -> None:
        pass


def _literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in vector) + "]"
