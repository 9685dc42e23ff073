"""BM25 over the three weighted fields of ``catalog_text.fields_text``, by FTS5's
formula, in Python: the memory catalog's ranking, and the PostgreSQL catalog's ranking
of the candidates its GIN index finds, so every store orders the parts alike."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Weight of the name, aliases and notes fields: a word in the name counts most.
FIELD_WEIGHTS = (10.0, 6.0, 1.0)
K1, B = 1.2, 0.75
#: FTS5 counts the scope column's one word in each part's length (catalog_table).
SCOPE_WORDS = 1


@dataclass(frozen=True, slots=True)
class Doc:
    key: str
    fields: tuple[Counter[str], ...]
    lengths: tuple[int, ...]


def doc(key: str, fields: Sequence[str]) -> Doc:
    words = [f.split() for f in fields]
    return Doc(key, tuple(Counter(w) for w in words), tuple(len(w) for w in words))


@dataclass(frozen=True, slots=True)
class Stats:
    """What BM25 needs of the whole corpus: its size, the mean document length, and how
    many documents hold each word."""

    count: int
    mean_length: float
    doc_freq: dict[str, int]


def stats(docs: Iterable[Doc]) -> Stats:
    docs = list(docs)
    n = len(docs) or 1
    mean = sum(sum(d.lengths) + SCOPE_WORDS for d in docs) / n or 1.0
    freq: Counter[str] = Counter()
    for d in docs:
        freq.update(set().union(*d.fields))
    return Stats(len(docs), mean, dict(freq))


def score(d: Doc, query_terms: Sequence[str], corpus: Stats) -> float:
    """FTS5's ``bm25()`` with column weights (the weighted count of a word over the
    fields, the document's whole length, idf floored at 1e-6), as a positive number:
    higher is better."""
    total = 0.0
    length = sum(d.lengths) + SCOPE_WORDS
    for term in query_terms:
        df = corpus.doc_freq.get(term, 0)
        if df == 0:
            continue
        tf = sum(w * c.get(term, 0) for w, c in zip(FIELD_WEIGHTS, d.fields, strict=True))
        if tf == 0:
            continue
        idf = max(math.log((corpus.count - df + 0.5) / (df + 0.5)), 1e-6)
        total += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / corpus.mean_length))
    return total
