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
from uuid import NAMESPACE_URL, UUID, uuid5

from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

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
MISSING = UUID(int=0)  # no record has it
SAMPLE_JSON = {"k": [1, None, "é"]}
KINDS = (Session, Chat, Message, Job, Asset, AssetMeta)
TEXT_FIELD = {
    Session: "name",
    Chat: "title",
    Message: "content",
    Job: "prompt",
    Asset: "uri",
    AssetMeta: "part_name",
}

Draw = Callable[[st.SearchStrategy[Any]], Any]
texts = st.text(max_size=4)
json_objects = st.none() | st.dictionaries(
    texts, st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts, max_size=2
)


def weighted(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """``common`` three times in four, else ``rare``."""
    return st.one_of(common, common, common, rare)


mostly = weighted(st.just(True), st.just(False))


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

    def list(
        self, kind: type[Any], owner: UUID, where: dict[str, UUID], limit: int, offset: int
    ) -> list[Any]:
        rows = [
            r
            for r in self.records.values()
            if type(r) is kind
            and r.user_id == owner
            and all(getattr(r, f) == v for f, v in where.items())
        ]
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
            r.id
            for r in self.records.values()
            if r.id not in doomed
            and type(r) in PARENTS
            and getattr(r, PARENTS[type(r)][0]) in doomed
        }:
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


def planted() -> list[OwnedEntity]:
    """What every run starts from, already in the template database: a tree of records
    per owner, both metas components of the first owner's asset."""
    ids = {
        (n, kind): uuid5(NAMESPACE_URL, f"plant:{n}:{kind.__name__}")
        for n in (0, 1)
        for kind in KINDS
    }
    records: list[OwnedEntity] = []
    for n, owner in enumerate(OWNERS):
        when = T0 + timedelta(seconds=n)
        for kind in KINDS:
            values = {"id": ids[n, kind], "user_id": owner, "created_at": when, "updated_at": when}
            values[TEXT_FIELD[kind]] = f"{kind.__name__} {n}"
            values.update(fixed_fields(kind, component_of=ids[0, Asset]))
            if kind in PARENTS:
                values[PARENTS[kind][0]] = ids[n, PARENTS[kind][1]]
            records.append(kind(**values))
    return records


def fixed_fields(kind: type[Any], component_of: UUID) -> dict[str, Any]:
    return {
        Message: {"role": "user", "metadata_json": SAMPLE_JSON},
        Job: {"output_format": "stl", "spec": SAMPLE_JSON},
        Asset: {"asset_type": "stl"},
        Session: {"metadata_json": SAMPLE_JSON},
        AssetMeta: {"component_of": component_of, "is_composite_of": [*OWNERS]},
    }.get(kind, {})


