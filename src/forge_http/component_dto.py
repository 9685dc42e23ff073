"""The catalog's response body: a component, with its search score when searched."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from forge_core.components import Component, ComponentHit


class ComponentOut(msgspec.Struct):
    id: str
    owner_id: UUID | None
    shipped: bool
    name: str
    aliases: list[str]
    category: str
    dimensions_mm: dict[str, float]
    hole_patterns: list[dict[str, Any]]
    notes: str
    source: str
    created_at: datetime | None
    updated_at: datetime | None
    score: float | None = None
    matched: list[str] = msgspec.field(default_factory=list)


def component_out(c: Component, score: float | None = None, matched: Any = ()) -> ComponentOut:
    data = c.to_json()
    return ComponentOut(
        id=c.id,
        owner_id=c.owner,
        shipped=c.shipped,
        name=c.name,
        aliases=data["aliases"],
        category=c.category,
        dimensions_mm=data["dimensions_mm"],
        hole_patterns=data["hole_patterns"],
        notes=c.notes,
        source=c.source,
        created_at=c.created_at,
        updated_at=c.updated_at,
        score=score,
        matched=list(matched),
    )


def hit_out(hit: ComponentHit) -> ComponentOut:
    return component_out(hit.component, round(hit.score, 4), hit.matched)
