"""The ComponentCatalog contract: every adapter (memory, SQLite FTS5, PostgreSQL
full-text) passes the same suite. A new catalog is done when a subclass passes."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from forge_adapters.catalog import MemoryCatalog, SqlCatalog, shipped_components
from forge_adapters.memory import MemoryAuthStore
from forge_adapters.sql import SqlAuthStore
from forge_core.components import Component, Dimensions, HolePattern, rectangle
from forge_core.entities import User
from forge_core.errors import AlreadyExists, NotFound
from forge_core.ports import AuthStore, ComponentCatalog, ComponentQuery

from .records import T0

pytestmark = pytest.mark.anyio


def user_part(
    owner: UUID, name: str = "Left bracket motor 2306 adapter", **kw: object
) -> Component:
    values: dict[str, object] = {
        "id": str(uuid4()),
        "owner": owner,
        "name": name,
        "aliases": ("bracket zx81",),
        "category": "other",
        "dimensions_mm": Dimensions(length=40.0, width=12.0),
        "hole_patterns": (
            HolePattern(name="base", hole_diameter=3.2, positions=rectangle(16, 16)),
        ),
        "notes": "made in the workshop",
        "source": "own measurement",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(kw)
    return Component(**values)  # type: ignore[arg-type]


class CatalogContract:
    """Subclasses provide ``stores``: a catalog and the AuthStore its owners live in."""

    @pytest.fixture
    def stores(self) -> tuple[ComponentCatalog, AuthStore]:
        raise NotImplementedError

    @pytest.fixture
    def catalog(self, stores: tuple[ComponentCatalog, AuthStore]) -> ComponentCatalog:
        return stores[0]

    async def _user(self, store: AuthStore, email: str) -> UUID:
        user = User(id=uuid4(), email=email, created_at=T0, updated_at=T0)
        await store.add_user(user, None)
        return user.id

    @pytest.fixture
    async def owner(self, stores: tuple[ComponentCatalog, AuthStore]) -> UUID:
        return await self._user(stores[1], "owner@example.com")

    @pytest.fixture
    async def other(self, stores: tuple[ComponentCatalog, AuthStore]) -> UUID:
        return await self._user(stores[1], "other@example.com")

    async def _ids(self, catalog: ComponentCatalog, viewer: UUID | None, text: str) -> list[str]:
        hits = await catalog.search(viewer, ComponentQuery(text, limit=10))
        return [h.component.id for h in hits]

    async def test_every_shipped_part_is_stored_and_reads_back_equal(
        self, catalog: ComponentCatalog
    ) -> None:
        shipped = shipped_components()
        assert await catalog.count() == len(shipped) >= 150
        for part in shipped[::17]:
            assert await catalog.get(None, part.id) == part

    async def test_a_stack_is_found_by_its_pattern_written_any_way(
        self, catalog: ComponentCatalog
    ) -> None:
        for text in ("20x20 stack", "a 20 x 20 mm flight controller", "20*20mm FC"):
            hits = await catalog.search(None, ComponentQuery(text, limit=5))
            assert hits[0].component.id == "fc-stack-20x20", text
            assert "20x20" in hits[0].matched
        part = await catalog.get(None, "fc-stack-20x20")
        assert part.hole_patterns[0].spacing == (20.0, 20.0)

    async def test_sizes_models_and_inches_are_normalised(self, catalog: ComponentCatalog) -> None:
        assert (await self._ids(catalog, None, '5" props'))[0] == "prop-5inch"
        assert (await self._ids(catalog, None, "five inch: 5-inch propeller"))[0] == "prop-5inch"
        assert (await self._ids(catalog, None, "NEMA-17 motor plate"))[0] == "stepper-nema17"
        assert (await self._ids(catalog, None, "608ZZ skate bearings"))[0] == "bearing-608"
        assert (await self._ids(catalog, None, "m3x12 socket cap screws"))[0] == (
            "screw-iso4762-m3"
        )

    async def test_results_are_ordered_by_score_and_paged(self, catalog: ComponentCatalog) -> None:
        everything = await catalog.search(None, ComponentQuery("m3 screw nut", limit=40))
        scores = [h.score for h in everything]
        assert scores == sorted(scores, reverse=True) and len(everything) > 6
        page = await catalog.search(None, ComponentQuery("m3 screw nut", limit=3, offset=2))
        assert [h.component.id for h in page] == [h.component.id for h in everything[2:5]]

    async def test_a_category_filters_the_search_and_the_listing(
        self, catalog: ComponentCatalog
    ) -> None:
        nuts = await catalog.search(None, ComponentQuery("m3", category="nut", limit=50))
        assert nuts and {h.component.category for h in nuts} == {"nut"}
        listed = await catalog.search(None, ComponentQuery("", category="stepper", limit=50))
        assert [h.component.name for h in listed] == sorted(
            c.name for c in shipped_components() if c.category == "stepper"
        )

    async def test_an_empty_query_lists_by_name_and_pages(self, catalog: ComponentCatalog) -> None:
        first = await catalog.search(None, ComponentQuery("", limit=5))
        second = await catalog.search(None, ComponentQuery("the a for", limit=5, offset=5))
        names = sorted(shipped_components(), key=lambda c: (c.name.lower(), c.id))
        assert [h.component.id for h in first + second] == [c.id for c in names[:10]]

    async def test_words_that_match_nothing_find_nothing(self, catalog: ComponentCatalog) -> None:
        assert await catalog.search(None, ComponentQuery("zzqx flibbertigibbet")) == []

    async def test_a_users_part_is_theirs_alone(
        self, catalog: ComponentCatalog, owner: UUID, other: UUID
    ) -> None:
        mine = user_part(owner)
        await catalog.add(mine)
        assert await catalog.get(owner, mine.id) == mine
        found = await catalog.search(owner, ComponentQuery("bracket zx81", limit=1))
        assert found[0].component == mine  # searched parts read back whole, too
        assert mine.id not in await self._ids(catalog, other, "bracket zx81")
        assert mine.id not in await self._ids(catalog, None, "bracket zx81")
        with pytest.raises(NotFound):
            await catalog.get(other, mine.id)
        listing = await catalog.search(other, ComponentQuery("", category="other", limit=200))
        assert mine.id not in [h.component.id for h in listing]

    async def test_a_part_changes_and_goes_only_for_its_owner(
        self, catalog: ComponentCatalog, owner: UUID, other: UUID
    ) -> None:
        mine = user_part(owner)
        await catalog.add(mine)
        changed = replace(mine, name="Right bracket qq7", aliases=())
        with pytest.raises(NotFound):
            await catalog.update(replace(changed, owner=other))
        await catalog.update(changed)
        assert await catalog.get(owner, mine.id) == changed
        assert await self._ids(catalog, owner, "zx81") == []
        assert (await self._ids(catalog, owner, "qq7 bracket"))[0] == mine.id
        with pytest.raises(NotFound):
            await catalog.delete(other, mine.id)
        await catalog.delete(owner, mine.id)
        with pytest.raises(NotFound):
            await catalog.get(owner, mine.id)
        assert await self._ids(catalog, owner, "qq7") == []

    async def test_shipped_parts_cannot_be_changed_or_deleted_through_an_owner(
        self, catalog: ComponentCatalog, owner: UUID
    ) -> None:
        shipped = await catalog.get(owner, "bearing-608")
        with pytest.raises(NotFound):
            await catalog.update(replace(shipped, owner=owner, name="mine now"))
        with pytest.raises(NotFound):
            await catalog.delete(owner, "bearing-608")
        assert await catalog.get(None, "bearing-608") == shipped

    async def test_an_id_is_taken_once(self, catalog: ComponentCatalog, owner: UUID) -> None:
        mine = user_part(owner)
        await catalog.add(mine)
        with pytest.raises(AlreadyExists):
            await catalog.add(replace(mine, name="another"))
        with pytest.raises(AlreadyExists):
            await catalog.add(replace(mine, id="bearing-608"))


class TestMemoryCatalog(CatalogContract):
    @pytest.fixture
    def stores(self) -> tuple[ComponentCatalog, AuthStore]:
        return MemoryCatalog(), MemoryAuthStore()


class TestSqliteCatalog(CatalogContract):
    @pytest.fixture
    def stores(self, sqlite_engine: AsyncEngine) -> tuple[ComponentCatalog, AuthStore]:
        return SqlCatalog(sqlite_engine), SqlAuthStore(sqlite_engine)


@pytest.mark.postgres
class TestPostgresCatalog(CatalogContract):
    @pytest.fixture
    def stores(self, postgres_engine: AsyncEngine) -> tuple[ComponentCatalog, AuthStore]:
        return SqlCatalog(postgres_engine), SqlAuthStore(postgres_engine)
