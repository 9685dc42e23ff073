"""``/console``: the web console, static files shipped inside this package.

The console is a plain client of the public API and the chat socket; the server only
hands out its files. They are public (the sign-in page must load before any token
exists) and carry a strict Content-Security-Policy: scripts from this origin only, plus
the one inline import map by its hash, so an injected ``<script>`` cannot run and read
the access token the page keeps in memory (docs/console.md).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Response, Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

from forge_http.security import PUBLIC

CONSOLE_DIR = Path(__file__).resolve().parent / "console"
CONSOLE_PATH = "/console"
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)


@cache
def content_security_policy() -> str:
    """The policy for the console's pages, read once from its index.html (the import map's
    hash must match the bytes the browser sees)."""
    index = (CONSOLE_DIR / "index.html").read_text(encoding="utf-8")
    found = _IMPORT_MAP.search(index)
    digest = hashlib.sha256(found.group(1).encode()).digest() if found else b""
    import_map = f" 'sha256-{base64.b64encode(digest).decode()}'" if found else ""
    return (
        "default-src 'self'; "
        f"script-src 'self'{import_map}; "
        "connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def _secured(response: Response[Any]) -> Response[Any]:
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def console_router() -> Router:
    """The console's files under ``/console/``; ``no-cache`` so that an upgraded server's
    files replace the old ones (the browser revalidates with the ETag)."""
    return create_static_files_router(
        path=CONSOLE_PATH,
        directories=[CONSOLE_DIR],
        html_mode=True,
        name="console",
        opt=PUBLIC,
        cache_control=CacheControlHeader(no_cache=True),
        after_request=_secured,
        include_in_schema=False,
    )


def console_url(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard listen address is reached locally)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}{CONSOLE_PATH}/"
