"""Sentence embeddings without importing sentence-transformers (or torch) when the model does not need it.

``import sentence_transformers`` costs several seconds on a 2-core CPU (it pulls
in scikit-learn, SciPy and its training code), and ``import transformers`` with
torch about six more, before ``videochat ask`` can answer about a cached video.
The default embedder, all-MiniLM-L6-v2, is a plain BERT, mean pooling and
normalization (its ``modules.json``). :func:`load_encoder` computes such a
model folder on the CPU with NumPy (:class:`NumpyBertEncoder`: its safetensors
weights, its ``tokenizer.json``), on a GPU with transformers
(:class:`MeanPoolEncoder`), both tested to 1e-5 against sentence-transformers;
anything else (hub names, CLS or Dense heads, other architectures) goes to
sentence-transformers.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_PLAIN = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
          "sentence_transformers.models.Normalize"]


def mean_pooled(folder: Path) -> bool:
    """Whether the sentence-transformers model in ``folder`` is transformer -> mean pooling -> normalize."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        types = [m["type"] for m in modules]
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text()) if len(modules) > 1 else {}
    except (OSError, ValueError, KeyError, IndexError):
        return False
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    return types in (_PLAIN, _PLAIN[:2]) and modes == {"pooling_mode_mean_tokens"}


def pooling_settings(folder: Path) -> tuple[int, bool]:
    """The longest input in tokens (``sentence_bert_config.json``, else 512) and whether the vectors are
    normalized (a Normalize module in ``modules.json``) of the sentence-transformers model in ``folder``."""
    config = folder / "sentence_bert_config.json"
    max_length = json.loads(config.read_text()).get("max_seq_length", 512) if config.is_file() else 512
    return max_length, _PLAIN[2] in (m["type"] for m in json.loads((folder / "modules.json").read_text()))


