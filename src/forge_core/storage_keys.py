"""Where an asset's bytes live in the object store, decided here once.

    users/{user_id}/sessions/{session_id}/jobs/{job_id}/assets/{asset_id}/{file name}

Each record's objects sit under its own folder, so deleting a session, a job or an asset
removes every object below it with one ``ObjectStore.delete_prefix`` call. The owner comes
first: no key built here can name another user's folder.

An asset holds one object. Its file name comes from the last segment of the asset's
``uri`` (``s3://bucket/frame.glb`` gives ``frame.glb``), kept to letters, digits, ``.``,
``_`` and ``-``, with the asset type as extension when it has none; ``{asset type}`` names
it when the uri gives nothing usable. The name is stable: the uri the store answers for
this key gives the same name back, so the key can be found again from the asset alone.

``check_key`` is the one rule every ObjectStore adapter applies to a key, and
``CONTENT_TYPES`` the media type an asset's object is stored and served with.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit
from uuid import UUID

from forge_core.errors import InvalidInput

MAX_NAME = 100
MAX_KEY_BYTES = 1024  # S3's limit
MAX_SEGMENT_BYTES = 255  # a file name's limit on common file systems
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

#: Media types by asset type; any other type is stored as application/octet-stream.
CONTENT_TYPES = {
    "stl": "model/stl",
    "glb": "model/gltf-binary",
    "3mf": "model/3mf",
    "png": "image/png",
    "scad": "text/plain; charset=utf-8",
}


def content_type(asset_type: str) -> str:
    return CONTENT_TYPES.get(asset_type, "application/octet-stream")


def session_prefix(user_id: UUID, session_id: UUID) -> str:
    return f"users/{user_id}/sessions/{session_id}"


def job_prefix(user_id: UUID, session_id: UUID, job_id: UUID) -> str:
    return f"{session_prefix(user_id, session_id)}/jobs/{job_id}"


def asset_prefix(user_id: UUID, session_id: UUID, job_id: UUID, asset_id: UUID) -> str:
    return f"{job_prefix(user_id, session_id, job_id)}/assets/{asset_id}"


def object_key(user_id: UUID, session_id: UUID, job_id: UUID, asset_id: UUID, file: str) -> str:
    """The key of one of an asset's objects, checked (``check_key``)."""
    return check_key(f"{asset_prefix(user_id, session_id, job_id, asset_id)}/{file}")


def file_name(uri: str, asset_type: str) -> str:
    """A safe, stable file name for an asset's object (see the module docstring)."""
    last = unquote(urlsplit(uri).path.rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", last).lstrip(".")[:MAX_NAME]
    extension = _UNSAFE.sub("_", asset_type).strip(".")[:20] or "bin"
    if not name.strip("_."):
        name = "asset"
    if "." in name:
        return name
    return f"{name[: MAX_NAME - len(extension) - 1]}.{extension}"


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
