"""The Embeddings port on an OpenAI-compatible ``POST {base_url}/embeddings`` (OpenAI,
vLLM, llama.cpp's server, Ollama's OpenAI API, text-embeddings-inference...): texts in
batches, vectors back in input order, every vector the configured length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from forge_adapters.json_api import JsonApi, RetryPolicy
from forge_core.errors import Unavailable

BATCH = 64


@dataclass(frozen=True, slots=True)
class EmbeddingsConfig:
    base_url: str
    model: str
    dimensions: int
    api_key: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class OpenAIEmbeddings:
    def __init__(self, client: httpx.AsyncClient, config: EmbeddingsConfig) -> None:
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._config = config
        self._api = JsonApi(
            client,
            config.base_url,
            name="the embeddings server",
            headers=headers,
            key_setting="FORGE_EMBEDDINGS_API_KEY",
            policy=config.retry,
        )

    @property
    def dimensions(self) -> int:
        return self._config.dimensions

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            body = {"model": self._config.model, "input": batch}
            answer = await self._api.call("POST", "embeddings", json=body)
            vectors += self._vectors(answer, len(batch))
        return vectors

    def _vectors(self, answer: dict[str, Any], count: int) -> list[list[float]]:
        data = answer.get("data")
        if not isinstance(data, list) or len(data) != count:
            raise Unavailable("the embeddings server answered without one vector per text")
        ordered = sorted(
            data, key=lambda item: item.get("index", 0) if isinstance(item, dict) else 0
        )
        vectors = []
        for item in ordered:
            vector = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(vector, list) or len(vector) != self._config.dimensions:
                raise Unavailable(
                    f"the embeddings server answered a vector that is not "
                    f"{self._config.dimensions} numbers long (FORGE_EMBEDDINGS_DIMENSIONS)"
                )
            vectors.append([float(v) for v in vector])
        return vectors
