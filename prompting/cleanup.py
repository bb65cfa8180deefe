"""Cleanup: a small text-to-text model (FLAN-T5) turns each second's raw tag line into one sentence.

A raw line such as ``"person, person, dining table; a man sitting at a table; arm
wrestling (0.82)"`` becomes something like ``"Two people arm wrestle at a dining
table."``. The prompt comes from ``prompts/cleanup.txt`` (``{line}`` marks where
the raw line goes). A rewrite that is empty, too short, a repetition loop or
shares no word with its line is thrown away and the raw line is kept, so an
untrained or weak model can never destroy the context.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prompts import load as load_prompt
from perceive.models import ResolvedModel, model_cache, resolve
from prompting.text import content_words

def is_degenerate(raw: str, rewrite: str) -> bool:
    """True when ``rewrite`` is no usable sentence for ``raw``.

    That is: shorter than 3 characters, sharing no word with the raw line, or a
    loop (8 or more words of which fewer than a third are distinct).
    """
    text = rewrite.strip()
    if len(text) < 3:
        return True
    words = text.lower().split()
    if len(words) >= 8 and len(set(words)) < len(words) / 3:
        return True
    return not (content_words(text) & content_words(raw))


@dataclass
class Seq2Seq:
    """A loaded text-to-text model and its tokenizer."""

    model: Any
    tokenizer: Any


class Cleanup:
    """Rewrite raw per-second tag lines into clean sentences with a T5-style model."""

    role = "cleanup"

    def __init__(self, model: ResolvedModel, device: str = "cpu", batch_size: int = 16,
                 max_new_tokens: int = 48, max_input_tokens: int = 256):
        self.spec = model
        self.device = device
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.max_input_tokens = max_input_tokens
        self.template = load_prompt("cleanup").strip()

    @classmethod
    def from_registry(cls, overrides: dict[str, str] | None = None, device: str = "cpu", **kwargs) -> Cleanup:
        """A cleanup model resolved by the registry (``--model cleanup=...``, env, config, default)."""
        return cls(resolve("cleanup", overrides), device, **kwargs)

    @property
    def model(self) -> Seq2Seq:
        """The loaded model, loaded once per process on first access."""
        key = ("Cleanup", self.spec.backend, self.spec.location, self.device)
        return model_cache().get(key, self._load)

    def _load(self) -> Seq2Seq:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(self.spec.location)
        model = AutoModelForSeq2SeqLM.from_pretrained(self.spec.location).to(self.device).eval()
        return Seq2Seq(model, tokenizer)

    def prompt(self, line: str) -> str:
        """The model input for one raw line."""
        return self.template.replace("{line}", line.strip())

    def clean(self, lines: list[str]) -> list[str]:
        """One clean sentence per raw line, in order; a line keeps its raw text when the rewrite is unusable."""
        out = list(lines)
        todo = [i for i, line in enumerate(lines) if line.strip()]
        for b in range(0, len(todo), self.batch_size):
            batch = todo[b:b + self.batch_size]
            for i, rewrite in zip(batch, self._generate([lines[i] for i in batch])):
                if not is_degenerate(lines[i], rewrite):
                    out[i] = rewrite.strip()
        return out

    def _generate(self, lines: list[str]) -> list[str]:
        import torch

        s2s = self.model
        inputs = s2s.tokenizer([self.prompt(line) for line in lines], return_tensors="pt", padding=True,
                               truncation=True, max_length=self.max_input_tokens).to(self.device)
        with torch.inference_mode():
            ids = s2s.model.generate(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                                     max_new_tokens=self.max_new_tokens, num_beams=1, do_sample=False)
        return s2s.tokenizer.batch_decode(ids, skip_special_tokens=True)
