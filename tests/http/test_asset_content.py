"""An asset's content over HTTP: upload, download with ETag and ranges, the size limit,
owner checks, and stored objects going with their records."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from forge_adapters.objectstore_local import LocalObjectStore
from forge_http import build_container, create_app
from tests.http.conftest import FAST_HASHER, User, create, empty_postgres, make_settings
from tests.http.conftest import sign_up as sign_up_on
from tests.http.conftest import snapshot as snapshot_on

pytestmark = pytest.mark.anyio

LIMIT = 64 * 1024
DATA = bytes(range(100))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Api:
    client: AsyncTestClient[Any]
    store: LocalObjectStore

    def objects(self) -> set[str]:
        """Every object the store holds, by key."""
        root = self.store.root
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    async def sign_up(self, email: str) -> User:
        return await sign_up_on(self.client, email)

    async def asset(self, user: User, asset_type: str = "stl", **ids: str) -> dict[str, Any]:
        """A new asset (in a new job and session unless given) registered by uri."""
        if "job_id" not in ids:
            session_id = (
                ids.get("session_id")
                or (await create(self.client, user, "/sessions", {"name": "s"}))["id"]
            )
            body = {"session_id": session_id, "prompt": "a frame"}
            ids["job_id"] = (await create(self.client, user, "/jobs", body))["id"]
        body = {"job_id": ids["job_id"], "asset_type": asset_type, "uri": f"s3://b/f.{asset_type}"}
        return await create(self.client, user, "/assets", body)  # type: ignore[no-any-return]

    async def upload(self, user: User, asset_id: str, data: bytes = DATA) -> dict[str, Any]:
        response = await self.put(user, asset_id, data)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def put(self, user: User, asset_id: str, data: bytes) -> Any:
        headers = {**user.headers, "Content-Type": "application/octet-stream"}
        return await self.client.put(f"/assets/{asset_id}/content", content=data, headers=headers)

    async def get(self, user: User, asset_id: str, **headers: str) -> Any:
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        url = f"/assets/{asset_id}/content"
        return await self.client.get(url, headers={**user.headers, **extra})


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[Api]:
    if database_url.startswith("postgres"):
        await empty_postgres(database_url)
    settings = make_settings(
        tmp_path, database_url=database_url, auth_backend="local", max_upload_bytes=LIMIT
    )
    container = build_container(settings)
    container.gateways.password_hasher.override(providers.Object(FAST_HASHER))
    store = container.gateways.object_store()
    assert isinstance(store, LocalObjectStore)
    app = create_app(container)
    async with AsyncTestClient(app, base_url="http://testserver.local/api/v1") as client:
        yield Api(client, store)


@pytest.fixture
async def alice(api: Api) -> User:
    return await api.sign_up("alice@example.com")


@pytest.fixture
async def bob(api: Api) -> User:
    return await api.sign_up("bob@example.com")


@pytest.fixture
async def uploaded(api: Api, alice: User) -> str:
    """An STL asset of alice's holding DATA."""
    asset = await api.asset(alice)
    await api.upload(alice, asset["id"])
    return str(asset["id"])


def etag_of(data: bytes) -> str:
    return f'"{hashlib.sha256(data).hexdigest()}"'


MEDIA_TYPES = {
    "stl": "model/stl",
    "glb": "model/gltf-binary",
    "3mf": "model/3mf",
    "png": "image/png",
    "scad": "text/plain; charset=utf-8",
    "obj": "application/octet-stream",
}


async def test_upload_then_download(api: Api, alice: User) -> None:
    for asset_type, media_type in MEDIA_TYPES.items():
        asset = await api.asset(alice, asset_type)
        data = os.urandom(5000)
        uploaded = await api.upload(alice, asset["id"], data)
        assert uploaded["uri"].startswith("file://")
        assert uploaded["uri"].endswith(f"/f.{asset_type}")
        assert uploaded["updated_at"] > asset["updated_at"]
        unchanged = ("id", "user_id", "job_id", "asset_type", "created_at")
        assert {k: uploaded[k] for k in unchanged} == {k: asset[k] for k in unchanged}
        got = await api.get(alice, asset["id"])
        assert got.status_code == 200
        assert got.content == data
        assert got.headers["content-type"] == media_type
        assert got.headers["etag"] == etag_of(data)
        assert got.headers["accept-ranges"] == "bytes"
        assert got.headers["content-length"] == "5000"
        assert got.headers["content-disposition"] == f'attachment; filename="f.{asset_type}"'
        read = await api.client.get(f"/assets/{asset['id']}", headers=alice.headers)
        assert read.json() == uploaded


async def test_the_asset_lives_under_its_owner_session_job_and_own_folder(
    api: Api, alice: User
) -> None:
    asset = await api.asset(alice)
    job = (await api.client.get(f"/jobs/{asset['job_id']}", headers=alice.headers)).json()
    await api.upload(alice, asset["id"])
    key = (
        f"users/{alice.user_id}/sessions/{job['session_id']}/jobs/{job['id']}"
        f"/assets/{asset['id']}/f.stl"
    )
    assert api.objects() == {key}


