"""The words a component search compares: the same rule for the indexed parts and the
query, in every store (SQLite FTS5, PostgreSQL full-text, the memory catalog).

People write one size many ways, so each is brought to one token made of ``[a-z0-9]``
only (every store's tokenizer keeps such a word whole):

- ``20x20``, ``20 x 20 mm``, ``20*20`` (or a times sign) -> ``20x20``;
  ``30.5x30.5`` -> ``30p5x30p5``
- ``5 inch``, ``5"``, ``5in``, ``5-inch`` -> ``5inch``
- ``M3``, ``m3x10`` -> ``m3`` (a screw's length is not what identifies it)
- ``30 mm`` -> ``30mm``: a size, which a bare ``2306`` or ``608`` (a model) is not
- ``NEMA 17``, ``nema-17`` -> ``nema17``; ``Pi 4`` -> ``pi4``; ``SG 90`` -> ``sg90``
- ``608ZZ``, ``608-2RS`` -> ``608`` (the seal is not the size)
- ``USB-C``, ``type-C`` -> ``usbc``; ``micro USB`` -> ``microusb``
- words in the plural lose their ``s``; filler words (``a``, ``for``, ``with``) and units
  (``mm``) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from forge_core.components import Component

_PHRASES = (
    (re.compile(r"\busb[\s-]*(?:type[\s-]*)?c\b|\btype[\s-]*c\b"), " usbc "),
    (re.compile(r"\bmicro[\s-]*usb\b"), " microusb "),
    (re.compile(r"\bmini[\s-]*usb\b"), " miniusb "),
    (re.compile(r"\busb[\s-]*a\b"), " usba "),
    (re.compile(r"\bbarrel[\s-]*(?:jack|plug|connector)\b"), " barreljack "),
    (re.compile(r"\bdc[\s-]*jack\b"), " barreljack "),
    (re.compile(r"\bflight[\s-]*controllers?\b"), " fc "),
    (re.compile(r"\bheat[\s-]*set\b"), " heatset "),
    (re.compile(r"\bt[\s-]*slot\b"), " tslot "),
    (re.compile(r"\bv[\s-]*slot\b"), " vslot "),
    (re.compile(r"\bcap[\s-]*screws?\b"), " capscrew screw "),
)
_NUMBER = r"\d+(?:[.,]\d+)?"
_CROSS = re.compile(rf"(?<![a-z0-9.])({_NUMBER})\s*(?:mm)?\s*[x\u00d7*]\s*(?=\d)")
_INCH = re.compile(rf"(?<![a-z0-9.])({_NUMBER})(?:\s*(?:\"|”|″|'')|\s*-?\s*inch(?:es)?\b|-?in\b)")
_METRIC = re.compile(r"\bm(\d+(?:\.\d+)?)(?:\s*[x\u00d7]\s*\d+(?:\.\d+)?)?\b")
_JOINED = re.compile(
    r"\b(nema|pi|rpi|sg|mg|iso|din|lm|cr|esp|zero|pico|hero|mega|uno|nano|stm)[\s-]+(\d+\w*)\b"
)
_SEAL = re.compile(r"\b(\d{3,5})[\s-]*(?:zz|2rs|rs|2z|z)\b")
_DECIMAL = re.compile(r"(\d)[.,](\d)")
_TOKEN = re.compile(r"[a-z0-9]+")
_CROSS_MM = re.compile(r"(\d+(?:[.,]\d+)?(?:x\d+(?:[.,]\d+)?)+)\s*mm\b")
_MM = re.compile(r"(\d)\s*mm\b")

_FILLER = """a an and are as at be but by can could do for from have i im in into is it its
just like make me mm my need needs of on or our please some that the their them then
there these this those to use using want we which will with would you your let
design build print printed printable model about around one two three four"""
STOPWORDS = frozenset(_FILLER.split())
#: Words without a digit that still name one part or family.
_MODELS = "usbc microusb miniusb usba barreljack arduino uno nano mega leonardo raspberry pico"
MODEL_WORDS = frozenset([*_MODELS.split(), "gopro", "hdmi"])
#: Words whose last "s" is not a plural.
_KEEP_S = frozenset({"gps", "lipos", "bus", "ess", "glass", "brass", "press", "less", "ms"})


def tokens(text: str) -> list[str]:
    """The search words of ``text``, in order, duplicates kept."""
    text = text.lower()
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    text = _CROSS.sub(lambda m: m.group(1) + "x", text)
    text = _CROSS_MM.sub(r"\1 ", text)
    text = _MM.sub(r"\1mm", text)
    text = _INCH.sub(lambda m: f" {m.group(1)}inch ", text)
    text = _METRIC.sub(lambda m: f" m{m.group(1)} ", text)
    text = _JOINED.sub(lambda m: m.group(1) + m.group(2), text)
    text = _SEAL.sub(lambda m: m.group(1), text)
    text = _DECIMAL.sub(lambda m: m.group(1) + "p" + m.group(2), text)
    out = []
    for word in _TOKEN.findall(text):
        if word in STOPWORDS:
            continue
        out.append(_singular(word))
    return out


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word not in _KEEP_S:
        if word[-2].isdigit():
            return word
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The distinct search words of ``text``, in order of first appearance."""
    return list(dict.fromkeys(tokens(text)))


def is_key_term(term: str) -> bool:
    """A word that names one size or model (``2306``, ``m3``, ``20x20``, ``pi4``): what
    makes a mention of a part, where ``motor`` alone does not."""
    return any(ch.isdigit() for ch in term) or term in MODEL_WORDS


def fields_text(component: Component) -> tuple[str, str, str]:
    """The normalised text a store indexes, in three weighted fields: the name, the
    aliases (with the id and category), and the notes."""
    name = " ".join(tokens(component.name))
    alias_words = [*component.aliases, component.id.replace("-", " "), component.category]
    aliases = " ".join(tokens(" ".join(alias_words).replace("_", " ")))
    body = " ".join(tokens(component.notes))
    return name, aliases, body


def identity_words(component: Component) -> set[str]:
    """The words of a part's name, aliases, id and category: what it is called."""
    name, aliases, _ = fields_text(component)
    return set(name.split()) | set(aliases.split())


def matched_terms(query_terms: Iterable[str], component: Component) -> tuple[str, ...]:
    """The query's words that the component's indexed text holds."""
    words = set(" ".join(fields_text(component)).split())
    return tuple(t for t in query_terms if t in words)
