"""``Allow`` on OPTIONS lists every method of the path (RFC 9110, section 10.2.1).

Litestar 2 makes one OPTIONS handler per route and, when a later handler joins the same
path, keeps the first one, which still lists only the methods it saw (litestar#4169,
fixed in Litestar 3). Its 405 answers are right: they read the routing trie. The app's
edge (``edge.py``) rewrites the OPTIONS answer's ``Allow`` from the app's final routes,
so both answers agree.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute

Headers = list[tuple[bytes, bytes]]


def methods_by_path(app: Litestar) -> dict[str, bytes]:
    """Each HTTP path template's ``Allow`` value, from the app's routes once built."""
    return {
        route.path_format: ", ".join(sorted(route.methods)).encode()
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


def with_allow(headers: Headers, allow: bytes | None) -> Headers:
    """``headers`` with their ``Allow`` (if they have one) replaced by ``allow``."""
    if allow is None:
        return headers
    kept = [(name, value) for name, value in headers if name.lower() != b"allow"]
    return [*kept, (b"allow", allow)] if len(kept) < len(headers) else headers
