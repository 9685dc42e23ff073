"""The use cases shared by every owned record: create, read, list, change, delete.

Ownership is decided here and only here: a caller reaches a record only through their
own ``user_id``, and creates one only under a parent they own. Another user's record
is answered exactly like a missing one (NotFound).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel

from forge_core.commands import Changes
from forge_core.entities import PARENTS, Clock, OwnedEntity, utc_now
from forge_core.errors import InvalidInput
from forge_core.ports import ObjectStore, Repository
from forge_core.services.content import remove_objects

E = TypeVar("E", bound=OwnedEntity)
N = TypeVar("N", bound=BaseModel)
C = TypeVar("C", bound=Changes)

MAX_PAGE = 200
MAX_OFFSET = 10**9


@dataclass(frozen=True, slots=True)
class Page:
    """A window on a list: at most ``MAX_PAGE`` records from ``offset``."""

    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidInput("offset", f"must be between 0 and {MAX_OFFSET}")


class Records(Generic[E, N, C]):
    """Create/read/list/change/delete for one kind of owned record. Given an object
    store, deleting a record that owns a folder there (``_folder``) removes its objects
    too, after the database delete has committed: a failed delete leaves them intact,
    and a crash in between leaves at most orphaned objects, never a record without them."""

    kind: ClassVar[type[Any]]

    def __init__(
        self,
        repo: Repository,
        clock: Clock = utc_now,
        new_id: Callable[[], UUID] = uuid4,
        objects: ObjectStore | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.new_id = new_id
        self.objects = objects

    async def create(self, owner: UUID, data: N) -> E:
        values = data.model_dump()
        await self._check_parent(owner, values)
        await self._check_references(owner, values)
        now = self.clock()
        entity: E = self.kind(
            id=self.new_id(), user_id=owner, created_at=now, updated_at=now, **values
        )
        await self.repo.add(entity)
        return entity

    async def get(self, owner: UUID, entity_id: UUID) -> E:
        found: E = await self.repo.get(self.kind, entity_id, owner)
        return found

    async def list(self, owner: UUID, page: Page, parent_id: UUID | None = None) -> list[E]:
        where: dict[str, UUID] = {}
        if parent_id is not None:
            field, parent_kind = PARENTS[self.kind]
            await self.repo.get(parent_kind, parent_id, owner)
            where[field] = parent_id
        found: list[E] = await self.repo.list(
            self.kind, owner, where=where, limit=page.limit, offset=page.offset
        )
        return found

    async def update(self, owner: UUID, entity_id: UUID, changes: C) -> E:
        current: E = await self.repo.get(self.kind, entity_id, owner)
        values = changes.changed()
        await self._check_references(owner, values)
        updated = self._apply(current, values)
        await self.repo.update(updated, expected_updated_at=current.updated_at)
        return updated

    async def delete(self, owner: UUID, entity_id: UUID) -> None:
        folder = None if self.objects is None else await self._folder(owner, entity_id)
        await self.repo.delete(self.kind, entity_id, owner)
        if self.objects is not None and folder is not None:
            await remove_objects(self.objects, folder)

    async def _folder(self, owner: UUID, entity_id: UUID) -> str | None:
        """The object store folder holding this record's objects; None for kinds with none.
        Raises NotFound for a record the owner does not have."""
        return None

    def _apply(self, current: E, values: dict[str, Any]) -> E:
        """The record with ``values`` applied; kinds with a lifecycle override this."""
        return replace(current, **values, updated_at=self.clock())

    async def _check_parent(self, owner: UUID, values: dict[str, Any]) -> None:
        if self.kind in PARENTS:
            field, parent_kind = PARENTS[self.kind]
            await self.repo.get(parent_kind, values[field], owner)

    async def _check_references(self, owner: UUID, values: dict[str, Any]) -> None:
        """Check ids in ``values`` that point at other records; none by default."""
