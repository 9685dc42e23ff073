"""MemoryRepository and SqlRepository (on SQLite) against a plain-dict model, over random
adds, reads, lists, updates and deletes by two owners: same results, same errors."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
from hypothesis import assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from forge_adapters.memory import MemoryRepository
from forge_adapters.sql import SqlAuthStore, SqlRepository, create_engine, migrate
from forge_core.entities import (
    PARENTS,
    Asset,
    AssetMeta,
    Chat,
    Job,
    Message,
    OwnedEntity,
    Session,
    User,
)
from forge_core.errors import ForgeError, NotFound, StaleObject

T0 = datetime(2024, 5, 1, tzinfo=UTC)
OWNERS = (UUID(int=1), UUID(int=2))
KINDS = (Session, Chat, Message, Job, Asset, AssetMeta)
TEXT_FIELD = {Session: "name", Chat: "title", Message: "content", Job: "prompt",
              Asset: "uri", AssetMeta: "part_name"}  # fmt: skip

texts = st.text(max_size=4)
json_objects = st.none() | st.dictionaries(
    texts, st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts, max_size=2
)


class Model:
    """The Repository contract over one dict of records by id."""

    def __init__(self) -> None:
        self.records: dict[UUID, Any] = {}

    def add(self, entity: OwnedEntity) -> None:
        if type(entity) in PARENTS:
            field, parent_kind = PARENTS[type(entity)]
            if not isinstance(self.records.get(getattr(entity, field)), parent_kind):
                raise NotFound(parent_kind.__name__, getattr(entity, field))
        self.records[entity.id] = entity

    def get(self, kind: type[Any], entity_id: UUID, owner: UUID) -> Any:
        found = self.records.get(entity_id)
        if type(found) is not kind or found.user_id != owner:
            raise NotFound(kind.__name__, entity_id)
        return found

    def list(self, kind: type[Any], owner: UUID, where: dict[str, UUID], limit: int, offset: int) -> list[Any]:  # fmt: skip
        rows = [r for r in self.records.values() if type(r) is kind and r.user_id == owner
                and all(getattr(r, f) == v for f, v in where.items())]  # fmt: skip
        return sorted(rows, key=lambda r: (r.created_at, r.id))[offset : offset + limit]

    def count_owned(self, kind: type[Any], ids: list[UUID], owner: UUID) -> int:
        return sum(1 for i in set(ids) if i in self.records and self._owned(kind, i, owner))

    def _owned(self, kind: type[Any], entity_id: UUID, owner: UUID) -> bool:
        record = self.records[entity_id]
        return type(record) is kind and record.user_id == owner

    def update(self, entity: OwnedEntity, expected: datetime) -> None:
        current = self.get(type(entity), entity.id, entity.user_id)
        if current.updated_at != expected:
            raise StaleObject("changed")
        self.records[entity.id] = entity

    def delete(self, kind: type[Any], entity_id: UUID, owner: UUID) -> None:
        self.get(kind, entity_id, owner)
        doomed = {entity_id}
        while grown := {
            r.id for r in self.records.values()
            if r.id not in doomed and type(r) in PARENTS
            and getattr(r, PARENTS[type(r)][0]) in doomed
        }:  # fmt: skip
            doomed |= grown
        for gone in doomed:
            del self.records[gone]
        for record in list(self.records.values()):
            if isinstance(record, AssetMeta) and record.component_of in doomed:
                self.records[record.id] = replace(record, component_of=None)


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", call())
    except ForgeError as exc:
        return ("error", type(exc).__name__, getattr(exc, "kind", None))


class RepositoryMachine(RuleBasedStateMachine):
    template: ClassVar[Path]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="forge-model-"))
        shutil.copyfile(self.template, self.folder / "forge.db")
        self.engine = create_engine(f"sqlite:///{self.folder}/forge.db")
        auth = SqlAuthStore(self.engine)
        for n, owner in enumerate(OWNERS):
            user = User(id=owner, email=f"u{n}@example.com", created_at=T0, updated_at=T0)
            self.run(auth.add_user(user, None))
        self.model, self.memory, self.sql = Model(), MemoryRepository(), SqlRepository(self.engine)

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def agree(self, model_call: Callable[[], Any], call: Callable[[Any], Awaitable[Any]]) -> Any:
        expected = outcome(model_call)
        for repo in (self.memory, self.sql):
            assert outcome(lambda r=repo: self.run(call(r))) == expected, type(repo).__name__
        return expected

    def pick(self, kind: type[Any], index: int | None, fallback: UUID) -> UUID:
        ids = sorted(r.id for r in self.model.records.values() if type(r) is kind)
        return fallback if index is None or not ids else ids[index % len(ids)]

    @rule(
        kind=st.sampled_from(KINDS), owner=st.sampled_from(OWNERS), new_id=st.uuids(),
        parent=st.none() | st.integers(0, 50), component=st.none() | st.integers(0, 50),
        missing=st.uuids(), second=st.integers(0, 3), data=st.data(),
    )  # fmt: skip
    def add(self, kind: type[Any], owner: UUID, new_id: UUID, parent: int | None,
            component: int | None, missing: UUID, second: int, data: st.DataObject) -> None:  # fmt: skip
        assume(new_id not in self.model.records and new_id != missing)
        when = T0 + timedelta(seconds=second)
        values: dict[str, Any] = {"id": new_id, "user_id": owner, "created_at": when,
                                  "updated_at": when, TEXT_FIELD[kind]: data.draw(texts)}  # fmt: skip
        if kind in PARENTS:
            field, parent_kind = PARENTS[kind]
            values[field] = self.pick(parent_kind, parent, missing)
        values.update(self.extra_fields(kind, component, data))
        entity = kind(**values)
        self.agree(lambda: self.model.add(entity), lambda r: r.add(entity))

    def extra_fields(self, kind: type[Any], component: int | None, data: st.DataObject) -> dict[str, Any]:  # fmt: skip
        if kind is Message:
            return {"role": "user", "metadata_json": data.draw(json_objects)}
        if kind is Job:
            return {"output_format": "stl", "spec": data.draw(json_objects)}
        if kind is Asset:
            return {"asset_type": "stl"}
        if kind is AssetMeta:
            assets = [r.id for r in self.model.records.values() if type(r) is Asset]
            component_of = (
                None if component is None or not assets else assets[component % len(assets)]
            )
            uuids = data.draw(st.none() | st.lists(st.uuids(), max_size=2))
            return {"component_of": component_of, "is_composite_of": uuids,
                    "position_json": data.draw(json_objects)}  # fmt: skip
        return {"metadata_json": data.draw(json_objects)} if kind is Session else {}

    @rule(kind=st.sampled_from(KINDS), owner=st.sampled_from(OWNERS),
          index=st.none() | st.integers(0, 50), missing=st.uuids())  # fmt: skip
    def get(self, kind: type[Any], owner: UUID, index: int | None, missing: UUID) -> None:
        entity_id = self.pick(kind, index, missing)
        self.agree(lambda: self.model.get(kind, entity_id, owner),
                   lambda r: r.get(kind, entity_id, owner))  # fmt: skip

    @rule(kind=st.sampled_from(KINDS), owner=st.sampled_from(OWNERS),
          parent=st.none() | st.integers(0, 50), limit=st.integers(1, 5),
          offset=st.integers(0, 4))  # fmt: skip
    def list(self, kind: type[Any], owner: UUID, parent: int | None, limit: int, offset: int) -> None:  # fmt: skip
        where: dict[str, UUID] = {}
        if kind in PARENTS and parent is not None:
            field, parent_kind = PARENTS[kind]
            where[field] = self.pick(parent_kind, parent, UUID(int=0))
        self.agree(lambda: self.model.list(kind, owner, where, limit, offset),
                   lambda r: r.list(kind, owner, where=where, limit=limit, offset=offset))  # fmt: skip

    @rule(kind=st.sampled_from(KINDS), owner=st.sampled_from(OWNERS),
          picks=st.lists(st.integers(0, 50), max_size=4), extra=st.lists(st.uuids(), max_size=2))  # fmt: skip
    def count_owned(self, kind: type[Any], owner: UUID, picks: list[int], extra: list[UUID]) -> None:  # fmt: skip
        ids = [self.pick(kind, p, UUID(int=0)) for p in picks] + extra
        self.agree(lambda: self.model.count_owned(kind, ids, owner),
                   lambda r: r.count_owned(kind, ids, owner))  # fmt: skip

    @rule(kind=st.sampled_from(KINDS), index=st.integers(0, 50), owner=st.sampled_from(OWNERS),
          stale=st.booleans(), text=texts)  # fmt: skip
    def update(self, kind: type[Any], index: int, owner: UUID, stale: bool, text: str) -> None:
        entity_id = self.pick(kind, index, UUID(int=0))
        assume(entity_id in self.model.records)
        current = self.model.records[entity_id]
        changed = replace(current, user_id=owner, updated_at=current.updated_at + timedelta(seconds=1),
                          **{TEXT_FIELD[kind]: text})  # fmt: skip
        expected = current.updated_at - timedelta(microseconds=1) if stale else current.updated_at
        self.agree(lambda: self.model.update(changed, expected),
                   lambda r: r.update(changed, expected_updated_at=expected))  # fmt: skip

    @rule(kind=st.sampled_from(KINDS), owner=st.sampled_from(OWNERS),
          index=st.none() | st.integers(0, 50), missing=st.uuids())  # fmt: skip
    def delete(self, kind: type[Any], owner: UUID, index: int | None, missing: UUID) -> None:
        entity_id = self.pick(kind, index, missing)
        self.agree(lambda: self.model.delete(kind, entity_id, owner),
                   lambda r: r.delete(kind, entity_id, owner))  # fmt: skip

    @invariant()
    def everything_agrees(self) -> None:
        for kind in KINDS:
            for owner in OWNERS:
                self.agree(lambda k=kind, o=owner: self.model.list(k, o, {}, 10**6, 0),
                           lambda r, k=kind, o=owner: r.list(k, o, limit=10**6))  # fmt: skip


def test_repositories_agree_with_the_model(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(migrate(f"sqlite:///{template}"))
    finally:
        loop.close()
    machine = type("Machine", (RepositoryMachine,), {"template": template})
    run_state_machine_as_test(
        machine, settings=settings(max_examples=30, stateful_step_count=20, deadline=None)
    )


pytest.importorskip("hypothesis")
