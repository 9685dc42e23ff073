"""Answering a download of stored bytes: ETag and If-None-Match (304), Range and If-Range
(206 or 416), as RFC 9110 has them, for one whole object held in memory.

One range is served as asked. A Range header with several ranges, or one that does not
parse, is ignored and the whole object is sent (200), as the RFC allows.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Response
from litestar.datastructures import Headers

from forge_core.services import Content
from forge_http.errors import error_response

_RANGE = re.compile(r"bytes=(\d{1,30})?-(\d{1,30})?", re.IGNORECASE)


class Unsatisfiable:
    """A range that starts past the last byte (or a suffix of nothing)."""


UNSATISFIABLE = Unsatisfiable()


def parse_range(header: str | None, size: int) -> tuple[int, int] | Unsatisfiable | None:
    """The one byte range ``header`` asks for, as ``(first, last)`` inclusive, clamped to
    ``size``; None to send everything; UNSATISFIABLE when no byte of it exists."""
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if first is None and last is None:
        return None
    if first is None:  # "-n": the last n bytes
        suffix = int(last)
        return (max(size - suffix, 0), size - 1) if suffix > 0 and size > 0 else UNSATISFIABLE
    start = int(first)
    if last is not None and int(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        return UNSATISFIABLE
    return start, size - 1 if last is None else min(int(last), size - 1)


def matches_any(header: str | None, etag: str) -> bool:
    """Whether If-None-Match names ``etag`` (weak comparison) or is ``*``."""
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def download(content: Content, headers: Headers, *, head: bool = False) -> Response[Any]:
    """The response to a GET (or HEAD) of ``content`` with the request's ``headers``."""
    etag = f'"{content.etag}"'
    common = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if matches_any(headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=common)
    size = len(content.data)
    wanted = None
    if not head and headers.get("if-range", etag) == etag:  # a changed object: send it all
        wanted = parse_range(headers.get("range"), size)
    if isinstance(wanted, Unsatisfiable):
        detail = f"Range: none of it lies within the {size} bytes of the content"
        return error_response(416, detail, {"Content-Range": f"bytes */{size}"})
    full = {
        **common,
        "Content-Type": content.content_type,
        "Content-Disposition": f'attachment; filename="{content.file_name}"',
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
    }
    if head:
        return Response(None, headers={**full, "Content-Length": str(size)})
    if wanted is None:
        return Response(content.data, headers=full)
    start, end = wanted
    part = {**full, "Content-Range": f"bytes {start}-{end}/{size}"}
    return Response(content.data[start : end + 1], status_code=206, headers=part)
