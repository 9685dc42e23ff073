"""obstore against aioboto3, on the same local S3 server, to choose the S3 adapter's library.

    python benchmarks/objectstore_bench.py [--count 200] [--rounds 5] [--concurrency 16]

Starts moto's S3 server in a child process on 127.0.0.1 (so the server does not share the
client's interpreter), makes one bucket, then for each library and round:

- put / get ``count`` objects of 64 KiB one after the other (sequential);
- the same with ``concurrency`` requests in flight (concurrent);
- put / get one object of 8 MiB.

Each library keeps one client for the whole run (as the adapter would); the order of the
libraries alternates between rounds. Prints the median of the rounds, in ms, and the ratio
obstore / aioboto3 (below 1: obstore is faster), for wall time and for the CPU time of this
process. aioboto3 is no dependency of Forge: ``pip install aioboto3`` to run this.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Protocol

import aioboto3
import boto3
import obstore
from obstore.store import S3Store

from forge_adapters.objectstore_s3 import SINGLE_PUT_UP_TO

BUCKET = "bench"
SMALL = 64 * 1024
LARGE = 8 * 1024 * 1024
REGION = "us-east-1"


class Client(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes: ...


class Obstore:
    def __init__(self, endpoint: str) -> None:
        self.store = S3Store(
            BUCKET,
            endpoint=endpoint,
            region=REGION,
            access_key_id="bench",
            secret_access_key="bench",
            client_options={"allow_http": True},
        )

    async def put(self, key: str, data: bytes) -> None:
        await obstore.put_async(
            self.store,
            key,
            data,
            attributes={"Content-Type": "application/octet-stream"},
            chunk_size=SINGLE_PUT_UP_TO,  # as the adapter calls it: one PUT up to 64 MiB
        )

    async def get(self, key: str) -> bytes:
        result = await obstore.get_async(self.store, key)
        return bytes(await result.bytes_async())


class Aioboto3:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def put(self, key: str, data: bytes) -> None:
        await self.client.put_object(
            Bucket=BUCKET, Key=key, Body=data, ContentType="application/octet-stream"
        )

    async def get(self, key: str) -> bytes:
        response = await self.client.get_object(Bucket=BUCKET, Key=key)
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def start_server(port: int) -> subprocess.Popen[bytes]:
    code = (
        "import logging, sys\n"
        "from moto.server import ThreadedMotoServer\n"
        "logging.getLogger('werkzeug').setLevel(logging.ERROR)\n"
        f"ThreadedMotoServer(ip_address='127.0.0.1', port={port}, verbose=False).start()\n"
        "sys.stdin.read()\n"
    )
    server = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto server did not start")


async def timed(action: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """Wall time and this process's CPU time (all its threads; the server is another), ms."""
    wall, cpu = time.perf_counter(), time.process_time()
    await action()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


async def scenarios(
    client: Client, name: str, count: int, width: int
) -> dict[str, tuple[float, float]]:
    small = os.urandom(SMALL)
    large = os.urandom(LARGE)
    keys = [f"{name}/small/{i}" for i in range(count)]
    limit = asyncio.Semaphore(width)

    async def bounded(call: Awaitable[Any]) -> None:
        async with limit:
            await call

    async def put_seq() -> None:
        for key in keys:
            await client.put(key, small)

    async def get_seq() -> None:
        for key in keys:
            assert len(await client.get(key)) == SMALL

    async def put_par() -> None:
        await asyncio.gather(*(bounded(client.put(key, small)) for key in keys))

    async def get_par() -> None:
        await asyncio.gather(*(bounded(client.get(key)) for key in keys))

    async def put_large() -> None:
        await client.put(f"{name}/large", large)

    async def get_large() -> None:
        assert await client.get(f"{name}/large") == large

    return {
        f"put {count} x 64 KiB, sequential": await timed(put_seq),
        f"get {count} x 64 KiB, sequential": await timed(get_seq),
        f"put {count} x 64 KiB, {width} in flight": await timed(put_par),
        f"get {count} x 64 KiB, {width} in flight": await timed(get_par),
        "put 1 x 8 MiB": await timed(put_large),
        "get 1 x 8 MiB": await timed(get_large),
    }


async def run(endpoint: str, count: int, rounds: int, width: int) -> None:
    results: dict[str, dict[str, list[tuple[float, float]]]] = {"obstore": {}, "aioboto3": {}}
    async with AsyncExitStack() as stack:
        session = aioboto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench")
        boto = await stack.enter_async_context(
            session.client("s3", endpoint_url=endpoint, region_name=REGION)
        )
        clients: dict[str, Client] = {"obstore": Obstore(endpoint), "aioboto3": Aioboto3(boto)}
        for name, client in clients.items():  # warm up: connections, signing keys
            await scenarios(client, name, 10, width)
        for round_no in range(rounds):
            order = list(clients) if round_no % 2 == 0 else list(reversed(clients))
            for name in order:
                for case, ms in (await scenarios(clients[name], name, count, width)).items():
                    results[name].setdefault(case, []).append(ms)
    print("| case | obstore ms | aioboto3 ms | ratio | obstore CPU ms | aioboto3 CPU ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for case in results["obstore"]:
        ob, ab = (median(results[name][case]) for name in ("obstore", "aioboto3"))
        print(
            f"| {case} | {ob[0]:.1f} | {ab[0]:.1f} | {ob[0] / ab[0]:.2f} "
            f"| {ob[1]:.1f} | {ab[1]:.1f} | {ob[1] / ab[1]:.2f} |"
        )


def median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    server = start_server(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket=BUCKET)
        asyncio.run(run(endpoint, args.count, args.rounds, args.concurrency))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
