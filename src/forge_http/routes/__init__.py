"""Route handlers, one module per area of the API; all mounted under ``/api/v1``."""

from litestar.types import ControllerRouterHandler

from forge_http.routes.auth import AuthController
from forge_http.routes.chat_socket import chat_socket
from forge_http.routes.health import health
from forge_http.routes.production import AssetController, AssetMetaController, JobController
from forge_http.routes.runs import start_run
from forge_http.routes.workspace import ChatController, MessageController, SessionController

ROUTES: list[ControllerRouterHandler] = [
    health,
    AuthController,
    SessionController,
    ChatController,
    MessageController,
    JobController,
    AssetController,
    AssetMetaController,
    start_run,
    chat_socket,
]
