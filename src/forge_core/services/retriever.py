"""Which standard parts a chat mentions, with the dimensions a design must fit.

The retriever searches the catalog with the chat's text, then keeps, for each word of
the text that names a size or model (``2306``, ``20x20``, ``m3``, ``pi4``, ``uno``: see
``catalog_text.is_key_term``), the parts called by it (in their name or aliases, not
their notes) that matched the most of the text's words. "A 5-inch quad frame for a
20x20 stack and 2306 motors" so keeps the 20x20 stack, the 2306 motor and the 5-inch
propeller; "motor" alone names no part.
Requirements that already list ``components`` are kept as they are: the client chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from forge_core.catalog_text import identity_words, is_key_term, terms
from forge_core.components import ComponentHit
from forge_core.entities import JsonObject
from forge_core.ports import ComponentCatalog, ComponentQuery

CANDIDATES = 30
PER_TERM = 2
MAX_COMPONENTS = 8
MAX_TEXT = 4000


class Retriever:
    def __init__(self, catalog: ComponentCatalog) -> None:
        self.catalog = catalog

    async def mentioned(self, viewer: UUID | None, text: str) -> list[ComponentHit]:
        """The parts ``text`` names, in the order its words name them, with why."""
        text = text[-MAX_TEXT:]
        query_terms = terms(text)
        keys = [t for t in query_terms if is_key_term(t)]
        if not keys:
            return []
        hits = await self.catalog.search(viewer, ComponentQuery(text, limit=CANDIDATES))
        chosen: dict[str, ComponentHit] = {}
        wanted = set(query_terms)
        named = {h.component.id: identity_words(h.component) & wanted for h in hits}
        for key in keys:
            with_key = [h for h in hits if key in named[h.component.id]]
            if not with_key:
                continue
            best = max(len(named[h.component.id]) for h in with_key)
            kept = [h for h in with_key if len(named[h.component.id]) == best][:PER_TERM]
            for hit in kept:
                if hit.component.id not in chosen:
                    chosen[hit.component.id] = _explained(hit, key)
        return list(chosen.values())[:MAX_COMPONENTS]

    async def for_request(
        self, viewer: UUID | None, text: str, requirements: JsonObject | None
    ) -> tuple[JsonObject | None, list[ComponentHit]]:
        """``requirements`` with a ``components`` list added (the parts ``text``
        mentions), and the hits; requirements that list components already, or a text
        naming none, come back unchanged with no hits."""
        if requirements is not None and "components" in requirements:
            return requirements, []
        hits = await self.mentioned(viewer, text)
        if not hits:
            return requirements, []
        return {**(requirements or {}), "components": summaries(hits)}, hits


def summaries(hits: Sequence[ComponentHit]) -> list[JsonObject]:
    """What a design request carries for each part: name, id, dimensions, holes, source."""
    return [h.component.summary() for h in hits]


def _explained(hit: ComponentHit, key: str) -> ComponentHit:
    words = ", ".join(f"'{m}'" for m in hit.matched)
    why = f"named by '{key}'; matched {words}"
    return ComponentHit(hit.component, hit.score, hit.matched, why)
