"""What verifying one Supabase access token costs, with no network and no HTTP.

    python benchmarks/token_verify.py [--tokens 2000] [--rounds 5]

The Supabase adapter's ``TokenVerifier`` checks tokens against a JWKS it already holds
(served once by an ``httpx.MockTransport``). Timed per token, median over the rounds:

- ES256, first sight: a token never seen before (signature, exp, aud, iss, claims);
- HS256, first sight: the same with ``SUPABASE_JWT_SECRET`` (legacy projects);
- repeat: a token already verified (what every later request with it costs);
- baseline: a bare ``jwt.decode`` of the same ES256 tokens, for the adapter's overhead.

Every token is distinct, so the first-sight figures never hit the cache.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from forge_adapters.supabase import GoTrue, TokenVerifier

URL = "https://bench.supabase.co"
ISSUER = f"{URL}/auth/v1"
SECRET = "bench-legacy-secret-" + "s" * 32
KEY = ec.generate_private_key(ec.SECP256R1())
KID = "bench"


def jwks(_: httpx.Request) -> httpx.Response:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(KEY.public_key()))
    return httpx.Response(200, json={"keys": [{**public, "kid": KID, "alg": "ES256"}]})


def tokens(count: int, algorithm: str) -> list[str]:
    now = int(time.time())
    made = []
    for _ in range(count):
        claims = {
            "sub": str(uuid.uuid4()),
            "session_id": str(uuid.uuid4()),
            "aud": "authenticated",
            "iss": ISSUER,
            "iat": now,
            "exp": now + 3600,
            "email": "bench@example.com",
            "role": "authenticated",
            "user_metadata": {"display_name": "Bench"},
        }
        if algorithm == "ES256":
            made.append(jwt.encode(claims, KEY, algorithm="ES256", headers={"kid": KID}))
        else:
            made.append(jwt.encode(claims, SECRET, algorithm="HS256"))
    return made


async def per_token(batch: list[str], check: Callable[[str], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    for token in batch:
        await check(token)
    return (time.perf_counter() - start) / len(batch) * 1e6


async def main(count: int, rounds: int) -> None:
    results: dict[str, list[float]] = {}
    async with httpx.AsyncClient(transport=httpx.MockTransport(jwks)) as http:
        gotrue = GoTrue(http, URL, "bench-key")
        public = KEY.public_key()

        async def bare(token: str) -> None:
            jwt.decode(token, public, algorithms=["ES256"], audience="authenticated", issuer=ISSUER)

        for _ in range(rounds):
            es, hs = tokens(count, "ES256"), tokens(count, "HS256")
            verifier = TokenVerifier(gotrue, jwt_secret=SECRET)
            await verifier.verify(es[0])  # the one JWKS fetch, outside the timing
            es = es[1:]
            cases = {
                "baseline: bare jwt.decode, ES256": (es, bare),
                "ES256, first sight": (es, verifier.verify),
                "HS256, first sight": (hs, verifier.verify),
                "repeat (already verified)": (es, verifier.verify),
            }
            for name, (batch, check) in cases.items():
                results.setdefault(name, []).append(await per_token(batch, check))
    print(f"{count} tokens x {rounds} rounds; microseconds per token (median of rounds)")
    for name, values in results.items():
        print(f"  {name:36} {statistics.median(values):8.1f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    anyio.run(main, args.tokens, args.rounds)
