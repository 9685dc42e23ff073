"""An asset's bytes: read them, upload them, and remove them with their records.

The bytes live in the object store at the key ``storage_keys`` gives the asset, and the
asset's ``uri`` is the store's URI for them once written. An asset a client registered
with a uri of its own (``s3://their-bucket/frame.glb``) has no stored content until
something is uploaded for it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from uuid import UUID

from forge_core.entities import Asset, Clock, Job, utc_now
from forge_core.errors import ForgeError, InvalidInput, NoStoredContent, NotFound, TooLarge
from forge_core.ports import ObjectStore, Repository
from forge_core.storage_keys import asset_prefix, content_type, file_name, object_key

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
EMPTY_CONTENT = "the body is empty; send the file's bytes"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Content:
    """An asset's bytes with what a download needs to describe them."""

    data: bytes
    content_type: str
    etag: str  # the SHA-256 of the bytes, in hex: equal bytes, equal tag
    file_name: str


async def asset_folder(repo: Repository, owner: UUID, asset: Asset) -> str:
    """The folder of the asset's objects; reads its job, which knows the session."""
    job: Job = await repo.get(Job, asset.job_id, owner)
    return asset_prefix(owner, job.session_id, job.id, asset.id)


async def remove_objects(objects: ObjectStore, folder: str) -> None:
    """Remove a deleted record's objects. The record is gone already, so a store that
    fails here leaves orphaned objects (logged) rather than failing the delete."""
    try:
        await objects.delete_prefix(folder)
    except ForgeError as exc:
        log.warning("objects under %s were left behind: %s", folder, exc.detail)


class AssetContent:
    """Reads and writes the bytes of the caller's assets; another user's asset is NotFound."""

    def __init__(
        self,
        repo: Repository,
        objects: ObjectStore,
        clock: Clock = utc_now,
        max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    ) -> None:
        self.repo = repo
        self.objects = objects
        self.clock = clock
        self.max_bytes = max_bytes

    async def read(self, owner: UUID, asset_id: UUID) -> Content:
        """The asset's bytes; NoStoredContent if none are stored for it."""
        asset: Asset = await self.repo.get(Asset, asset_id, owner)
        key = await self._key(owner, asset)
        try:
            data = await self.objects.get(key)
        except NotFound:
            raise NoStoredContent(asset_id) from None
        etag = hashlib.sha256(data).hexdigest()
        name = key.rsplit("/", 1)[-1]
        return Content(data, content_type(asset.asset_type), etag, name)

    async def write(self, owner: UUID, asset_id: UUID, data: bytes) -> Asset:
        """Store ``data`` as the asset's content (replacing any) and point its ``uri`` at
        it. TooLarge over ``max_bytes``, before anything is read or written; StaleObject
        if the asset changed meanwhile (the bytes are stored, the uri is the same)."""
        if len(data) > self.max_bytes:
            raise TooLarge("content", len(data), self.max_bytes)
        if not data:  # a 0-byte model is a mistake (an empty file, a failed export)
            raise InvalidInput("content", EMPTY_CONTENT)
        asset: Asset = await self.repo.get(Asset, asset_id, owner)
        key = await self._key(owner, asset)
        uri = await self.objects.put(key, data, content_type(asset.asset_type))
        updated = replace(asset, uri=uri, updated_at=self.clock())
        try:
            await self.repo.update(updated, expected_updated_at=asset.updated_at)
        except NotFound:  # deleted while the bytes went up: leave no orphan behind
            await self.objects.delete(key)
            raise
        return updated

    async def _key(self, owner: UUID, asset: Asset) -> str:
        job: Job = await self.repo.get(Job, asset.job_id, owner)
        name = file_name(asset.uri, asset.asset_type)
        return object_key(owner, job.session_id, job.id, asset.id, name)
