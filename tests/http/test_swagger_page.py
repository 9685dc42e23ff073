"""The Swagger UI page loads everything from this server: it works offline."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

ROOT = "http://testserver.local"


async def test_the_swagger_page_loads_nothing_from_another_host(
    client: AsyncTestClient[Any],
) -> None:
    page = await client.get(f"{ROOT}/schema/swagger")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    head = page.text.split("<body>")[0]
    links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", head)
    assert len(links) == 4, links  # the favicon, the stylesheet and two scripts
    for link in links:
        assert link.startswith("/schema/swagger-ui/"), f"{link} is not served from here"
    for needle in ("//cdn", "unpkg", "jsdelivr", "googleapis"):
        assert needle not in page.text
    for link in links:
        served = await client.get(f"{ROOT}{link}")
        assert served.status_code == 200, link
        assert len(served.content) > 500, link
    bundle = await client.get(f"{ROOT}/schema/swagger-ui/swagger-ui-bundle.js")
    assert "javascript" in bundle.headers["content-type"]
    assert b"SwaggerUIBundle" in bundle.content


async def test_the_files_need_no_token_and_unknown_ones_are_404(
    client: AsyncTestClient[Any],
) -> None:
    assert (await client.get(f"{ROOT}/schema/swagger-ui/swagger-ui.css")).status_code == 200
    assert (await client.get(f"{ROOT}/schema/swagger-ui/nothing.js")).status_code == 404
