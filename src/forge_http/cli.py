"""The ``forge`` command: ``forge serve``, ``forge migrate``, ``forge catalog``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import NoReturn

from forge_core.errors import ForgeError
from forge_http import catalog_cli
from forge_http.settings import Settings, SettingsError, load_settings

#: On SIGTERM, how long requests and sockets in flight have to end before they are cut.
GRACE_SECONDS = 30


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forge",
        description="Forge: the backend of a chat-to-3D design product.",
        epilog="Settings come from FORGE_* environment variables and ./.env; "
        "see docs/configuration.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the HTTP API (migrates SQLite on its own)")
    serve.add_argument("--host", help="address to listen on (FORGE_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (FORGE_PORT, default 8000)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    catalog_cli.add_parser(commands)
    return parser


def serve(settings: Settings) -> None:
    if (problem := port_problem(settings.host, settings.port)) is not None:
        _fail(problem)  # before the seconds of start-up a busy port would waste
    if (problem := database_problem(settings)) is not None:
        _fail(f"cannot serve with {_safe_url(settings.database_url)}: {problem}")
    import uvicorn

    from forge_http.access_log import AccessLog
    from forge_http.app import create_app
    from forge_http.container import build_container
    from forge_http.log_config import uvicorn_log_config

    # Forge writes the access line itself (cheaper than uvicorn's logger: access_log.py).
    lines = settings.log_level in ("debug", "info")
    app = create_app(
        build_container(settings), access_log=AccessLog(settings.log_format) if lines else None
    )
    _lean_log_records()
    with _stopping_by_signal_is_success():
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=uvicorn_log_config(settings.log_format, settings.log_level),
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=GRACE_SECONDS,
        )


def _lean_log_records() -> None:
    """Log records without what no line of ours shows (thread, process, the calling
    source line): finding the caller's frame cost a quarter of a line (the logging
    HOWTO's "Optimization")."""
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None


def port_problem(host: str, port: int) -> str | None:
    """Why ``forge serve`` could not listen on host:port, in one line, or None. A probe
    binds the address as uvicorn will (SO_REUSEADDR), then lets it go."""
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        return f"cannot listen on {where}: {exc.strerror}"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"cannot listen on {where}: the port is in use (another forge serve?); "
                    "stop it, or choose another port with --port or FORGE_PORT"
                )
            return f"cannot listen on {where}: {exc.strerror}"
    return None


def database_problem(settings: Settings) -> str | None:
    """Why the database cannot serve, in one line with its fix, or None. SQLite (and
    memory) are left to migrate themselves; PostgreSQL must answer and, unless
    FORGE_AUTO_MIGRATE is on, be at the newest schema (``forge migrate`` puts it there)."""
    if settings.uses_memory or settings.database_url.startswith("sqlite"):
        return None
    from sqlalchemy.pool import NullPool

    from forge_adapters.sql import create_engine, schema_problem

    async def check() -> str | None:
        engine = create_engine(settings.database_url, poolclass=NullPool)
        try:
            return await schema_problem(engine)
        finally:
            await engine.dispose()

    try:
        problem = asyncio.run(check())
    except ForgeError as exc:  # it does not answer: nothing migrates that
        return exc.detail
    return None if settings.migrates_on_start else problem


def _fail(problem: str) -> NoReturn:
    print(f"forge: {problem}", file=sys.stderr)
    raise SystemExit(1)


def _ignore(signum: int, frame: FrameType | None) -> None:
    pass


@contextlib.contextmanager
def _stopping_by_signal_is_success() -> Iterator[None]:
    """uvicorn stops gracefully on SIGTERM or SIGINT, then raises the signal again for
    the handler it found: the default one would end the process by the signal (status
    143, or a KeyboardInterrupt traceback) after a clean stop. With a no-op there, a
    graceful stop exits 0."""
    stops = (signal.SIGTERM, signal.SIGINT)
    previous = {stop: signal.signal(stop, _ignore) for stop in stops}
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def migrate(settings: Settings) -> None:
    from forge_adapters.sql import create_engine
    from forge_adapters.sql import migrate as run_migrations

    if settings.uses_memory:
        print("forge: the memory database needs no migrations")
        return

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await run_migrations(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except ForgeError as exc:
        print(
            f"forge: cannot migrate {_safe_url(settings.database_url)}: {exc.detail}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    print("forge: database schema is up to date")


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    overrides = {k: v for k in ("host", "port") if (v := getattr(args, k, None)) is not None}
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"forge: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.command == "serve":
        serve(settings)
    elif args.command == "catalog":
        catalog_cli.run(settings, args)
    else:
        migrate(settings)


if __name__ == "__main__":
    main()
