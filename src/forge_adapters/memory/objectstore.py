"""The ObjectStore port over a dict; URIs are ``memory://<key>``."""

from __future__ import annotations

from forge_core.errors import NotFound
from forge_core.storage_keys import check_key


class MemoryObjectStore:
    def __init__(self) -> None:
        self._objects: dict[str, tuple[bytes, str]] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        self._objects[check_key(key)] = (bytes(data), content_type)
        return f"memory://{key}"

    async def get(self, key: str) -> bytes:
        if check_key(key) not in self._objects:
            raise NotFound("Object", key)
        return self._objects[key][0]

    async def delete(self, key: str) -> None:
        self._objects.pop(check_key(key), None)

    async def exists(self, key: str) -> bool:
        return check_key(key) in self._objects

    async def delete_prefix(self, prefix: str) -> int:
        folder = check_key(prefix) + "/"
        doomed = [key for key in self._objects if key.startswith(folder)]
        for key in doomed:
            del self._objects[key]
        return len(doomed)
