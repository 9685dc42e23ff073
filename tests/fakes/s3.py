"""A real S3-compatible server for the tests: moto's server mode on 127.0.0.1.

One server per test session (``s3_server``); each test gets a bucket of its own
(``s3_bucket``). moto checks no signatures, so plain HTTP requests create and list buckets;
their Authorization header only tells moto which service they are for.
"""

from __future__ import annotations

import logging
import secrets
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

ACCESS_KEY = "forge-test"
SECRET_KEY = "forge-test-secret"
REGION = "us-east-1"
_FOR_S3 = {
    "Authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20240101/{REGION}/s3/aws4_request,"
    " SignedHeaders=host, Signature=unchecked"
}


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def create_bucket(self) -> str:
        name = f"forge-{secrets.token_hex(6)}"
        httpx.put(f"{self.endpoint}/{name}", headers=_FOR_S3, timeout=10).raise_for_status()
        return name

    def keys(self, bucket: str) -> set[str]:
        """Every key in ``bucket``."""
        response = httpx.get(
            f"{self.endpoint}/{bucket}", params={"list-type": "2"}, headers=_FOR_S3, timeout=10
        )
        response.raise_for_status()
        root = ET.fromstring(response.content)
        return {node.text or "" for node in root.iter() if node.tag.endswith("}Key")}

    def head(self, bucket: str, key: str) -> httpx.Response:
        return httpx.head(f"{self.endpoint}/{bucket}/{key}", headers=_FOR_S3, timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer  # heavy: imported only when a test needs it

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield S3Server(f"http://127.0.0.1:{port}")
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.create_bucket()
