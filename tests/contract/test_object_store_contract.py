"""The ObjectStore contract: memory, local files and S3 (a real moto server on 127.0.0.1)
pass the same suite. A new store is done when a subclass of ``ObjectStoreContract`` passes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from forge_adapters.memory import MemoryObjectStore
from forge_adapters.objectstore_local import LocalObjectStore
from forge_adapters.objectstore_s3 import S3ObjectStore
from forge_core.errors import InvalidInput, NotFound
from forge_core.ports import ObjectStore
from tests.fakes.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server

pytestmark = pytest.mark.anyio

STL = "model/stl"
ESCAPES = [
    "",
    "/etc/passwd",
    "../outside",
    "a/../../outside",
    "..",
    ".",
    "a/./b",
    "a//b",
    "a/",
    "a\\..\\..\\outside",
    "C:\\outside",
    "a\x00b",
    "a\nb",
    "x" * 256,
    "a/" * 600,
]
Listing = Callable[[], set[str]]


class ObjectStoreContract:
    """Subclasses provide ``store``, ``listing`` (everything the store holds, as it names
    it: keys, or files around its folder) and ``uri_of`` (the URI ``put`` answers)."""

    @pytest.fixture
    def store(self) -> ObjectStore:
        raise NotImplementedError

    @pytest.fixture
    def listing(self, store: ObjectStore) -> Listing:
        raise NotImplementedError

    @pytest.fixture
    def uri_of(self, store: ObjectStore) -> Callable[[str], str]:
        raise NotImplementedError

    async def test_put_then_get_exists(
        self, store: ObjectStore, uri_of: Callable[[str], str]
    ) -> None:
        uri = await store.put("sessions/s1/model.stl", b"solid", STL)
        assert uri == uri_of("sessions/s1/model.stl")
        assert await store.get("sessions/s1/model.stl") == b"solid"
        assert await store.exists("sessions/s1/model.stl")

    async def test_put_replaces(self, store: ObjectStore) -> None:
        await store.put("a/b.txt", b"first, and longer", "text/plain")
        await store.put("a/b.txt", b"second", "text/plain")
        assert await store.get("a/b.txt") == b"second"

    async def test_delete_removes_only_that_object(self, store: ObjectStore) -> None:
        await store.put("a/b", b"1", STL)
        await store.put("a/c", b"2", STL)
        await store.delete("a/b")
        assert not await store.exists("a/b")
        assert await store.get("a/c") == b"2"
        with pytest.raises(NotFound):
            await store.get("a/b")

    async def test_a_missing_object_is_not_found(self, store: ObjectStore) -> None:
        with pytest.raises(NotFound) as caught:
            await store.get("no/such/object")
        assert (caught.value.kind, caught.value.object_id) == ("Object", "no/such/object")
        assert not await store.exists("no/such/object")

    async def test_deleting_a_missing_object_is_a_no_op(self, store: ObjectStore) -> None:
        await store.delete("no/such/object")
        await store.put("kept", b"x", STL)
        await store.delete("kept")
        await store.delete("kept")
        assert not await store.exists("kept")

    @pytest.mark.parametrize("key", ESCAPES)
    async def test_keys_that_leave_the_store_are_refused_and_nothing_is_written(
        self, store: ObjectStore, listing: Listing, key: str
    ) -> None:
        before = listing()
        with pytest.raises(InvalidInput) as caught:
            await store.put(key, b"evil", STL)
        assert caught.value.field == "key"
        for call in (store.get, store.exists, store.delete):
            with pytest.raises(InvalidInput):
                await call(key)
        assert listing() == before

    @pytest.mark.parametrize(
        "data",
        [b"", bytes(range(256)) * 4, b"\x00\r\n\x1a" * 100, os.urandom(8 * 1024 * 1024)],
        ids=["empty", "every-byte", "line-ends", "8MiB"],
    )
    async def test_bytes_round_trip_unchanged(self, store: ObjectStore, data: bytes) -> None:
        await store.put("blob.bin", data, "application/octet-stream")
        assert await store.get("blob.bin") == data
        assert await store.exists("blob.bin")

    async def test_delete_prefix_removes_everything_under_the_folder_only(
        self, store: ObjectStore
    ) -> None:
        doomed = ["u/s1/model.stl", "u/s1/j/a/part (1).stl", "u/s1/j/b/über.glb"]
        kept = ["u/s10/model.stl", "u/s1x", "u/s/1", "v/u/s1/x"]
        for key in doomed + kept:
            await store.put(key, key.encode(), STL)
        assert await store.delete_prefix("u/s1") == len(doomed)
        for key in doomed:
            assert not await store.exists(key), key
        for key in kept:
            assert await store.get(key) == key.encode(), key
        await store.put("u/s1/again", b"x", STL)  # the folder can be used again
        assert await store.get("u/s1/again") == b"x"

    async def test_delete_prefix_with_nothing_under_it_is_a_no_op(self, store: ObjectStore) -> None:
        await store.put("kept/object", b"x", STL)
        assert await store.delete_prefix("no/such/prefix") == 0
        assert await store.delete_prefix("kept/object") == 0  # an object is not a folder
        assert await store.get("kept/object") == b"x"

    @pytest.mark.parametrize("key", ESCAPES)
    async def test_prefixes_that_leave_the_store_are_refused(
        self, store: ObjectStore, listing: Listing, key: str
    ) -> None:
        await store.put("inside/x", b"x", STL)
        before = listing()
        with pytest.raises(InvalidInput):
            await store.delete_prefix(key)
        assert listing() == before

    @pytest.mark.parametrize("key", ["part (1).stl", "über/ß.glb", ".hidden/x", "a+b%20c&d=e"])
    async def test_unusual_but_plain_keys_work(
        self, store: ObjectStore, uri_of: Callable[[str], str], key: str
    ) -> None:
        assert await store.put(key, b"x", STL) == uri_of(key)
        assert await store.get(key) == b"x"
        await store.delete(key)
        assert not await store.exists(key)


class TestMemoryObjectStore(ObjectStoreContract):
    @pytest.fixture
    def store(self) -> MemoryObjectStore:
        return MemoryObjectStore()

    @pytest.fixture
    def listing(self, store: MemoryObjectStore) -> Listing:
        return lambda: set(store._objects)

    @pytest.fixture
    def uri_of(self) -> Callable[[str], str]:
        return lambda key: f"memory://{key}"


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


class TestLocalObjectStore(ObjectStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> LocalObjectStore:
        return LocalObjectStore(tmp_path / "data" / "objects")

    @pytest.fixture
    def listing(self, tmp_path: Path) -> Listing:
        return lambda: files_under(tmp_path)

    @pytest.fixture
    def uri_of(self, store: LocalObjectStore) -> Callable[[str], str]:
        return lambda key: store.root.joinpath(*key.split("/")).as_uri()


class TestS3ObjectStore(ObjectStoreContract):
    @pytest.fixture
    def store(self, s3_server: S3Server, s3_bucket: str) -> S3ObjectStore:
        return s3_store(s3_server.endpoint, s3_bucket)

    @pytest.fixture
    def listing(self, s3_server: S3Server, s3_bucket: str) -> Listing:
        return lambda: s3_server.keys(s3_bucket)

    @pytest.fixture
    def uri_of(self, s3_bucket: str) -> Callable[[str], str]:
        return lambda key: f"s3://{s3_bucket}/{key}"


def s3_store(endpoint: str, bucket: str, **options: float) -> S3ObjectStore:
    return S3ObjectStore(
        bucket,
        endpoint_url=endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        **options,  # type: ignore[arg-type]
    )
