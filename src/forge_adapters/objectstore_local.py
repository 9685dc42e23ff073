"""The ObjectStore port over local files, ``<root>/<key>``; URIs are ``file://<absolute path>``.

The embedded default keeps its objects in ``FORGE_DATA_DIR/objects``. Writes are atomic:
the bytes go to a temporary file in the object's own folder, are fsync'd, then renamed over
the object (``os.replace``) and the folder is fsync'd, so a reader sees the old object or
the new one, never part of one. Keys follow ``check_key``; on top of it a key whose path
resolves outside the root (through a symlink planted inside it) is refused. Blocking file
I/O runs in a worker thread, one hop per call.

Unlike S3 a folder cannot also be an object: putting ``a`` while ``a/b`` exists (or the
reverse) raises Conflict. Deleting an object (or a prefix: the folder's tree) removes the
folders it leaves empty.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from anyio import to_thread

from forge_core.errors import Conflict, ForgeError, InvalidInput, NotFound, Unavailable
from forge_core.storage_keys import check_key

TEMP_PREFIX = ".forge-tmp-"
_IN_THE_WAY = (errno.EEXIST, errno.ENOTDIR, errno.EISDIR)  # a file or folder on the path


class LocalObjectStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(root))

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        path = self._path(key)
        await to_thread.run_sync(self._write, key, path, data)
        return path.as_uri()

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        return await to_thread.run_sync(self._read, key, path)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await to_thread.run_sync(self._delete, key, path)

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await to_thread.run_sync(self._exists, key, path)

    async def delete_prefix(self, prefix: str) -> int:
        path = self._path(prefix)
        return await to_thread.run_sync(self._delete_tree, prefix, path)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _refuse_escape(self, key: str, path: Path) -> None:
        """A symlink inside the root may not lead out of it."""
        root = os.path.realpath(self.root)
        if os.path.commonpath([root, os.path.realpath(path)]) != root:
            raise InvalidInput("key", f"{key!r} leads outside the object store")

    def _write(self, key: str, path: Path, data: bytes) -> None:
        with _translated("write", key):
            self.root.mkdir(parents=True, exist_ok=True)
        clash = Conflict(f"object key {key!r} clashes with another object's folder")
        with _translated("write", key, dict.fromkeys(_IN_THE_WAY, clash)):
            self._refuse_escape(key, path)
            fd, temp = _temp_beside(path)
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temp, path)
            except BaseException:
                with suppress(OSError):
                    os.unlink(temp)
                raise
            _fsync_folder(path.parent)

    def _read(self, key: str, path: Path) -> bytes:
        missing = NotFound("Object", key)
        with _translated("read", key, dict.fromkeys((errno.ENOENT, *_IN_THE_WAY), missing)):
            self._refuse_escape(key, path)
            with open(path, "rb") as file:
                return file.read()

    def _exists(self, key: str, path: Path) -> bool:
        self._refuse_escape(key, path)
        return path.is_file()

    def _delete(self, key: str, path: Path) -> None:
        with _translated("delete", key, dict.fromkeys((errno.ENOENT, *_IN_THE_WAY))):
            self._refuse_escape(key, path)
            os.unlink(path)
        self._prune(path.parent)

    def _delete_tree(self, prefix: str, path: Path) -> int:
        """Unlink file by file, bottom up, never following a symlink: a put racing this
        keeps its folder (rmdir refuses a non-empty one) instead of failing."""
        gone = (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR)
        removed = 0
        with _translated("delete", prefix, dict.fromkeys(gone)):
            self._refuse_escape(prefix, path)
            if path.is_symlink() or not path.is_dir():
                return 0
            for folder, folders, files in os.walk(path, topdown=False):
                links = [name for name in folders if os.path.islink(os.path.join(folder, name))]
                for name in (*files, *links):
                    file = os.path.join(folder, name)
                    counts = not (name.startswith(TEMP_PREFIX) or os.path.islink(file))
                    with _translated("delete", prefix, dict.fromkeys(gone)):
                        os.unlink(file)
                        removed += counts
                with _translated("delete", prefix, dict.fromkeys(gone)):
                    os.rmdir(folder)
        self._prune(path.parent)
        return removed

    def _prune(self, start: Path) -> None:
        """Remove the folders a delete leaves empty, up to the root."""
        for folder in (start, *start.parents):
            if folder == self.root or not folder.is_relative_to(self.root):
                break
            try:
                os.rmdir(folder)
            except OSError:
                break


@contextmanager
def _translated(
    action: str, key: str, outcomes: Mapping[int, ForgeError | None] | None = None
) -> Iterator[None]:
    """OSError -> the error tree, once: ``outcomes`` says what an errno means for this call
    (None: not an error); any other OSError is Unavailable."""
    try:
        yield
    except OSError as exc:
        code = -1 if exc.errno is None else exc.errno
        if outcomes is None or code not in outcomes:
            reason = exc.strerror or type(exc).__name__
            raise Unavailable(f"object store cannot {action} {key!r}: {reason}") from exc
        outcome = outcomes[code]
        if outcome is not None:
            raise outcome from exc


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder (made if need be), so the rename is atomic."""
    for _ in range(2):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
        except FileNotFoundError:  # a delete pruned the empty folder meanwhile: once more
            continue
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