class MeanPoolEncoder:
    """A transformer with mean pooling (and normalization when its ``modules.json`` has it), as
    sentence-transformers' ``encode`` computes it: :meth:`encode` and :attr:`tokenizer` alike."""

    def __init__(self, folder: Path, device: str = "cpu"):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder).to(device).eval()
        self.device = device
        self.max_length, self.normalize = pooling_settings(folder)

    def encode(self, texts: list[str], batch_size: int = 64, normalize_embeddings: bool = False,
               convert_to_numpy: bool = True) -> np.ndarray:
        """One vector per text (float32), batch by batch, normalized when the model or the caller asks."""
        out = []
        for i in range(0, len(texts), batch_size):
            batch = self.tokenizer(texts[i:i + batch_size], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt").to(self.device)
            with self.torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            vectors = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if self.normalize or normalize_embeddings:
                vectors = self.torch.nn.functional.normalize(vectors, p=2, dim=1)
            out.append(vectors.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, ``x * Phi(x)``, in place on ``x``; the error function to 1.5e-7 (Abramowitz and Stegun
    7.1.26), without SciPy."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2.0))
    t = 1.0 / (1.0 + np.float32(0.3275911) * z)
    poly = np.float32(1.061405429) * t
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(c)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z                               # 1 - erf(|x| / sqrt 2)
    poly *= np.float32(0.5)                 # Phi(-|x|)
    x *= np.where(x >= 0, np.float32(1.0) - poly, poly)
    return x


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class _TokenizerCall:
    """A ``tokenizers.Tokenizer`` called like a transformers tokenizer for one text (``["input_ids"]``)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, text: str, add_special_tokens: bool = True, **_) -> dict[str, list[int]]:
        return {"input_ids": self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids}


def numpy_bert(folder: Path) -> bool:
    """Whether ``folder`` holds a BERT with GELU, safetensors weights and a ``tokenizer.json`` (what
    :class:`NumpyBertEncoder` computes)."""
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file())


class NumpyBertEncoder:
    """A BERT with mean pooling computed with NumPy on the CPU, as :class:`MeanPoolEncoder` computes it with
    transformers: no torch or transformers import (about six seconds on 2 cores) for a few dozen sentences."""

    def __init__(self, folder: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.heads, self.layers = config["num_attention_heads"], config["num_hidden_layers"]
        self.eps = config.get("layer_norm_eps", 1e-12)
        self.weights = {k.removeprefix("bert."): v for k, v in load_file(folder / "model.safetensors").items()}
        linear = ("dense.weight", "query.weight", "key.weight", "value.weight")
        self.transposed = {k[:-len(".weight")]: np.ascontiguousarray(v.T) for k, v in self.weights.items()
                           if k.startswith("encoder.") and k.endswith(linear)}   # (in, out): fast products
        self.max_length, self.normalize = pooling_settings(folder)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()                  # each batch is padded here, to its longest text
        tokenizer.enable_truncation(self.max_length)
        self.pad_id = config.get("pad_token_id", 0)
        self.batch_tokenizer = tokenizer
        self.tokenizer = _TokenizerCall(tokenizer)

    def forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last hidden state, (batch, tokens, hidden), of token ``ids`` with their ``types`` and ``mask``."""
        w = self.weights
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:ids.shape[1]]
             + w["embeddings.token_type_embeddings.weight"][types])
        batch, tokens, hidden = x.shape
        x = _layer_norm(x.reshape(batch * tokens, hidden), w["embeddings.LayerNorm.weight"],
                        w["embeddings.LayerNorm.bias"], self.eps)   # one row per token: plain matrix products
        blocked = ((1.0 - mask[:, None, None, :]) * np.finfo(np.float32).min).astype(np.float32)
        size = hidden // self.heads

        def dense(name: str, h: np.ndarray) -> np.ndarray:
            return h @ self.transposed[name] + w[f"{name}.bias"]

        def heads(h: np.ndarray) -> np.ndarray:
            return h.reshape(batch, tokens, self.heads, size).transpose(0, 2, 1, 3)

        for i in range(self.layers):
            at = f"encoder.layer.{i}."
            q, k, v = (heads(dense(at + f"attention.self.{n}", x)) for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v
            context = context.transpose(0, 2, 1, 3).reshape(batch * tokens, hidden)
            x = _layer_norm(dense(at + "attention.output.dense", context) + x,
                            w[at + "attention.output.LayerNorm.weight"], w[at + "attention.output.LayerNorm.bias"],
                            self.eps)
            inner = _gelu(dense(at + "intermediate.dense", x))
            x = _layer_norm(dense(at + "output.dense", inner) + x, w[at + "output.LayerNorm.weight"],
                            w[at + "output.LayerNorm.bias"], self.eps)
        return x.reshape(batch, tokens, hidden)

    def encode(self, texts: list[str], batch_size: int = 64, normalize_embeddings: bool = False,
               convert_to_numpy: bool = True) -> np.ndarray:
        """One vector per text (float32), batch by batch, normalized when the model or the caller asks."""
        if not texts:
            return np.zeros((0, 0), np.float32)
        encoded = self.batch_tokenizer.encode_batch(list(texts))   # truncated, not padded
        order = np.argsort([len(e.ids) for e in encoded], kind="stable")   # batches of similar lengths
        out = np.zeros((len(texts), self.weights["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        for i in range(0, len(texts), batch_size):
            chosen = order[i:i + batch_size]
            longest = max(len(encoded[j].ids) for j in chosen)
            ids = np.full((len(chosen), longest), self.pad_id, dtype=np.int64)
            types, mask = np.zeros_like(ids), np.zeros_like(ids)
            for row, j in enumerate(chosen):
                n = len(encoded[j].ids)
                ids[row, :n], types[row, :n], mask[row, :n] = encoded[j].ids, encoded[j].type_ids, 1
            hidden = self.forward(ids, types, mask.astype(np.float32))
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
            if self.normalize or normalize_embeddings:
                vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            out[chosen] = vectors
        return out


def load_encoder(location: str, device: str = "cpu"):
    """An encoder for ``location``: for a local mean-pooling model folder :class:`NumpyBertEncoder` (a BERT on
    the CPU) or :class:`MeanPoolEncoder`, else sentence-transformers' ``SentenceTransformer`` (which downloads
    a hub name when online)."""
    folder = Path(location)
    if folder.is_dir() and mean_pooled(folder):
        if device == "cpu" and numpy_bert(folder):
            return NumpyBertEncoder(folder)
        return MeanPoolEncoder(folder, device)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(location, device=device)