async def test_a_new_upload_replaces_the_content(api: Api, alice: User) -> None:
    asset = await api.asset(alice)
    first = await api.upload(alice, asset["id"], b"first")
    second = await api.upload(alice, asset["id"], b"second, longer")
    assert second["uri"] == first["uri"]
    got = await api.get(alice, asset["id"])
    assert (got.content, got.headers["etag"]) == (b"second, longer", etag_of(b"second, longer"))
    assert len(api.objects()) == 1


async def test_an_empty_upload_is_a_400_and_changes_nothing(api: Api, alice: User) -> None:
    asset = await api.asset(alice)
    await api.upload(alice, asset["id"], b"kept")
    before = await snapshot_on(api.client, alice)
    empty = await api.put(alice, asset["id"], b"")
    assert empty.status_code == 400
    assert empty.json()["detail"] == "content: the body is empty; send the file's bytes"
    assert await snapshot_on(api.client, alice) == before
    assert (await api.get(alice, asset["id"])).content == b"kept"
    never = await api.asset(alice)
    assert (await api.put(alice, never["id"], b"")).status_code == 400
    assert (await api.get(alice, never["id"])).status_code == 409  # still nothing stored


async def test_if_none_match_answers_304(api: Api, alice: User, uploaded: str) -> None:
    tag = etag_of(DATA)
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        got = await api.get(alice, uploaded, if_none_match=header)
        assert (got.status_code, got.content) == (304, b""), header
        assert got.headers["etag"] == tag
    changed = await api.get(alice, uploaded, if_none_match='"other"')
    assert (changed.status_code, changed.content) == (200, DATA)


RANGES = {
    "bytes=0-9": (0, 9),
    "bytes=-10": (90, 99),
    "bytes=5-": (5, 99),
    "bytes=90-1000": (90, 99),
    "bytes=-1000": (0, 99),
    "bytes=99-99": (99, 99),
    "BYTES=10-19": (10, 19),
}


async def test_one_range_answers_206(api: Api, alice: User, uploaded: str) -> None:
    for header, (first, last) in RANGES.items():
        got = await api.get(alice, uploaded, range=header)
        assert got.status_code == 206, header
        assert got.content == DATA[first : last + 1]
        assert got.headers["content-range"] == f"bytes {first}-{last}/100"
        assert got.headers["content-length"] == str(last - first + 1)
        assert got.headers["etag"] == etag_of(DATA)
        assert got.headers["content-type"] == "model/stl"


async def test_a_range_outside_the_content_answers_416(
    api: Api, alice: User, uploaded: str
) -> None:
    for header in ("bytes=100-", "bytes=100-200", "bytes=-0"):
        got = await api.get(alice, uploaded, range=header)
        assert got.status_code == 416, header
        assert got.headers["content-range"] == "bytes */100"
        assert "100 bytes" in got.json()["detail"]


async def test_several_or_unreadable_ranges_answer_the_whole_content(
    api: Api, alice: User, uploaded: str
) -> None:
    unreadable = ["bytes=5-1", "items=0-1", "bytes=x-1", "bytes=-", "bytes=" + "9" * 40]
    for header in ["bytes=0-1,5-6", "bytes=0-1, 200-300", *unreadable]:
        got = await api.get(alice, uploaded, range=header)
        assert (got.status_code, got.content) == (200, DATA), header


async def test_if_range_serves_the_range_only_for_the_current_content(
    api: Api, alice: User, uploaded: str
) -> None:
    same = await api.get(alice, uploaded, range="bytes=0-9", if_range=etag_of(DATA))
    assert (same.status_code, same.content) == (206, DATA[:10])
    old = await api.get(alice, uploaded, range="bytes=0-9", if_range=etag_of(b"old"))
    assert (old.status_code, old.content) == (200, DATA)


async def test_head_answers_the_headers_without_the_bytes(api: Api, alice: User) -> None:
    asset = await api.asset(alice, "glb")
    await api.upload(alice, asset["id"])
    got = await api.client.head(f"/assets/{asset['id']}/content", headers=alice.headers)
    assert (got.status_code, got.content) == (200, b"")
    assert got.headers["content-length"] == "100"
    assert got.headers["content-type"] == "model/gltf-binary"
    assert got.headers["etag"] == etag_of(DATA)


async def test_an_asset_registered_by_uri_has_no_stored_content(api: Api, alice: User) -> None:
    asset = await api.asset(alice, "glb")
    for method in ("GET", "HEAD"):
        got = await api.client.request(
            method, f"/assets/{asset['id']}/content", headers=alice.headers
        )
        assert got.status_code == 409  # the asset exists: "not found" would mislead
    got = await api.get(alice, asset["id"])
    assert got.json()["detail"] == (
        f"Asset {asset['id']} has no stored content: nothing was uploaded for it "
        "and its uri is not an object Forge stores"
    )


