"""The component catalog's use cases: search, read, and a user's own parts.

Shipped parts are read-only: changing or deleting one is PermissionDenied. A user's
part is theirs alone: another user's is NotFound, exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from forge_core.component_commands import ComponentChanges, NewComponent
from forge_core.components import CATEGORIES, Component, ComponentHit, component_from_json
from forge_core.entities import Clock, utc_now
from forge_core.errors import InvalidInput, NotFound, PermissionDenied
from forge_core.ports import ComponentCatalog, ComponentQuery
from forge_core.services.records import Page

MAX_QUERY = 2000


class Components:
    """Search the catalog and keep a user's own parts."""

    def __init__(
        self,
        catalog: ComponentCatalog,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
    ) -> None:
        self.catalog, self.clock, self.new_id = catalog, clock, new_id

    async def search(
        self, viewer: UUID, text: str, category: str | None, page: Page
    ) -> list[ComponentHit]:
        if len(text) > MAX_QUERY:
            raise InvalidInput("q", f"must be at most {MAX_QUERY} characters")
        if category is not None and category not in CATEGORIES:
            raise InvalidInput("category", f"must be one of {', '.join(CATEGORIES)}")
        query = ComponentQuery(text, category, page.limit, page.offset)
        return await self.catalog.search(viewer, query)

    async def get(self, viewer: UUID, component_id: str) -> Component:
        return await self.catalog.get(viewer, component_id)

    async def create(self, owner: UUID, data: NewComponent) -> Component:
        now = self.clock()
        parsed = component_from_json(data.as_json(), owner=owner, id=str(self.new_id()))
        component = replace(parsed, created_at=now, updated_at=now)
        await self.catalog.add(component)
        return component

    async def update(self, owner: UUID, component_id: str, changes: ComponentChanges) -> Component:
        current = await self._own(owner, component_id)
        values: dict[str, Any] = {**current.to_json(), **changes.as_json()}
        del values["id"]
        parsed = component_from_json(values, owner=owner, id=current.id)
        updated = replace(parsed, created_at=current.created_at, updated_at=self.clock())
        await self.catalog.update(updated)
        return updated

    async def delete(self, owner: UUID, component_id: str) -> None:
        await self._own(owner, component_id)
        await self.catalog.delete(owner, component_id)

    async def _own(self, owner: UUID, component_id: str) -> Component:
        found = await self.catalog.get(owner, component_id)
        if found.shipped:
            raise PermissionDenied(f"Component {component_id} is a shipped part: read-only")
        if found.owner != owner:  # the catalog already hides others' parts
            raise NotFound("Component", component_id)
        return found
