"""What only the S3 store must add to the ObjectStore contract: the content type is kept,
and every failure of the server or the network is one of Forge's errors (Unavailable),
never an obstore exception."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from forge_adapters.objectstore_s3 import S3ObjectStore
from forge_core.errors import ForgeError, NotFound, Unavailable
from tests.contract.test_object_store_contract import s3_store
from tests.fakes.s3 import S3Server, free_port

pytestmark = pytest.mark.anyio


class Broken(BaseHTTPRequestHandler):
    """A server that answers every request with 503."""

    def _fail(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _fail

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def broken_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def every_call_is_unavailable(store: S3ObjectStore) -> None:
    calls = [
        store.put("k", b"x", "text/plain"),
        store.get("k"),
        store.exists("k"),
        store.delete("k"),
        store.delete_prefix("k"),
    ]
    for call in calls:
        with pytest.raises(Unavailable) as caught:
            await call
        assert not isinstance(caught.value.__cause__, ForgeError)  # the vendor's, chained


async def test_the_content_type_is_kept(s3_server: S3Server, s3_bucket: str) -> None:
    store = s3_store(s3_server.endpoint, s3_bucket)
    await store.put("m/model.glb", b"glTF", "model/gltf-binary")
    response = s3_server.head(s3_bucket, "m/model.glb")
    assert response.headers["content-type"] == "model/gltf-binary"
    assert s3_server.keys(s3_bucket) == {"m/model.glb"}


async def test_no_server_is_unavailable() -> None:
    store = s3_store(f"http://127.0.0.1:{free_port()}", "bucket", retries=0, timeout=2)
    await every_call_is_unavailable(store)


async def test_server_errors_are_unavailable(broken_endpoint: str) -> None:
    store = s3_store(broken_endpoint, "bucket", retries=1, timeout=2)
    await every_call_is_unavailable(store)


async def test_a_missing_bucket_is_unavailable_not_a_missing_object(s3_server: S3Server) -> None:
    store = s3_store(s3_server.endpoint, "no-such-bucket", retries=0)
    with pytest.raises(Unavailable):
        await store.put("k", b"x", "text/plain")
    with pytest.raises(Unavailable):
        await store.get("k")
    with pytest.raises(Unavailable):
        await store.delete("k")
    with pytest.raises(Unavailable):
        await store.delete_prefix("k")


async def test_delete_prefix_deletes_batch_after_batch(s3_server: S3Server, s3_bucket: str) -> None:
    store = s3_store(s3_server.endpoint, s3_bucket, delete_batch=2)
    keys = [f"many/{i}" for i in range(5)]
    for key in keys:
        await store.put(key, b"", "text/plain")
    await store.put("many-kept", b"", "text/plain")
    assert await store.delete_prefix("many") == len(keys)
    assert s3_server.keys(s3_bucket) == {"many-kept"}


async def test_a_missing_key_is_not_found_with_the_key(s3_server: S3Server, s3_bucket: str) -> None:
    store = s3_store(s3_server.endpoint, s3_bucket)
    with pytest.raises(NotFound) as caught:
        await store.get("missing")
    assert caught.value.object_id == "missing"
    assert isinstance(caught.value.__cause__, FileNotFoundError)
