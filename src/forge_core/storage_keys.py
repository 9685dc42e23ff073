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
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit
from uuid import UUID

MAX_NAME = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def session_prefix(user_id: UUID, session_id: UUID) -> str:
    return f"users/{user_id}/sessions/{session_id}"


def job_prefix(user_id: UUID, session_id: UUID, job_id: UUID) -> str:
    return f"{session_prefix(user_id, session_id)}/jobs/{job_id}"


def asset_prefix(user_id: UUID, session_id: UUID, job_id: UUID, asset_id: UUID) -> str:
    return f"{job_prefix(user_id, session_id, job_id)}/assets/{asset_id}"


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
