"""An asset's content: download (GET, HEAD; ETag, ranges) and upload (PUT, raw body).

The upload's size limit is FORGE_MAX_UPLOAD_BYTES, set on this router when the app is
built: Litestar refuses a longer body (by its Content-Length, or as it streams in) with
413 before the use case runs, and the use case checks the limit again for embedders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, Router, get, head, put
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIResponse, OpenAPIType, RequestBody, Schema
from litestar.openapi.spec import OpenAPIMediaType as Media
from litestar.params import RawBody

from forge_core.services.content import EMPTY_CONTENT
from forge_core.storage_keys import CONTENT_TYPES
from forge_http.dependencies import CallerRequest, PathId
from forge_http.downloads import download
from forge_http.dto import AssetOut, to_dto
from forge_http.errors import error_response
from forge_http.openapi import Documented

BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
UPLOAD = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, min_length=1)  # not empty
DOWNLOAD_RESPONSES = {
    206: ResponseSpec(None, description="The one byte range asked for (Range: bytes=a-b)"),
    304: ResponseSpec(None, description="Unchanged since the ETag given in If-None-Match"),
    404: ResponseSpec(None, description="No such asset"),
    409: ResponseSpec(
        None, description="The asset has no stored content (its uri points elsewhere)"
    ),
    416: ResponseSpec(None, description="The range lies outside the content"),
}


# What a download's Content-Type may be: its asset type's, or application/octet-stream.
MEDIA_TYPES = sorted({*CONTENT_TYPES.values(), "application/octet-stream"})


@dataclass
class DownloadOperation(Documented):
    """GET and HEAD answer 200 in the asset type's media type, whichever it is."""

    def __post_init__(self) -> None:
        super().__post_init__()
        found = (self.responses or {}).get("200")
        if isinstance(found, OpenAPIResponse):
            found.content = {media: Media(schema=BINARY) for media in MEDIA_TYPES}


@dataclass
class UploadOperation(Documented):
    """The upload's body is the file itself, in any media type."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.request_body = RequestBody(
            content={"application/octet-stream": Media(schema=UPLOAD)},
            description="The file's bytes, at most FORGE_MAX_UPLOAD_BYTES",
            required=True,
        )


class AssetContentController(Controller):
    path = "/assets/{asset_id:uuid}/content"
    tags = ["assets"]

    @get(
        "/",
        media_type="application/octet-stream",
        response_description="The content (Content-Type from asset_type)",
        responses=DOWNLOAD_RESPONSES,
        description="The asset's bytes, typed by asset_type (stl: model/stl, glb: "
        "model/gltf-binary, 3mf: model/3mf, png: image/png, scad: text/plain), with an "
        "ETag. If-None-Match answers 304; one `Range: bytes=a-b` (or `a-`, `-n`) answers "
        "206, several ranges the whole content.",
        operation_class=DownloadOperation,
    )
    async def read(self, asset_id: PathId, request: CallerRequest) -> Response[bytes]:
        caller = request.caller
        content = await caller.services.content.read(caller.user_id, asset_id)
        return download(content, request.headers)

    @head(
        "/",
        response_description="The content's headers (Content-Type from asset_type)",
        responses=DOWNLOAD_RESPONSES,
        description="The headers a GET would answer, without the bytes.",
        operation_class=DownloadOperation,
    )
    async def peek(self, asset_id: PathId, request: CallerRequest) -> Response[None]:
        caller = request.caller
        content = await caller.services.content.read(caller.user_id, asset_id)
        return download(content, request.headers, head=True)

    @put(
        "/",
        operation_class=UploadOperation,
        description="Stores the request body as the asset's content (replacing any) and "
        "points its uri at it. 400 for an empty body, 413 over FORGE_MAX_UPLOAD_BYTES.",
    )
    async def write(self, asset_id: PathId, request: CallerRequest, body: RawBody) -> AssetOut:
        caller = request.caller
        if not body:  # no body is a malformed request (400), before the use case's 422
            raise ValidationException(detail=f"content: {EMPTY_CONTENT}")
        asset = await caller.services.content.write(caller.user_id, asset_id, body)
        return to_dto(AssetOut, asset)


def too_large(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    limit = request.route_handler.resolve_request_max_body_size()
    return error_response(413, f"content: the body is over the limit of {limit} bytes")


def content_routes(max_upload_bytes: int) -> Router:
    """The content routes, taking bodies up to ``max_upload_bytes``."""
    return Router(
        path="/",
        route_handlers=[AssetContentController],
        request_max_body_size=max_upload_bytes,
        exception_handlers={413: too_large},
    )
