"""Asset content in the core (over the memory adapters), its key layout, and the Range
header's reading in the HTTP layer."""

from __future__ import annotations

import logging
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forge_adapters.memory import MemoryObjectStore, MemoryRepository
from forge_core.commands import NewAsset, NewJob, NewSession
from forge_core.entities import Asset
from forge_core.errors import InvalidInput, NotFound, TooLarge, Unavailable
from forge_core.services import AssetContent, Assets, Jobs, Sessions
from forge_core.storage_keys import asset_prefix, check_key, content_type, file_name, object_key
from forge_http.downloads import UNSATISFIABLE, parse_range

pytestmark = pytest.mark.anyio

OWNER = uuid4()


class Forge:
    """The record use cases and asset content over one memory repository and store."""

    def __init__(self, store: MemoryObjectStore, max_bytes: int = 1000) -> None:
        self.repo = MemoryRepository()
        self.store = store
        self.sessions = Sessions(self.repo, objects=store)
        self.jobs = Jobs(self.repo, objects=store)
        self.assets = Assets(self.repo, objects=store)
        self.content = AssetContent(self.repo, store, max_bytes=max_bytes)

    async def asset(self) -> Asset:
        session = await self.sessions.create(OWNER, NewSession(name="s"))
        job = await self.jobs.create(OWNER, NewJob(session_id=session.id, prompt="p"))
        new = NewAsset(job_id=job.id, asset_type="stl", uri="s3://b/frame.stl")
        return await self.assets.create(OWNER, new)


class DeletesTheAssetMidUpload(MemoryObjectStore):
    """A store whose put lets another request delete the asset meanwhile."""

    forge: Forge
    asset_id: UUID

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        uri = await super().put(key, data, content_type)
        await self.forge.repo.delete(Asset, self.asset_id, OWNER)
        return uri


class CannotDelete(MemoryObjectStore):
    async def delete_prefix(self, prefix: str) -> int:
        raise Unavailable("object store cannot delete now")


async def test_a_body_over_the_limit_is_refused_before_anything_is_read() -> None:
    forge = Forge(MemoryObjectStore(), max_bytes=10)
    asset = await forge.asset()
    with pytest.raises(TooLarge) as caught:
        await forge.content.write(OWNER, asset.id, b"x" * 11)
    assert caught.value.detail == "content: is 11 bytes, over the limit of 10 bytes"
    with pytest.raises(TooLarge):  # even for an asset that is not there
        await forge.content.write(OWNER, uuid4(), b"x" * 11)
    assert forge.store._objects == {}
    assert await forge.assets.get(OWNER, asset.id) == asset


async def test_empty_content_is_refused_and_nothing_is_written() -> None:
    forge = Forge(MemoryObjectStore())
    asset = await forge.asset()
    with pytest.raises(InvalidInput, match="content: the body is empty"):
        await forge.content.write(OWNER, asset.id, b"")
    assert forge.store._objects == {}
    assert await forge.assets.get(OWNER, asset.id) == asset


async def test_an_asset_deleted_during_the_upload_leaves_no_object() -> None:
    store = DeletesTheAssetMidUpload()
    store.forge = forge = Forge(store)
    asset = await forge.asset()
    store.asset_id = asset.id
    with pytest.raises(NotFound):
        await forge.content.write(OWNER, asset.id, b"solid")
    assert store._objects == {}


async def test_a_store_failing_after_the_delete_leaves_orphans_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forge = Forge(CannotDelete())
    asset = await forge.asset()
    await forge.content.write(OWNER, asset.id, b"solid")
    with caplog.at_level(logging.WARNING):
        await forge.assets.delete(OWNER, asset.id)
    with pytest.raises(NotFound):
        await forge.assets.get(OWNER, asset.id)
    assert len(forge.store._objects) == 1
    assert "left behind: object store cannot delete now" in caplog.text


async def test_a_missing_record_is_not_found_and_deletes_no_object() -> None:
    forge = Forge(MemoryObjectStore())
    asset = await forge.asset()
    await forge.content.write(OWNER, asset.id, b"solid")
    for service in (forge.sessions, forge.jobs, forge.assets):
        with pytest.raises(NotFound):
            await service.delete(uuid4(), asset.id)  # another owner
    assert len(forge.store._objects) == 1


@pytest.mark.parametrize(
    ("uri", "asset_type", "name"),
    [
        ("s3://bucket/frame.glb", "glb", "frame.glb"),
        ("https://cdn.example/a/b/Part%20(1).stl?sig=x#y", "stl", "Part_1_.stl"),
        ("s3://bucket/model", "stl", "model.stl"),
        ("s3://bucket/", "png", "asset.png"),
        ("s3://bucket", "png", "asset.png"),
        ("file:///..", "scad", "asset.scad"),
        ("s3://b/..%2F..%2Fetc%2Fpasswd", "stl", "_.._etc_passwd"),
        ("s3://b/.hidden", "stl", "hidden.stl"),
        ("s3://b/über.glb", "c++", "_ber.glb"),
        ("s3://b/x", "c++", "x.c_"),
    ],
)
def test_file_names_are_plain_and_safe(uri: str, asset_type: str, name: str) -> None:
    assert file_name(uri, asset_type) == name


@given(st.text(max_size=300), st.from_regex(r"[a-z0-9][a-z0-9_.+-]{0,31}", fullmatch=True))
def test_a_file_name_is_a_valid_segment_and_stable_through_every_store_uri(
    last: str, asset_type: str
) -> None:
    name = file_name(f"s3://bucket/{last}", asset_type)
    assert check_key(name) == name and "/" not in name and len(name) <= 100
    for uri in (f"memory://users/x/{name}", f"s3://b/x/{name}", (Path("/r") / name).as_uri()):
        assert file_name(uri, asset_type) == name


def test_object_keys_are_built_and_checked_in_one_place() -> None:
    ids = [uuid4() for _ in range(4)]
    key = object_key(*ids, "model.stl")
    assert key == f"{asset_prefix(*ids)}/model.stl"
    with pytest.raises(InvalidInput, match="plain segments"):
        object_key(*ids, "../model.stl")
    assert content_type("stl") == "model/stl" and content_type("obj") == "application/octet-stream"


@pytest.mark.parametrize(
    ("header", "size", "wanted"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=2-", 10, (2, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=5-500", 10, (5, 9)),
        (" bytes=1-2 ", 10, (1, 2)),
        ("bytes=10-", 10, UNSATISFIABLE),
        ("bytes=-0", 10, UNSATISFIABLE),
        ("bytes=0-", 0, UNSATISFIABLE),
        ("bytes=-5", 0, UNSATISFIABLE),
        ("bytes=3-2", 10, None),
        ("bytes=0-1,3-4", 10, None),
        ("bytes=-", 10, None),
        ("bytes 0-1", 10, None),
        ("pages=0-1", 10, None),
        ("bytes=" + "1" * 31 + "-", 10, None),
    ],
)
def test_parse_range(header: str | None, size: int, wanted: object) -> None:
    assert parse_range(header, size) == wanted
