"""Clothing and setting from ImageNet: EfficientNet-Lite0 (the ``tagger`` role) read on a few classes only.

* ``clothing``: each tracked person's box (made square around its middle) is
  classified at most every ``interval`` seconds; the probabilities of the ImageNet
  clothing and accessory classes (``perceive/data/imagenet_clothing.tsv``) are
  averaged over the track, and each class whose mean reaches ``threshold``
  becomes one ``clothing`` observation spanning the track.
* ``setting`` (:class:`SettingStage`): the ``tags`` stage's shots, one keyframe each,
  read on the ImageNet classes that name a place (``perceive/data/imagenet_setting.txt``).

The probabilities are those of the whole 1000-class softmax, not renormalized over
the few classes read: a class must stand out among all of them. The thresholds were
measured on the shared clips (docs/perception-looks.md).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from perceive.records import Box, Observation
from perceive.stage import FrameStage
from perceive.tags import TagStage, Tagger, load_tagger
from perceive.video import Frame

DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def clothing_classes() -> dict[str, str]:
    """ImageNet class name -> the words the context shows, for the clothing and accessory classes."""
    with open(DATA / "imagenet_clothing.tsv", newline="", encoding="utf-8") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return {r["class"]: r["shown"] for r in rows}


@lru_cache(maxsize=1)
def setting_classes() -> frozenset[str]:
    """The ImageNet classes that name a place or setting."""
    lines = (DATA / "imagenet_setting.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def square_crop(image: np.ndarray, box: Box, size: int) -> np.ndarray:
    """The square around ``box``'s middle (its longer side, inside the frame), resized to ``size`` x ``size``."""
    height, width = image.shape[:2]
    side = max((box.x2 - box.x1) * width, (box.y2 - box.y1) * height, 1.0)
    cx, cy = (box.x1 + box.x2) / 2 * width, (box.y1 + box.y2) / 2 * height
    x1, y1 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x2, y2 = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
    crop = image[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)]
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.BICUBIC))


@dataclass
class Worn:
    """One person track: when it was seen, the clothing probabilities summed and how many crops they sum."""

    first: float
    last: float
    sampled_at: float
    total: np.ndarray
    count: int = 0


class ClothingStage(FrameStage):
    """What each tracked person wears, as the ImageNet clothing classes EfficientNet-Lite0 is sure of.

    Options (``stage_options["clothing"]``): ``threshold`` (mean probability over the track; 0.15 keeps the
    suits, ties and uniforms the shared clips show and drops most guesses, docs/perception-looks.md),
    ``interval`` (s between the classified keyframes of one track).
    """

    name = "clothing"

    def __init__(self, model, device: str = "cpu", threshold: float = 0.15, interval: float = 2.0):
        super().__init__(model, device)
        self.threshold, self.interval = threshold, interval
        self.start()

    def start(self, video=None) -> None:
        """Forget the people of the previous video."""
        self.worn: dict[int, Worn] = {}

    def load_model(self) -> Tagger:
        return load_tagger(self.spec.location, self.device)

    def classes(self, tagger: Tagger) -> np.ndarray:
        """Indices of the clothing classes among the tagger's labels."""
        wanted = clothing_classes()
        return np.array([i for i, label in enumerate(tagger.labels) if label in wanted], dtype=int)

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        tagger = self.model
        crops, owners = [], []
        for frame in frames:
            for o in earlier:
                if (o.stage == "detection" and o.label == "person" and o.box and o.track_id is not None
                        and abs(o.start - frame.time) < 1e-6 and self._due(o.track_id, frame.time)):
                    crops.append(square_crop(frame.image, o.box, tagger.size))
                    owners.append(o.track_id)
        if crops:
            kept = tagger.classify(crops)[:, self.classes(tagger)]
            for track_id, row in zip(owners, kept):
                worn = self.worn[track_id]
                worn.total, worn.count = worn.total + row, worn.count + 1
        return []

    def _due(self, track_id: int, time: float) -> bool:
        """Whether this sighting of the track is to be classified (and note that the track was seen)."""
        worn = self.worn.get(track_id)
        if worn is None:
            self.worn[track_id] = Worn(time, time, time, np.zeros(len(self.classes(self.model))))
            return True
        worn.last = max(worn.last, time)
        if time - worn.sampled_at < self.interval - 1e-6:
            return False
        worn.sampled_at = time
        return True

    def finish(self) -> list[Observation]:
        """One ``clothing`` observation per class a person track's mean probability reaches; then forget them."""
        labels = [self.model.labels[i] for i in self.classes(self.model)]
        shown = clothing_classes()
        out = []
        for track_id, worn in sorted(self.worn.items(), key=lambda kv: (kv[1].first, kv[0])):
            if not worn.count:
                continue
            mean = worn.total / worn.count
            out += [Observation(stage="clothing", start=worn.first, end=worn.last, text=shown[labels[i]],
                                label=labels[i], score=round(float(mean[i]), 3), track_id=track_id)
                    for i in np.argsort(-mean) if mean[i] >= self.threshold]
        self.start()
        return out


class SettingStage(TagStage):
    """The setting of each shot: the ImageNet place classes EfficientNet-Lite0 is sure of, on one keyframe a shot.

    Options as the ``tags`` stage's (:class:`~perceive.tags.TagStage`), ``threshold`` 0.15 (measured, as the
    clothing one); ``interval`` defaults to a day, so a shot's first keyframe is its only one.
    """

    name = "setting"
    record = "setting"

    def __init__(self, model, device: str = "cpu", threshold: float = 0.15, interval: float = 86400.0,
                 hist_threshold: float = 0.15, grey_threshold: float = 40.0):
        super().__init__(model, device, threshold, interval, hist_threshold, grey_threshold)

    def kept(self, labels: list[str]) -> set[str]:
        return set(setting_classes())
