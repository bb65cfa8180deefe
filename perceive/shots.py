"""Shot changes (``shots``): cuts found on the keyframe stream, with no model.

Two consecutive keyframes are split by a cut when both their colour
distributions and their pictures differ strongly: the Bhattacharyya distance
of their hue/saturation/value histograms is above ``hist_threshold`` and their
32x32 grey thumbnails differ by more than ``grey_threshold`` levels on average.
The histogram ignores motion inside a shot, the thumbnail ignores a slow
change of light (a fade). A cut is placed halfway between the two keyframes,
so its time is known to half the sampling interval. At the end, every shot
becomes one ``shot`` observation from its first to its last keyframe; its
``score`` is the largest thumbnail difference between two of its consecutive
keyframes, and a shot whose keyframes never differ by ``still_threshold`` grey
levels (a cover image under an audiobook, a slide) is labelled ``still shot``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from perceive.novelty import difference, thumbnail
from perceive.records import Observation
from perceive.stage import FrameStage
from perceive.video import Frame


def colour_histogram(image: np.ndarray) -> np.ndarray:
    """A normalized 8x4x4-bin hue/saturation/value histogram of a 64x64 version of an RGB array."""
    hsv = np.asarray(Image.fromarray(image).resize((64, 64), Image.BILINEAR).convert("HSV"), dtype=np.int32)
    bins = (hsv[..., 0] // 32) * 16 + (hsv[..., 1] // 64) * 4 + hsv[..., 2] // 64
    counts = np.bincount(bins.ravel(), minlength=128).astype(np.float64)
    return counts / counts.sum()


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two normalized histograms: 0 same, 1 disjoint."""
    return float(max(0.0, 1.0 - np.sqrt(a * b).sum()))


class ShotStage(FrameStage):
    """Cut the keyframe stream into shots; options ``hist_threshold``, ``grey_threshold`` and
    ``still_threshold``."""

    name = "shots"

    def __init__(self, model: Any = None, device: str = "cpu", hist_threshold: float = 0.15,
                 grey_threshold: float = 40.0, still_threshold: float = 0.5):
        super().__init__(model, device)
        self.hist_threshold, self.grey_threshold = hist_threshold, grey_threshold
        self.still_threshold = still_threshold   # grey levels: video coding noise on a still stays below it
        self.start()

    def start(self, video=None) -> None:
        """Forget the video seen so far: the new one starts afresh."""
        self.previous: tuple[float, np.ndarray, np.ndarray] | None = None
        self.shot_start: float | None = None
        self.motion: float | None = None   # the current shot's largest keyframe-to-keyframe difference
        self.shots: list[tuple[float, float, float | None]] = []

    def load_model(self) -> None:
        return None

    def info(self) -> None:
        """No model: nothing to name in the header."""
        return None

    def is_cut(self, hist_a: np.ndarray, hist_b: np.ndarray, moved: float) -> bool:
        """Whether two consecutive keyframes, with these histograms and ``moved`` grey levels apart on average
        (their thumbnails' :func:`~perceive.novelty.difference`), belong to different shots."""
        return histogram_distance(hist_a, hist_b) > self.hist_threshold and moved > self.grey_threshold

    def observe(self, frame: Frame) -> float | None:
        """Take the next keyframe: the start of the shot it opens (the first keyframe opens one), else None.

        Other stages (``tags``) use this to follow the same shots as this stage.
        """
        hist, thumb = colour_histogram(frame.image), thumbnail(frame.image)
        start = None
        if self.previous is None:
            start = frame.time
        else:
            moved = difference(self.previous[2], thumb)
            if self.is_cut(self.previous[1], hist, moved):
                start = round((self.previous[0] + frame.time) / 2, 2)
            else:
                self.motion = max(self.motion or 0.0, moved)
        self.previous = (frame.time, hist, thumb)
        return start

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        for frame in frames:
            start = self.observe(frame)   # a cut leaves the motion of the shot it ends as it was
            if start is not None:
                if self.shot_start is not None:
                    self.shots.append((self.shot_start, start, self.motion))
                self.shot_start, self.motion = start, None
        return []

    def finish(self) -> list[Observation]:
        """One ``shot`` observation per shot (the last one ends at the last keyframe), ``still shot`` when its
        picture did not change (a shot of one keyframe is not known to be still)."""
        if self.previous is None:
            return []
        shots = [*self.shots, (self.shot_start, self.previous[0], self.motion)]
        out = [Observation(stage="shot", start=start, end=end, text=f"shot {i} of {len(shots)}", score=motion,
                           label="still shot" if motion is not None and motion < self.still_threshold else "shot")
               for i, (start, end, motion) in enumerate(shots, 1)]
        self.start()
        return out
