"""The retriever keeps the parts a chat names, each with why, and leaves the rest."""

from __future__ import annotations

from uuid import uuid4

import pytest

from forge_adapters.catalog import MemoryCatalog
from forge_core.components import component_from_json
from forge_core.services.retriever import Retriever

pytestmark = pytest.mark.anyio


async def test_the_quad_request_names_stack_motor_and_prop() -> None:
    retriever = Retriever(MemoryCatalog())
    hits = await retriever.mentioned(None, "a 5-inch quad frame for a 20x20 stack and 2306 motors")
    assert [h.component.id for h in hits] == ["prop-5inch", "fc-stack-20x20", "motor-2306"]
    stack = hits[1]
    assert stack.why.startswith("named by '20x20'") and "stack" in stack.matched


async def test_an_enclosure_request_names_the_board() -> None:
    hits = await Retriever(MemoryCatalog()).mentioned(None, "An enclosure for a Raspberry Pi 4")
    assert [h.component.id for h in hits] == ["board-raspberry-pi-4b"]
    assert hits[0].component.hole_patterns[0].spacing == (58.0, 49.0)


async def test_words_without_a_size_or_model_name_no_part() -> None:
    assert await Retriever(MemoryCatalog()).mentioned(None, "a motor mount and a stack") == []


async def test_requirements_get_components_unless_they_have_them() -> None:
    retriever = Retriever(MemoryCatalog())
    given = {"model_type": "enclosure"}
    found, _ = await retriever.for_request(None, "box for an Arduino Uno", given)
    assert found is not None and [c["id"] for c in found["components"]] == ["board-arduino-uno-r3"]
    assert found["model_type"] == "enclosure" and given == {"model_type": "enclosure"}
    assert set(found["components"][0]) == {
        "id", "name", "category", "dimensions_mm", "hole_patterns", "source",
    }  # fmt: skip
    chosen = {"components": []}
    assert await retriever.for_request(None, "box for an Arduino Uno", chosen) == (chosen, [])


async def test_a_users_own_part_is_retrieved_for_them_only() -> None:
    owner = uuid4()
    catalog = MemoryCatalog()
    part = component_from_json(
        {"name": "QX9 gimbal plate", "category": "other", "source": "calipers"},
        owner=owner,
        id="mine",
    )
    await catalog.add(part)
    retriever = Retriever(catalog)
    assert [h.component.id for h in await retriever.mentioned(owner, "mount my qx9")] == ["mine"]
    assert await retriever.mentioned(uuid4(), "mount my qx9") == []
