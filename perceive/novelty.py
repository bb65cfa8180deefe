"""Spot keyframes whose content changed, so costly stages skip near-duplicates.

A keyframe's fingerprint is a 32x32 grey thumbnail; a keyframe is *new* when its
thumbnail differs from the last accepted one by at least ``threshold`` grey
levels on average. A talking head or a static shot is accepted once, not once
per second. The caption and OCR stages share this rule.
"""
from __future__ import annotations

import numpy as np
from PIL import Image


def thumbnail(image) -> np.ndarray:
    """A 32x32 grey thumbnail, the cheap fingerprint used to spot near-duplicate keyframes."""
    return np.asarray(Image.fromarray(image).convert("L").resize((32, 32), Image.BILINEAR), dtype=np.float32)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute grey-level difference of two thumbnails."""
    return float(np.abs(a - b).mean())


class ChangeGate:
    """Accepts a keyframe when its content changed since the last accepted one.

    ``threshold`` is in grey levels (0 accepts every keyframe); ``min_interval``
    seconds must pass between two accepted keyframes (a changed keyframe that
    comes too early is not accepted, and a later one is compared again).
    """

    def __init__(self, threshold: float = 3.0, min_interval: float = 0.0):
        self.threshold, self.min_interval = threshold, min_interval
        self.reset()

    def reset(self) -> None:
        """Forget the last accepted keyframe (a new video starts)."""
        self.reference: np.ndarray | None = None
        self.accepted_at: float | None = None

    def changed(self, thumb: np.ndarray) -> bool:
        """Whether ``thumb`` differs from the last accepted keyframe (always true for the first)."""
        return self.reference is None or difference(thumb, self.reference) >= self.threshold

    def due(self, time: float) -> bool:
        """Whether ``min_interval`` has passed since the last accepted keyframe."""
        return self.accepted_at is None or time - self.accepted_at >= self.min_interval - 1e-6

    def offer(self, time: float, thumb: np.ndarray) -> bool:
        """Accept the keyframe (and remember it) when it changed and is due."""
        if self.changed(thumb) and self.due(time):
            self.accept(time, thumb)
            return True
        return False

    def accept(self, time: float, thumb: np.ndarray) -> None:
        """Make this keyframe the reference."""
        self.reference, self.accepted_at = thumb, time