async def test_an_upload_over_the_limit_is_413_and_changes_nothing(api: Api, alice: User) -> None:
    asset = await api.asset(alice)
    await api.upload(alice, asset["id"], b"kept")
    before = await snapshot_on(api.client, alice)
    too_big = await api.put(alice, asset["id"], b"x" * (LIMIT + 1))
    assert too_big.status_code == 413
    assert too_big.json()["detail"] == f"content: the body is over the limit of {LIMIT} bytes"
    assert await snapshot_on(api.client, alice) == before
    assert (await api.get(alice, asset["id"])).content == b"kept"
    assert len(api.objects()) == 1
    at_limit = await api.put(alice, asset["id"], b"y" * LIMIT)
    assert at_limit.status_code == 200


async def test_json_routes_keep_their_own_smaller_limit(api: Api, alice: User) -> None:
    body = {"name": "x" * (1024 * 1024)}
    response = await api.client.post("/sessions", json=body, headers=alice.headers)
    assert response.status_code == 413


async def test_another_users_asset_is_404_and_nothing_changes(
    api: Api, alice: User, bob: User
) -> None:
    asset = await api.asset(alice)
    await api.upload(alice, asset["id"], b"alice's")
    own = await api.asset(bob)
    await api.upload(bob, own["id"], b"bob's")
    before = (await snapshot_on(api.client, alice), await snapshot_on(api.client, bob))
    objects = api.objects()
    url = f"/assets/{asset['id']}/content"
    for method in ("GET", "HEAD", "PUT"):
        response = await api.client.request(method, url, content=b"bob's", headers=bob.headers)
        assert response.status_code == 404, method
    missing = await api.get(bob, "00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert (await snapshot_on(api.client, alice), await snapshot_on(api.client, bob)) == before
    assert api.objects() == objects
    assert (await api.get(alice, asset["id"])).content == b"alice's"
    no_token = await api.client.get(url)
    assert no_token.status_code == 401


async def test_deleting_an_asset_job_or_session_removes_its_objects(
    api: Api, alice: User, bob: User
) -> None:
    session = (await create(api.client, alice, "/sessions", {"name": "s"}))["id"]
    jobs = [
        (await create(api.client, alice, "/jobs", {"session_id": session, "prompt": "p"}))["id"]
        for _ in range(2)
    ]
    first, second = [await api.asset(alice, job_id=jobs[0]) for _ in range(2)]
    third = await api.asset(alice, job_id=jobs[1])
    elsewhere = await api.asset(alice)  # another session
    bobs = await api.asset(bob)
    for user, asset in [(alice, a) for a in (first, second, third, elsewhere)] + [(bob, bobs)]:
        await api.upload(user, asset["id"])
    assert len(api.objects()) == 5

    def folders() -> set[str]:
        return {key.split("/assets/")[1].split("/")[0] for key in api.objects()}

    await api.client.delete(f"/assets/{first['id']}", headers=alice.headers)
    assert folders() == {a["id"] for a in (second, third, elsewhere, bobs)}
    await api.client.delete(f"/jobs/{jobs[0]}", headers=alice.headers)
    assert folders() == {a["id"] for a in (third, elsewhere, bobs)}
    await api.client.delete(f"/sessions/{session}", headers=alice.headers)
    assert folders() == {elsewhere["id"], bobs["id"]}
    assert (await api.get(alice, elsewhere["id"])).content == DATA
    assert (await api.get(bob, bobs["id"])).content == DATA


async def test_a_refused_delete_keeps_the_objects(
    api: Api, alice: User, bob: User, uploaded: str
) -> None:
    asset = (await api.client.get(f"/assets/{uploaded}", headers=alice.headers)).json()
    job = (await api.client.get(f"/jobs/{asset['job_id']}", headers=alice.headers)).json()
    for path in (f"/assets/{uploaded}", f"/jobs/{job['id']}", f"/sessions/{job['session_id']}"):
        assert (await api.client.delete(path, headers=bob.headers)).status_code == 404
    assert (await api.get(alice, uploaded)).content == DATA
    assert len(api.objects()) == 1


async def test_the_openapi_schema_is_valid_and_shows_the_content_routes(api: Api) -> None:
    schema = (await api.client.get("http://testserver.local/schema/openapi.json")).json()
    validate(schema)
    path = schema["paths"]["/api/v1/assets/{asset_id}/content"]
    assert {"get", "head", "put"} <= set(path)
    body = path["put"]["requestBody"]["content"]["application/octet-stream"]["schema"]
    assert body == {"type": "string", "format": "binary", "minLength": 1}  # empty is a 400
    assert {"206", "304", "404", "416"} <= set(path["get"]["responses"])
