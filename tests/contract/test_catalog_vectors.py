"""Embeddings on an OpenAI-compatible server (the fake in tests/fakes/openai.py) and
hybrid ranking: the contract suite again with vectors on, and what only vectors find."""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient
from pydantic import ValidationError as SettingsError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.catalog import SqlCatalog
from forge_adapters.catalog.embeddings import EmbeddingsConfig, OpenAIEmbeddings
from forge_adapters.json_api import RetryPolicy
from forge_adapters.sql import SqlAuthStore
from forge_core.errors import Unavailable
from forge_core.ports import AuthStore, ComponentCatalog, ComponentQuery
from tests.fakes.openai import FakeOpenAI, fake_embedding
from tests.http.conftest import make_settings, sign_up

from .test_catalog_contract import CatalogContract

pytestmark = pytest.mark.anyio
FAKE_MIN = 0.3


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI().running() as server:
        yield server


def embedder(client: httpx.AsyncClient, fake: FakeOpenAI, **kw: object) -> OpenAIEmbeddings:
    values: dict[str, object] = {
        "base_url": fake.base_url,
        "model": fake.embedding_model,
        "dimensions": fake.dimensions,
        "api_key": fake.api_key,
        "retry": RetryPolicy(timeout=2.0, max_retries=1, backoff=0.01),
        **kw,
    }
    return OpenAIEmbeddings(client, EmbeddingsConfig(**values))  # type: ignore[arg-type]


async def test_vectors_come_back_in_order_and_in_batches(
    http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    texts = [f"part number {i}" for i in range(70)]
    vectors = await embedder(http_client, fake).embed(texts)
    assert vectors[3] == pytest.approx(fake_embedding(texts[3], 256))
    assert len(vectors) == 70 and [len(r["input"]) for r in fake.requests] == [64, 6]


async def test_a_failing_or_wrong_server_is_unavailable(
    http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    fake.fail_next(500, times=2)  # the first try and its one retry
    with pytest.raises(Unavailable):
        await embedder(http_client, fake).embed(["x"])
    with pytest.raises(Unavailable, match="FORGE_EMBEDDINGS_DIMENSIONS"):
        await embedder(http_client, fake, dimensions=32).embed(["x"])
    with pytest.raises(Unavailable):
        await embedder(http_client, fake, api_key="wrong").embed(["x"])


class TestSqliteHybridCatalog(CatalogContract):
    @pytest.fixture
    def stores(
        self, sqlite_engine: AsyncEngine, http_client: httpx.AsyncClient, fake: FakeOpenAI
    ) -> tuple[ComponentCatalog, AuthStore]:
        # The fake's hashed word pieces make weaker similarities than a trained model's.
        catalog = SqlCatalog(
            sqlite_engine, embeddings=embedder(http_client, fake), min_similarity=FAKE_MIN
        )
        return catalog, SqlAuthStore(sqlite_engine)

    async def test_vectors_find_what_the_words_miss(
        self, catalog: ComponentCatalog, sqlite_engine: AsyncEngine
    ) -> None:
        # "raspbery" (misspelt) shares no word with the index, only 3-letter pieces
        query = ComponentQuery("raspbery", limit=5)
        assert await SqlCatalog(sqlite_engine).search(None, query) == []  # words alone
        hits = await catalog.search(None, query)
        assert hits and all(h.component.id.startswith("board-raspberry-pi") for h in hits)

    async def test_every_part_has_one_vector(
        self, catalog: ComponentCatalog, sqlite_engine: AsyncEngine
    ) -> None:
        await catalog.count()
        async with sqlite_engine.connect() as conn:
            counts = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM components), count(*) FROM components_vectors"
                    )
                )
            ).one()
        assert counts[0] == counts[1] > 150


CAN_LOAD = hasattr(sqlite3.Connection, "enable_load_extension")


@pytest.mark.skipif(
    not CAN_LOAD or importlib.util.find_spec("sqlite_vec") is None,
    reason="this Python's sqlite3 cannot load extensions (or sqlite-vec is not installed): "
    "the numpy path above serves the same table",
)
async def test_sqlite_vec_orders_like_numpy(
    sqlite_engine: AsyncEngine, http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    catalog = SqlCatalog(
        sqlite_engine, embeddings=embedder(http_client, fake), min_similarity=FAKE_MIN
    )
    assert catalog.vectors is not None and getattr(catalog.vectors, "in_sql", False)
    query = ComponentQuery("raspbery pi board", limit=10)
    in_sql = [h.component.id for h in await catalog.search(None, query)]
    catalog.vectors.in_sql = False  # type: ignore[union-attr]
    assert [h.component.id for h in await catalog.search(None, query)] == in_sql


async def _has_pgvector(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
        )
        return bool(found.scalar())


@pytest.mark.postgres
async def test_pgvector_hybrid_search(
    postgres_engine: AsyncEngine, http_client: httpx.AsyncClient, fake: FakeOpenAI
) -> None:
    if not await _has_pgvector(postgres_engine):
        pytest.skip(
            "the PostgreSQL server has no pgvector extension (Debian's packages here do not "
            "ship it); see docs/catalog.md to enable it"
        )
    catalog = SqlCatalog(
        postgres_engine, embeddings=embedder(http_client, fake), min_similarity=FAKE_MIN
    )
    hits = await catalog.search(None, ComponentQuery("raspbery", limit=5))
    assert hits and all(h.component.id.startswith("board-raspberry-pi") for h in hits)


async def test_the_settings_turn_hybrid_search_on(fake: FakeOpenAI, tmp_path: Path) -> None:
    from forge_http import build_container, create_app

    with pytest.raises(SettingsError, match="FORGE_EMBEDDINGS_MODEL"):
        make_settings(tmp_path, embeddings_base_url=fake.base_url)
    settings = make_settings(
        tmp_path,
        embeddings_base_url=fake.base_url,
        embeddings_model=fake.embedding_model,
        embeddings_api_key=fake.api_key,
        embeddings_dimensions=fake.dimensions,
        embeddings_min_similarity=FAKE_MIN,
        auth_backend="local",
    )
    async with AsyncTestClient(
        create_app(build_container(settings)), base_url="http://t.local/api/v1"
    ) as client:
        user = await sign_up(client, "vectors@example.com")
        found = await client.get("/components", params={"q": "raspbery"}, headers=user.headers)
    assert found.status_code == 200
    assert found.json() and found.json()[0]["id"].startswith("board-raspberry-pi")
    assert any(r.get("model") == fake.embedding_model for r in fake.requests)
