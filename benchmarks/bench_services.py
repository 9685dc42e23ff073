"""Throw-away PostgreSQL databases and Redis keys for the benchmarks that need them."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import redis
from http_bench import BenchError, bench_env, forge_executable


def database_url(admin_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``admin_url`` (its query kept)."""
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


def postgres(admin_url: str, *statements: str) -> str:
    """Run statements on the admin database (outside a transaction); the server version."""

    async def run() -> str:
        connection = await asyncpg.connect(admin_url)
        try:
            for statement in statements:
                await connection.execute(statement)
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    try:
        return asyncio.run(run())
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"PostgreSQL at {admin_url}: {exc}") from None


def migrate(url: str, folder: Path) -> None:
    """``forge migrate``, once, as a release does before its replicas start."""
    folder.mkdir(parents=True, exist_ok=True)
    env = bench_env(folder, extra={"FORGE_DATABASE_URL": url})
    done = subprocess.run(
        [forge_executable(), "migrate"], cwd=folder, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchError(f"forge migrate failed: {done.stderr or done.stdout}")


def clear_redis(url: str, prefix: str) -> None:
    """Delete the keys a benchmark's replicas made under ``prefix``."""
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()
