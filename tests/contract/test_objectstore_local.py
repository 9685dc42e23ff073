"""What only the local-file store must add to the ObjectStore contract: symlinks planted in
its folder lead nowhere, writes are atomic and leave no temporary file, folders and objects
cannot share a name, and a broken data folder is Unavailable."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from forge_adapters.objectstore_local import TEMP_PREFIX, LocalObjectStore
from forge_core.errors import Conflict, InvalidInput, Unavailable

pytestmark = pytest.mark.anyio

STL = "model/stl"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret").write_bytes(b"do not touch")
    return folder


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    root = tmp_path / "objects"
    root.mkdir()
    return LocalObjectStore(root)


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def leftovers(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.startswith(TEMP_PREFIX)]


async def test_a_symlinked_folder_cannot_lead_out(store: LocalObjectStore, outside: Path) -> None:
    (store.root / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInput):
        await store.put("evil/new/x", b"evil", STL)
    for call in (store.get, store.exists, store.delete):
        with pytest.raises(InvalidInput):
            await call("evil/secret")
    assert names(outside) == ["secret"]
    assert (outside / "secret").read_bytes() == b"do not touch"


async def test_a_symlinked_file_cannot_lead_out(store: LocalObjectStore, outside: Path) -> None:
    (store.root / "link").symlink_to(outside / "secret")
    for call in (store.get, store.exists, store.delete):
        with pytest.raises(InvalidInput):
            await call("link")
    with pytest.raises(InvalidInput):
        await store.put("link", b"evil", STL)
    assert (outside / "secret").read_bytes() == b"do not touch"


async def test_the_root_itself_may_be_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "disk"
    real.mkdir()
    (tmp_path / "objects").symlink_to(real, target_is_directory=True)
    store = LocalObjectStore(tmp_path / "objects")
    await store.put("a/b", b"x", STL)
    assert (real / "a" / "b").read_bytes() == b"x"
    assert await store.get("a/b") == b"x"


async def test_writes_leave_no_temporary_file(store: LocalObjectStore) -> None:
    uri = await store.put("a/b.stl", b"x" * 1000, STL)
    await store.put("a/b.stl", b"y", STL)
    assert uri == (store.root / "a" / "b.stl").as_uri()
    assert leftovers(store.root) == []
    assert names(store.root / "a") == ["b.stl"]


async def test_an_object_and_a_folder_cannot_share_a_name(store: LocalObjectStore) -> None:
    await store.put("a/b", b"1", STL)
    with pytest.raises(Conflict):
        await store.put("a", b"2", STL)  # "a" is a folder
    with pytest.raises(Conflict):
        await store.put("a/b/c", b"3", STL)  # "a/b" is a file
    assert await store.get("a/b") == b"1"
    assert leftovers(store.root) == []
    assert not await store.exists("a")
    await store.delete("a")  # a folder is no object: nothing to delete


async def test_delete_prunes_the_folders_it_empties(store: LocalObjectStore) -> None:
    await store.put("a/b/c", b"1", STL)
    await store.put("a/d", b"2", STL)
    await store.delete("a/b/c")
    assert names(store.root / "a") == ["d"]
    await store.delete("a/d")
    assert names(store.root) == []
    await store.put("a", b"now a file", STL)
    assert await store.get("a") == b"now a file"


async def test_readers_see_the_old_or_the_new_object_never_a_part(
    store: LocalObjectStore,
) -> None:
    size = 1024 * 1024
    versions = {b"a" * size, b"b" * size}
    await store.put("model.stl", b"a" * size, STL)
    seen: set[bytes] = set()

    async def write() -> None:
        for i in range(20):
            await store.put("model.stl", (b"b" if i % 2 == 0 else b"a") * size, STL)

    async def read() -> None:
        for _ in range(40):
            seen.add(await store.get("model.stl"))

    async with anyio.create_task_group() as group:
        group.start_soon(write)
        group.start_soon(read)
        group.start_soon(read)
    assert seen <= versions
    assert leftovers(store.root) == []


async def test_a_data_folder_that_is_a_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "objects").write_bytes(b"not a folder")
    store = LocalObjectStore(tmp_path / "objects")
    with pytest.raises(Unavailable) as caught:
        await store.put("a", b"x", STL)
    assert isinstance(caught.value.__cause__, OSError)
    assert str(tmp_path) not in caught.value.detail  # no server paths in messages


async def test_delete_prefix_never_follows_a_symlink_out(
    store: LocalObjectStore, outside: Path
) -> None:
    await store.put("s/own", b"x", STL)
    (store.root / "s" / "folder-link").symlink_to(outside, target_is_directory=True)
    (store.root / "s" / "file-link").symlink_to(outside / "secret")
    (store.root / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInput):
        await store.delete_prefix("evil")
    assert await store.delete_prefix("s") == 1  # the links go, not what they point at
    assert names(store.root) == ["evil"]
    assert names(outside) == ["secret"]
    assert (outside / "secret").read_bytes() == b"do not touch"


async def test_delete_prefix_prunes_the_folders_it_empties(store: LocalObjectStore) -> None:
    await store.put("u/s/j/a/model.stl", b"1", STL)
    await store.put("u/t/model.stl", b"2", STL)
    assert await store.delete_prefix("u/s/j") == 1
    assert names(store.root / "u") == ["t"]
    assert leftovers(store.root) == []
