"""Tiny models with random weights, built from configs, for offline tests and demos.

Each stage module owns a ``build_tiny(folder) -> Path`` that saves a small,
untrained model of its kind in the format its real loader reads, and marks it
with the random-weights marker (:func:`perceive.models.mark_random`) so that
every header and JSONL record says these weights are random.
"""
from __future__ import annotations

import importlib
from pathlib import Path

# role -> module whose build_tiny() makes that role's tiny model
TINY_BUILDERS = {
    "asr": "perceive.asr",
    "detector": "perceive.detect",
    "captioner": "perceive.caption",
    "action": "perceive.action",
    "cleanup": "prompting.cleanup",
}


def make_tiny_models(folder: str | Path, roles: list[str] | None = None) -> dict[str, Path]:
    """Build one tiny random-weight model per role under ``folder``; returns role -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for role in roles or list(TINY_BUILDERS):
        builder = importlib.import_module(TINY_BUILDERS[role]).build_tiny
        out[role] = builder(folder / role)
    return out
