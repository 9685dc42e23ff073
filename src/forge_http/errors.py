"""Errors to responses, in one place: the core's error tree by table, Litestar's own
validation errors rewritten so that ``detail`` names the field, and anything else (a bug)
logged once with its traceback and request id before its 500 goes out."""

from __future__ import annotations

import logging
import sys
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Scope
from litestar.types.protocols import Logger as LitestarLogger

from forge_core.components import NOT_BLANK
from forge_core.errors import (
    Conflict,
    ForgeError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    TooLarge,
    Unauthenticated,
    Unavailable,
)
from forge_http.observability import request_id

log = logging.getLogger("forge.errors")

STATUS_BY_ERROR: dict[type[ForgeError], int] = {
    NotFound: 404,
    TooLarge: 413,
    Conflict: 409,
    InvalidInput: 422,
    Unauthenticated: 401,
    PermissionDenied: 403,
    RateLimited: 429,
    Unavailable: 503,
    ForgeError: 400,
}


def status_for(error: ForgeError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def error_response(
    status: int, detail: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(
        {"status_code": status, "detail": detail},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def forge_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ForgeError)
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(status, exc.detail, headers)


def validation_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, ValidationException)
    problems = [_describe(item) for item in exc.extra or []] if isinstance(exc.extra, list) else []
    detail = "; ".join(problems) if problems else exc.detail
    return error_response(400, detail)


# A pattern is in the API schema; in an answer, the reader wants what the field should be.
_PATTERN_FAILURES = ("Expected `str` matching regex", "String should match pattern")
PATTERN_MEANS = {
    "email": "not a valid email address",
    "asset_type": "must be 1 to 32 lower-case letters, digits or _.+-",
    "uri": "not a URI (scheme:rest, no spaces or control characters)",
}


def _describe(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    key, source = item.get("key"), item.get("source")
    message = str(item.get("message", "invalid")).removeprefix("Value error, ")
    if message.startswith(_PATTERN_FAILURES):
        blank = NOT_BLANK in message  # the catalog's names, sources, aliases and threads
        message = (
            "may not be blank"
            if blank
            else PATTERN_MEANS.get(str(key), "not in the form the API schema gives")
        )
    if key == "data" and source in (None, "body"):  # the body as a whole, not one field
        return "a JSON request body is required" if message == "'data'" else message
    where = getattr(source, "value", source)
    prefix = f"{where} parameter " if where and where != "body" else ""
    return f"{prefix}{key}: {message}" if key else message


def unhandled_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A 500: a bug. Logged here, once, as the only place every such error passes."""
    log.error(
        "unhandled %s in %s %s",
        type(exc).__name__,
        request.method,
        request.scope["path"],
        exc_info=exc,
        extra={"request_id": request_id.get()},
    )
    return error_response(500, "Internal Server Error")


def log_handled_error(logger: LitestarLogger, scope: Scope, _: list[str]) -> None:
    """With FORGE_LOG_LEVEL=debug, Litestar logs each exception it handles; the ones that
    become a 500 are left to ``unhandled_error_handler``, so that each is logged once."""
    exc = sys.exc_info()[1]
    if isinstance(exc, ForgeError) or (isinstance(exc, HTTPException) and exc.status_code < 500):
        logger.debug("handled %r in %s", exc, scope["path"], exc_info=exc)


EXCEPTION_HANDLERS = {
    ForgeError: forge_error_handler,
    ValidationException: validation_error_handler,
    # Litestar sends every error no handler above claims here, and its own 500s.
    HTTP_500_INTERNAL_SERVER_ERROR: unhandled_error_handler,
}
