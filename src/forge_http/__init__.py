"""The HTTP front end: a Litestar app over the core's use cases, and the ``forge`` CLI."""

from forge_http.app import create_app
from forge_http.container import Application, build_container
from forge_http.settings import Settings

__all__ = ["Application", "Settings", "build_container", "create_app"]
