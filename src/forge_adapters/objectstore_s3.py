"""The ObjectStore port over S3 or an S3-compatible server (MinIO, R2, moto), with obstore.
URIs are ``s3://<bucket>/<key>``.

Credentials come from the environment as obstore reads them (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, web identity, ECS or instance metadata),
unless given here. obstore was chosen over aioboto3 by measurement (docs/benchmarks.md).
Its exceptions are translated once, in ``_translated``: a missing key is NotFound, a key
obstore refuses is InvalidInput, anything else (no connection, 5xx after the retries,
refused credentials, a missing bucket) is Unavailable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import BaseError, InvalidPathError
from obstore.store import S3Store

from forge_core.errors import ForgeError, InvalidInput, NotFound, Unavailable
from forge_core.storage_keys import check_key

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

SINGLE_PUT_UP_TO = 64 * 1024 * 1024  # larger objects go up in 64 MiB parts
DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes on Amazon S3
_VENDOR_ERRORS = (BaseError, OSError, ValueError)


class S3ObjectStore:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        retries: int = 3,
        timeout: float = 30.0,
        delete_batch: int = DELETE_BATCH,
    ) -> None:
        self.bucket = bucket
        self.delete_batch = delete_batch
        config: S3Config = {}
        if endpoint_url:
            config["endpoint"] = endpoint_url
        if region:
            config["region"] = region
        if access_key_id and secret_access_key:
            config["access_key_id"] = access_key_id
            config["secret_access_key"] = secret_access_key
        client: ClientConfig = {
            "timeout": timedelta(seconds=timeout),
            "connect_timeout": timedelta(seconds=min(timeout, 5.0)),
            "allow_http": bool(endpoint_url and endpoint_url.startswith("http://")),
        }
        retry: RetryConfig = {
            "max_retries": retries,
            "retry_timeout": timedelta(seconds=timeout),
            "backoff": {
                "init_backoff": timedelta(milliseconds=50),
                "max_backoff": timedelta(seconds=2),
                "base": 2,
            },
        }
        with _translated("configure", ""):
            self._store = S3Store(bucket, config=config, client_options=client, retry_config=retry)

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        with _translated("put", check_key(key)):
            await obstore.put_async(
                self._store,
                key,
                data,
                attributes={"Content-Type": content_type},
                chunk_size=SINGLE_PUT_UP_TO,
            )
        return f"s3://{self.bucket}/{key}"

    async def get(self, key: str) -> bytes:
        with _translated("get", check_key(key), missing=NotFound("Object", key)):
            result = await obstore.get_async(self._store, key)
            return bytes(await result.bytes_async())

    async def delete(self, key: str) -> None:
        with _translated("delete", check_key(key), ignore_missing=True):
            await obstore.delete_async(self._store, key)

    async def exists(self, key: str) -> bool:
        with _translated("head", check_key(key), ignore_missing=True):
            await obstore.head_async(self._store, key)
            return True
        return False

    async def delete_prefix(self, prefix: str) -> int:
        """List the keys under ``prefix/`` and remove them with bulk deletes (S3's
        DeleteObjects), ``delete_batch`` keys at a time as the listing goes."""
        removed = 0
        with _translated("delete", check_key(prefix), ignore_missing=True):
            pages = obstore.list(self._store, prefix, chunk_size=self.delete_batch)
            async for page in pages:
                keys = [meta["path"] for meta in page]
                await obstore.delete_async(self._store, keys)
                removed += len(keys)
        return removed


@contextmanager
def _translated(
    action: str, key: str, *, missing: ForgeError | None = None, ignore_missing: bool = False
) -> Iterator[None]:
    """obstore's exceptions -> the error tree, once. ``missing`` is what a missing key means
    for this call (Unavailable if not given); ``ignore_missing`` leaves the block instead."""
    try:
        yield
    except _VENDOR_ERRORS as exc:
        absent = isinstance(exc, FileNotFoundError) and "NoSuchBucket" not in str(exc)
        if absent and ignore_missing:
            return
        if absent and missing is not None:
            raise missing from exc
        if isinstance(exc, InvalidPathError):
            raise InvalidInput("key", f"{key!r} is refused by the object store") from exc
        subject = f" {key!r}" if key else ""
        raise Unavailable(
            f"object store cannot {action}{subject} now ({type(exc).__name__})"
        ) from exc
