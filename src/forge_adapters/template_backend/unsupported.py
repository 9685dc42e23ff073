"""The answer to a request no template covers: said plainly, with nothing made.

The template backend makes four kinds of part. Asked for anything else ("a phone
stand") it answers that it has no model for it and names what it does make, instead of
a stand-in shape that would pass QA and look like an answer. The answer holds no SCAD,
so no 3D job is started from it.
"""

from __future__ import annotations

import re

MAKES = "quadcopter frames, enclosures, L brackets and plates"

#: Words that ask for something without naming it: "design", "can you make me".
_ASKING = re.compile(
    r"^(?:(?:please|hi|hello|hey|ok|okay|now|so|and|then)[\s,]+)*"
    r"(?:(?:can|could|would|will) you\s+)?(?:please\s+)?"
    r"(?:i(?:'d| would)? (?:like|need|want)(?: to (?:have|make|print|design))?|we need|"
    r"design|make|create|build|generate|model|draw|print|give|write|produce)?"
    r"\s*(?:me|us)?\s*"
)
#: Where the name of the thing ends: its details begin.
_DETAILS = re.compile(r"[,.;:!?()\[\]]|\s(?:with|for|that|which|to|so|from|using|in|of)\s")
#: What a follow-up says when it names nothing ("generate the SCAD", "make it").
_NOTHING = {"", "it", "this", "that", "one", "scad", "the scad", "openscad", "the model",
            "a model", "the part", "a part", "something"}  # fmt: skip
_UNSAFE = re.compile(r"[^a-z0-9 '-]")
#: Sizes are details too: "a 10 cm phone stand" asks for a phone stand.
_SIZE = re.compile(
    r"\b\d+(?:\.\d+)?\s*(?:mm|cm|m|in|inch(?:es)?)?(?:\s*(?:x|by)\s*\d+(?:\.\d+)?\s*"
    r"(?:mm|cm|m|in|inch(?:es)?)?)*(?:[\s-]*(?:tall|wide|long|high|deep|thick))?\b"
)


def thing_asked_for(texts: list[str]) -> str:
    """The name of what the newest text that names something asks for, in a few words
    ("a phone stand"), or "this request"."""
    for raw in reversed(texts):
        text = " ".join(raw.lower().split())
        name = _ASKING.sub("", _SIZE.sub(" ", text), count=1)
        name = _DETAILS.split(f"{name} ", maxsplit=1)[0]
        name = " ".join(_UNSAFE.sub("", name).split()[:8])
        if name not in _NOTHING:
            return name
    return "this request"


def no_model_for(thing: str) -> str:
    """The one sentence that says so."""
    return f"The offline template backend has no model for {thing}; it makes {MAKES}."
