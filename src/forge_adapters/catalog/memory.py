"""The catalog in memory: the shipped parts and users' parts in dicts, ranked by BM25 in
Python (``bm25``). For tests, embedders and ``FORGE_DATABASE_URL=memory``."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from forge_adapters.catalog import bm25
from forge_adapters.catalog.shipped import shipped_components
from forge_core.catalog_text import fields_text, matched_terms, terms
from forge_core.components import Component, ComponentHit
from forge_core.errors import AlreadyExists, NotFound
from forge_core.ports import ComponentQuery


class MemoryCatalog:
    def __init__(self, shipped: Iterable[Component] | None = None) -> None:
        parts = shipped_components() if shipped is None else tuple(shipped)
        self._parts: dict[str, Component] = {c.id: c for c in parts}
        self._docs: dict[str, bm25.Doc] = {c.id: bm25.doc(c.id, fields_text(c)) for c in parts}
        self._stats: bm25.Stats | None = None

    def _visible(self, viewer: UUID | None, component: Component) -> bool:
        return component.owner is None or component.owner == viewer

    async def search(self, viewer: UUID | None, query: ComponentQuery) -> list[ComponentHit]:
        wanted = terms(query.text)
        visible = [
            c
            for c in self._parts.values()
            if self._visible(viewer, c) and query.category in (None, c.category)
        ]
        if not wanted:
            ordered = sorted(visible, key=lambda c: (c.name.lower(), c.id))
            window = ordered[query.offset : query.offset + query.limit]
            return [ComponentHit(c, 0.0) for c in window]
        if self._stats is None:
            self._stats = bm25.stats(self._docs.values())
        hits = []
        for c in visible:
            value = bm25.score(self._docs[c.id], wanted, self._stats)
            if value > 0:
                hits.append(ComponentHit(c, value, matched_terms(wanted, c)))
        hits.sort(key=lambda h: (-h.score, h.component.id))
        return hits[query.offset : query.offset + query.limit]

    async def get(self, viewer: UUID | None, component_id: str) -> Component:
        found = self._parts.get(component_id)
        if found is None or not self._visible(viewer, found):
            raise NotFound("Component", component_id)
        return found

    async def add(self, component: Component) -> None:
        if component.id in self._parts:
            raise AlreadyExists(f"component id {component.id!r} is taken")
        self._put(component)

    async def update(self, component: Component) -> None:
        current = self._parts.get(component.id)
        if current is None or current.owner is None or current.owner != component.owner:
            raise NotFound("Component", component.id)
        self._put(component)

    async def delete(self, owner: UUID, component_id: str) -> None:
        current = self._parts.get(component_id)
        if current is None or current.owner is None or current.owner != owner:
            raise NotFound("Component", component_id)
        del self._parts[component_id], self._docs[component_id]
        self._stats = None

    async def count(self) -> int:
        return len(self._parts)

    def _put(self, component: Component) -> None:
        self._parts[component.id] = component
        self._docs[component.id] = bm25.doc(component.id, fields_text(component))
        self._stats = None
