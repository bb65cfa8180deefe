"""The embeddings of a video's entries are kept with its cached perception: a new process reads them back."""
from __future__ import annotations

import numpy as np
import pytest

from perceive.models import ResolvedModel
from prompting.retrieve import Embedder

SPEC = ResolvedModel(role="embedder", value="counting", backend="sentence-transformers", location="counting",
                     source="path")


class Counting:
    """An encoder whose vectors hash the text; it records every text it was asked to encode."""

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts, **_):
        self.seen += texts
        vectors = np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class CountingEmbedder(Embedder):
    def __init__(self):
        super().__init__(SPEC)
        self.encoder = Counting()

    @property
    def model(self):
        return self.encoder


def test_a_new_process_reads_the_entries_back_instead_of_embedding_them(tmp_path):
    store = tmp_path / "video.embeddings.npz"
    entries = ["a red car", "a man in a suit", "a red car", "speech: hello there"]
    first = CountingEmbedder()
    first.remember(entries, store)
    assert sorted(first.encoder.seen) == sorted(set(entries)) and store.is_file()
    vectors = first.embed(entries)

    later = CountingEmbedder()                      # as a new process would: nothing in memory
    later.remember(entries, store)
    assert later.encoder.seen == []
    np.testing.assert_allclose(later.embed(entries), vectors, rtol=1e-6)
    later.embed(["what colour is the car?"] + entries)
    assert later.encoder.seen == ["what colour is the car?"]   # only the question is embedded


def test_new_entries_are_added_to_the_store(tmp_path):
    store = tmp_path / "video.embeddings.npz"
    CountingEmbedder().remember(["one", "two"], store)
    grown = CountingEmbedder()
    grown.remember(["two", "three"], store)
    assert grown.encoder.seen == ["three"]
    assert CountingEmbedder().remember(["two", "three"], store) is None
    with np.load(store) as saved:
        assert set(saved["texts"].tolist()) == {"two", "three"}


@pytest.mark.parametrize("junk", [b"", b"not an npz file"])
def test_an_unreadable_store_is_written_again(tmp_path, junk):
    store = tmp_path / "video.embeddings.npz"
    store.write_bytes(junk)
    embedder = CountingEmbedder()
    embedder.remember(["one"], store)
    assert embedder.encoder.seen == ["one"]
    with np.load(store) as saved:
        assert saved["texts"].tolist() == ["one"]
