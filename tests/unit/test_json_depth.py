"""The one nesting limit, as the core applies it to every command an embedder builds."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from forge_core.commands import NewMessage, RunRequest
from forge_core.json_depth import MAX_JSON_DEPTH, deepest_field, too_deep


def nested(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_depth_counts_every_object_and_array_level() -> None:
    assert not too_deep(nested(MAX_JSON_DEPTH)) and too_deep(nested(MAX_JSON_DEPTH + 1))
    assert not too_deep({"a": 1, "b": [1, 2, {"c": "[[[["}]}, limit=3)
    assert too_deep({"a": 1, "b": [1, 2, {"c": {}}]}, limit=3)
    assert not too_deep("text", limit=0) and not too_deep(None, limit=0)


def test_the_walk_does_not_recurse_even_past_the_interpreter_limit() -> None:
    assert too_deep(nested(100_000))
    assert deepest_field({"ok": 1, "deep": nested(100_000)}) == "deep"
    assert deepest_field({"ok": nested(MAX_JSON_DEPTH - 1)}) is None


def test_a_command_names_the_field_nested_too_deep() -> None:
    with pytest.raises(ValidationError, match="metadata_json: JSON nested more than 64"):
        NewMessage(chat_id=uuid4(), role="user", content="x", metadata_json={"a": nested(400)})
    with pytest.raises(ValidationError, match="requirements_json: JSON nested"):
        RunRequest.model_validate({"action": "health", "requirements_json": nested(5_000)})
    kept = RunRequest.model_validate({"action": "health", "metadata_json": {"a": nested(62)}})
    assert kept.metadata_json == {"a": nested(62)}
