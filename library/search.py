"""Hybrid search over a library: BM25 on the words (FTS5) and nearest sentence vectors (sqlite-vec), fused.

Each ranking lists up to :data:`CANDIDATES` entries; reciprocal-rank fusion
(``sum 1 / (RRF_K + rank)`` over the rankings an entry is in) orders them, so
an entry that both rankings place high wins, and one that only the words (a
name, a number) or only the meaning finds still shows. Without vectors (no
embedder when indexing, or none now) the words rank alone.
"""
from __future__ import annotations

from library.records import Hit
from library.store import Library
from prompting.retrieve import TextEmbedder, terms

RRF_K = 60
CANDIDATES = 50
MIN_COSINE = 0.3   # weaker vector neighbours are no match (a small library would list every entry)


def words_query(query: str) -> str:
    """An FTS5 expression for ``query``: its terms (stop words out, plural ``s`` dropped) as prefixes, OR'ed."""
    return " OR ".join(f'"{t}"*' for t in dict.fromkeys(terms(query)))


def fuse(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal-rank fusion of rankings of ids (best first): id -> sum of ``1 / (k + rank)``."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


def embedder_name(embedder: TextEmbedder) -> str:
    """The name a library records for the vectors of ``embedder`` (its model's location)."""
    spec = getattr(embedder, "spec", None)
    return spec.info().name if spec is not None else type(embedder).__name__


def search(library: Library, query: str, embedder: TextEmbedder | None = None, limit: int = 10) -> list[Hit]:
    """The ``limit`` best moments of the library for ``query``, best first."""
    rankings = [library.words(words_query(query), CANDIDATES)]
    if embedder is not None and library.embedder == embedder_name(embedder):
        rankings.append(library.nearest(embedder.embed([query])[0], CANDIDATES, MIN_COSINE))
    fused = fuse(rankings)
    best = sorted(fused, key=lambda i: -fused[i])[:limit]
    return library.hits({i: fused[i] for i in best})