class RepositoryMachine(RuleBasedStateMachine):
    """Each rule runs one call on the model and on both repositories (the SQL one on
    SQLite, through a private event loop) and wants the same result or error."""

    template: ClassVar[Path]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="forge-model-"))
        shutil.copyfile(self.template, self.folder / "forge.db")
        self.engine = create_engine(f"sqlite:///{self.folder}/forge.db")
        self.model, self.memory, self.sql = Model(), MemoryRepository(), SqlRepository(self.engine)
        for record in planted():  # the SQL database has them from its template
            self.model.add(record)
            self.run(self.memory.add(record))
        self.seen: dict[UUID, Any] = {}
        self.changed = True
        self.made = 0

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def agree(self, model_call: Callable[[], Any], call: Callable[[Any], Awaitable[Any]]) -> None:
        expected = outcome(model_call)
        self.changed = self.changed or self.model.records != self.seen
        self.seen = dict(self.model.records)
        for repo in (self.memory, self.sql):
            assert outcome(lambda r=repo: self.run(call(r))) == expected, type(repo).__name__

    def ids(self, kind: type[Any]) -> st.SearchStrategy[UUID]:
        """Mostly the id of a stored record of ``kind`` (of either owner), else MISSING."""
        stored = sorted(r.id for r in self.model.records.values() if type(r) is kind)
        return weighted(st.sampled_from(stored), st.just(MISSING)) if stored else st.just(MISSING)

    @rule(kind=st.sampled_from(KINDS), owner=st.sampled_from(OWNERS), data=st.data())
    def add(self, kind: type[Any], owner: UUID, data: st.DataObject) -> None:
        parent_id = data.draw(self.ids(PARENTS[kind][1])) if kind in PARENTS else None
        self.add_one(self.make(kind, owner, parent_id, data.draw))

    @rule(owner=st.sampled_from(OWNERS), data=st.data())
    def grow(self, owner: UUID, data: st.DataObject) -> None:
        """A new tree, one record of each kind, whose meta may be a component of any asset."""
        made: dict[type[Any], UUID] = {}
        for kind in KINDS:
            parent_id = made[PARENTS[kind][1]] if kind in PARENTS else None
            entity = self.make(kind, owner, parent_id, data.draw)
            self.add_one(entity)
            made[kind] = entity.id

    def add_one(self, entity: OwnedEntity) -> None:
        self.agree(lambda: self.model.add(entity), lambda r: r.add(entity))

    def make(self, kind: type[Any], owner: UUID, parent_id: Any, draw: Draw) -> Any:
        """A new record with drawn values; its id is made, not drawn, so it is new."""
        self.made += 1
        when = T0 + timedelta(seconds=draw(st.integers(0, 3)))
        values = {
            "id": uuid5(NAMESPACE_URL, f"made:{self.made}"),
            "user_id": owner,
            "created_at": when,
            "updated_at": when,
            TEXT_FIELD[kind]: draw(texts),
            **self.drawn_fields(kind, draw),
        }
        if kind in PARENTS:
            values[PARENTS[kind][0]] = parent_id
        return kind(**values)

    def drawn_fields(self, kind: type[Any], draw: Draw) -> dict[str, Any]:
        if kind is AssetMeta:
            assets = sorted(r.id for r in self.model.records.values() if type(r) is Asset)
            some = weighted(st.sampled_from(assets), st.none()) if assets else st.none()
            # never a missing asset: SQL refuses one (a foreign key), memory does not check
            return {
                "component_of": draw(some),
                "is_composite_of": draw(st.none() | st.lists(st.sampled_from(OWNERS))),
                "position_json": draw(json_objects),
            }
        fields = fixed_fields(kind, MISSING)
        for name in ("metadata_json", "spec"):
            if name in fields:
                fields[name] = draw(json_objects)
        return fields

    def target(self, data: st.DataObject) -> tuple[type[Any], UUID, UUID]:
        """Mostly a stored record's kind, id and owner; else a kind, an id as ``ids``
        draws it and either owner."""
        stored = sorted({type(r) for r in self.model.records.values()}, key=KINDS.index)
        kind = data.draw(
            weighted(st.sampled_from(stored), st.sampled_from(KINDS))
            if stored
            else st.sampled_from(KINDS)
        )
        entity_id = data.draw(self.ids(kind))
        found = self.model.records.get(entity_id)
        if found is not None and data.draw(mostly):
            return kind, entity_id, found.user_id
        return kind, entity_id, data.draw(st.sampled_from(OWNERS))

    @rule(data=st.data())
    def get(self, data: st.DataObject) -> None:
        kind, entity_id, owner = self.target(data)
        self.agree(
            lambda: self.model.get(kind, entity_id, owner), lambda r: r.get(kind, entity_id, owner)
        )

    @rule(
        kind=st.sampled_from(KINDS),
        owner=st.sampled_from(OWNERS),
        limit=st.integers(1, 5),
        offset=st.integers(0, 4),
        data=st.data(),
    )
    def list(
        self, kind: type[Any], owner: UUID, limit: int, offset: int, data: st.DataObject
    ) -> None:
        where: dict[str, UUID] = {}
        if kind in PARENTS and data.draw(st.booleans()):
            field, parent_kind = PARENTS[kind]
            where[field] = data.draw(self.ids(parent_kind))
        self.agree(
            lambda: self.model.list(kind, owner, where, limit, offset),
            lambda r: r.list(kind, owner, where=where, limit=limit, offset=offset),
        )

    @rule(kind=st.sampled_from(KINDS), owner=st.sampled_from(OWNERS), data=st.data())
    def count_owned(self, kind: type[Any], owner: UUID, data: st.DataObject) -> None:
        ids = data.draw(st.lists(self.ids(kind), max_size=4))
        self.agree(
            lambda: self.model.count_owned(kind, ids, owner),
            lambda r: r.count_owned(kind, ids, owner),
        )

    @rule(fresh=mostly, text=texts, data=st.data())
    def update(self, fresh: bool, text: str, data: st.DataObject) -> None:
        kind, entity_id, owner = self.target(data)
        current = self.model.records.get(entity_id)
        if type(current) is not kind:  # a missing record: any values will do
            current = replace(self.make(kind, owner, MISSING, data.draw), id=entity_id)
        later = current.updated_at + timedelta(seconds=1)
        changed = replace(current, user_id=owner, updated_at=later, **{TEXT_FIELD[kind]: text})
        expected = current.updated_at if fresh else current.updated_at - timedelta(microseconds=1)
        self.agree(
            lambda: self.model.update(changed, expected),
            lambda r: r.update(changed, expected_updated_at=expected),
        )

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        kind, entity_id, owner = self.target(data)
        self.agree(
            lambda: self.model.delete(kind, entity_id, owner),
            lambda r: r.delete(kind, entity_id, owner),
        )

    @invariant()
    def everything_agrees(self) -> None:
        """After each change, both repositories hold what the model holds."""
        if not self.changed:
            return
        self.changed = False
        for kind in KINDS:
            for owner in OWNERS:
                self.agree(
                    lambda k=kind, o=owner: self.model.list(k, o, {}, 10**6, 0),
                    lambda r, k=kind, o=owner: r.list(k, o, limit=10**6),
                )


async def make_template(path: Path) -> None:
    """A migrated database with both owners and ``planted()``, copied for each run."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        await migrate(engine)
        for n, owner in enumerate(OWNERS):
            user = User(id=owner, email=f"u{n}@example.com", created_at=T0, updated_at=T0)
            await SqlAuthStore(engine).add_user(user, None)
        for record in planted():
            await SqlRepository(engine).add(record)
    finally:
        await engine.dispose()


def test_repositories_agree_with_the_model(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(make_template(template))
    finally:
        loop.close()
    machine = type("Machine", (RepositoryMachine,), {"template": template})
    # No explain phase: it reruns a failing machine hundreds of times, which took minutes.
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        ),
    )
