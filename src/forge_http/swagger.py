"""The browsable API page at ``/schema/swagger``, with Swagger UI's files served from the
installed package (swagger-ui-bundle-v2, Apache-2.0), not a CDN: the page works offline
and loads nothing from another host."""

from __future__ import annotations

from litestar import Router
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped,import-not-found,unused-ignore]

#: Where Swagger UI's own files are served (under /schema, which needs no token).
ASSETS = "/schema/swagger-ui"


def swagger_page() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    )


def swagger_assets() -> Router:
    return create_static_files_router(
        path=ASSETS,
        directories=[swagger_ui_path],
        include_in_schema=False,
        cache_control=None,
    )
