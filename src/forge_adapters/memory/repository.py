"""The Repository port over dicts, with the SQL adapter's cascade and ordering rules."""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from forge_core.entities import (
    CHILDREN,
    PARENTS,
    Asset,
    AssetMeta,
    Job,
    JobStatus,
    OwnedEntity,
    kind_name,
)
from forge_core.errors import AlreadyExists, NotFound, StaleObject

E = TypeVar("E", bound=OwnedEntity)


class MemoryRepository:
    def __init__(self) -> None:
        self._rows: dict[type[Any], dict[UUID, Any]] = {kind: {} for kind in CHILDREN}

    async def add(self, entity: OwnedEntity) -> None:
        kind = type(entity)
        if kind in PARENTS:
            field, parent_kind = PARENTS[kind]
            parent_id = getattr(entity, field)
            if parent_id not in self._rows[parent_kind]:
                raise NotFound(kind_name(parent_kind), parent_id)
        if entity.id in self._rows[kind]:  # whoever owns it: ids are unique, as in SQL
            raise AlreadyExists(f"{kind_name(kind)} {entity.id} already exists")
        self._rows[kind][entity.id] = entity

    async def get(self, kind: type[E], entity_id: UUID, owner: UUID) -> E:
        found = self._rows[kind].get(entity_id)
        if found is None or found.user_id != owner:
            raise NotFound(kind_name(kind), entity_id)
        entity: E = found
        return entity

    async def list(
        self,
        kind: type[E],
        owner: UUID,
        *,
        where: Mapping[str, UUID] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[E]:
        conditions = dict(where or {})
        matching = [
            row
            for row in self._rows[kind].values()
            if row.user_id == owner
            and all(getattr(row, field) == value for field, value in conditions.items())
        ]
        matching.sort(key=lambda row: (row.created_at, row.id))
        return matching[offset : offset + limit]

    async def count_owned(self, kind: type[E], ids: Sequence[UUID], owner: UUID) -> int:
        rows = self._rows[kind]
        return sum(1 for i in set(ids) if i in rows and rows[i].user_id == owner)

    async def update(self, entity: E, *, expected_updated_at: datetime) -> None:
        current = self._rows[type(entity)].get(entity.id)
        if current is None or current.user_id != entity.user_id:
            raise NotFound(kind_name(type(entity)), entity.id)
        if current.updated_at != expected_updated_at:
            raise StaleObject(f"{kind_name(type(entity))} {entity.id} changed meanwhile; retry")
        self._rows[type(entity)][entity.id] = entity

    async def delete(self, kind: type[E], entity_id: UUID, owner: UUID) -> None:
        await self.get(kind, entity_id, owner)
        self._delete_tree(kind, entity_id)

    def _delete_tree(self, kind: type[Any], entity_id: UUID) -> None:
        for child_kind in CHILDREN[kind]:
            field, _ = PARENTS[child_kind]
            for child in [
                r for r in self._rows[child_kind].values() if getattr(r, field) == entity_id
            ]:
                self._delete_tree(child_kind, child.id)
        del self._rows[kind][entity_id]
        if kind is Asset:
            self._unlink_components(entity_id)

    async def running_jobs(self, limit: int = 500) -> builtins.list[Job]:
        running = [j for j in self._rows[Job].values() if j.status is JobStatus.RUNNING]
        return sorted(running, key=lambda j: (j.created_at, str(j.id)))[:limit]

    async def jobs_by_status(self) -> dict[str, int]:
        return dict(Counter(str(job.status) for job in self._rows[Job].values()))

    def _unlink_components(self, asset_id: UUID) -> None:
        """Meta that named the deleted asset as what it is a component of forgets it
        (the SQL schema's ON DELETE SET NULL)."""
        metas = self._rows[AssetMeta]
        for meta in [m for m in metas.values() if m.component_of == asset_id]:
            metas[meta.id] = replace(meta, component_of=None)
