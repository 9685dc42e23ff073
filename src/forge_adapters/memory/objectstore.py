"""The ObjectStore port over a dict; URIs are ``memory://<key>``."""

from __future__ import annotations

from forge_core.errors import InvalidInput, NotFound

MAX_KEY_BYTES = 1024  # S3's limit
MAX_SEGMENT_BYTES = 255  # a file name's limit on common file systems


def check_key(key: str) -> str:
    """A key is a relative path of plain segments; anything else could leave the store.
    Returns the key; raises InvalidInput.

    Every ObjectStore adapter applies this one rule, so a key valid in one store is valid in
    all: no empty, ``.`` or ``..`` segment, no leading ``/``, no backslash, no control
    character (NUL included), valid Unicode, at most 1024 bytes of UTF-8 and 255 per segment.
    """
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise InvalidInput("key", f"{key[:200]!r} is not a relative path of plain segments")
    if any(ord(c) < 0x20 or c == "\x7f" for c in key):
        raise InvalidInput("key", f"{key[:200]!r} holds a control character")
    try:
        sizes = [len(p.encode()) for p in parts]
    except UnicodeEncodeError:  # a lone surrogate: no file or S3 name can hold it
        raise InvalidInput("key", f"{key[:200]!r} is not valid Unicode") from None
    if sum(sizes) + len(parts) - 1 > MAX_KEY_BYTES or max(sizes) > MAX_SEGMENT_BYTES:
        raise InvalidInput("key", "is longer than 1024 bytes, or has a segment over 255")
    return key


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
