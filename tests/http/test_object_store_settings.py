"""Choosing the object store by settings, refusing S3 without a bucket, and the container
handing out the chosen adapter (S3 against the test server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forge_adapters.memory import MemoryObjectStore
from forge_adapters.objectstore_local import LocalObjectStore
from forge_adapters.objectstore_s3 import S3ObjectStore
from forge_http import build_container
from forge_http.settings import SettingsError, load_settings
from tests.fakes.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.http.conftest import make_settings

pytestmark = pytest.mark.anyio


def chosen(**values: object) -> str:
    return load_settings(_env_file=None, **values).object_store


def test_local_by_default_s3_with_a_bucket_memory_with_a_memory_database() -> None:
    assert chosen() == "local"
    assert chosen(s3_bucket="assets") == "s3"
    assert chosen(database_url="memory://") == "memory"
    assert chosen(s3_bucket="assets", object_store="local") == "local"
    assert chosen(database_url="memory://", object_store="local") == "local"


def test_s3_needs_a_bucket_and_an_http_endpoint() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, object_store="s3")
    assert str(caught.value) == (
        "invalid setting FORGE_S3_BUCKET: must be set when FORGE_OBJECT_STORE=s3"
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, s3_bucket="b", s3_endpoint_url="minio:9000")
    assert str(caught.value).startswith("invalid setting FORGE_S3_ENDPOINT_URL:")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, object_store="gcs")
    assert str(caught.value).startswith("invalid setting FORGE_OBJECT_STORE:")


def test_s3_settings_read_their_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_S3_BUCKET", "assets")
    monkeypatch.setenv("FORGE_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("FORGE_S3_REGION", "eu-west-1")
    settings = load_settings(_env_file=None)
    assert (settings.object_store, settings.s3_bucket) == ("s3", "assets")
    assert (settings.s3_endpoint_url, settings.s3_region) == ("http://127.0.0.1:9000", "eu-west-1")


async def test_the_container_hands_out_local_files_by_default(tmp_path: Path) -> None:
    store = build_container(make_settings(tmp_path)).gateways.object_store()
    assert isinstance(store, LocalObjectStore)
    assert await store.put("a/b", b"x", "text/plain") == (tmp_path / "data/objects/a/b").as_uri()


def test_the_container_keeps_memory_selectable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="memory://")
    assert isinstance(build_container(settings).gateways.object_store(), MemoryObjectStore)


async def test_the_container_hands_out_s3(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)  # standard AWS credentials
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    settings = make_settings(
        tmp_path, s3_bucket=s3_bucket, s3_endpoint_url=s3_server.endpoint, s3_region=REGION
    )
    store = build_container(settings).gateways.object_store()
    assert isinstance(store, S3ObjectStore)
    assert await store.put("a/b", b"x", "text/plain") == f"s3://{s3_bucket}/a/b"
    assert s3_server.keys(s3_bucket) == {"a/b"}
