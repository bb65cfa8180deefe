"""Test and bench fixtures, NOT used by the pipeline: models with random weights, built from configs.

* :func:`make_tiny_models`: tiny models of every role (:mod:`perceive.testing.tiny`),
  for offline tests and demos (``videochat models --make-tiny``);
* :func:`real_arch_models`: the default architectures at full size
  (:mod:`perceive.testing.realarch`), so the bench can time them without their weights.

Every model built here is marked random, and every output that uses one says so.
"""
from __future__ import annotations

from pathlib import Path

from perceive.testing.realarch import real_arch_models

__all__ = ["make_tiny_models", "real_arch_models"]


def make_tiny_models(folder: str | Path, roles: list[str] | None = None) -> dict[str, Path]:
    """Build one tiny random-weight model per role under ``folder``; returns role -> path."""
    from perceive.testing.tiny import BUILDERS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {role: BUILDERS[role](folder / role) for role in roles or list(BUILDERS)}
