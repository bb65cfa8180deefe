"""Sentence embeddings without importing sentence-transformers when the model does not need it.

``import sentence_transformers`` costs several seconds on a 2-core CPU (it pulls
in scikit-learn, SciPy and its training code) before ``videochat ask`` can
answer about a cached video (16.8 s end to end with it, 14.5-15.2 s without). The default embedder, all-MiniLM-L6-v2, is a plain
transformer, mean pooling and normalization (its ``modules.json``), which
transformers alone computes the same way (tested to 1e-5 against
sentence-transformers). :func:`load_encoder` uses that path for a local folder
of such a model and sentence-transformers for anything else (hub names, CLS or
Dense heads, other module types).
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
        config = folder / "sentence_bert_config.json"
        self.max_length = json.loads(config.read_text()).get("max_seq_length", 512) if config.is_file() else 512
        self.normalize = _PLAIN[2] in (m["type"] for m in json.loads((folder / "modules.json").read_text()))

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


def load_encoder(location: str, device: str = "cpu"):
    """An encoder for ``location``: :class:`MeanPoolEncoder` for a local mean-pooling model folder, else
    sentence-transformers' ``SentenceTransformer`` (which downloads a hub name when online)."""
    folder = Path(location)
    if folder.is_dir() and mean_pooled(folder):
        return MeanPoolEncoder(folder, device)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(location, device=device)
