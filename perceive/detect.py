"""Object detection and tracking on keyframes with an ultralytics YOLO model.

Each keyframe gets one ``detection`` observation per object (class name, score,
normalized box, coarse position, track id). ByteTrack links boxes across the
keyframes of one video, and at the end every track becomes one ``track``
observation spanning the time it was seen: "person #3 appears at 3 s and
leaves at 10 s".

A :class:`TrackGate` keeps out what is most often false (docs/perception-looks.md):
a track counts once it was seen in ``min_track`` keyframes with at least its
class's score (``perceive/data/detection_filter.toml``); until then its boxes
wait, and a track that never counts is dropped with its boxes.
"""
from __future__ import annotations

import os
import sys
import tomllib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from perceive.models import ResolvedModel
from perceive.records import Box, Observation
from perceive.stage import FrameStage
from perceive.video import Frame


@contextmanager
def keep_torch_threads():
    """Undo ultralytics' thread settings on exit.

    Importing ultralytics sets ``OMP_NUM_THREADS=1`` and its predictor calls
    ``torch.set_num_threads(cores - 1)``: on 2 cores every later stage (BLIP,
    VideoMAE) would run on one thread, about 1.5x slower.
    """
    torch = sys.modules.get("torch")
    if not hasattr(torch, "set_num_threads"):   # nothing to undo: the TFLite runner needs no torch (or another
        yield                                   # thread is still importing it)
        return
    threads, omp = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if omp is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = omp


def load_yolo(location: str) -> Any:
    """Load a YOLO detector: a ``.tflite`` export with ai-edge-litert alone (:class:`perceive.tflite.TfliteYolo`),
    else with ultralytics: a ``.pt`` path, a hub name such as ``yolo11n.pt`` (online), an ``.onnx`` export."""
    if location.endswith(".tflite"):
        from perceive.tflite import TfliteYolo

        return TfliteYolo(location)
    import torch  # noqa: F401 - loaded first, so that keep_torch_threads sees what ultralytics changes

    with keep_torch_threads():
        from ultralytics import YOLO

        return YOLO(location, task="detect", verbose=False)


@dataclass
class Track:
    """What is known about one track id: when it was seen and as what."""

    first: float
    last: float
    labels: Counter = field(default_factory=Counter)
    scores: list[float] = field(default_factory=list)

    def see(self, time: float, label: str, score: float) -> None:
        """Record one sighting."""
        self.first, self.last = min(self.first, time), max(self.last, time)
        self.labels[label] += 1
        self.scores.append(score)

    @property
    def label(self) -> str:
        return self.labels.most_common(1)[0][0]


FILTER_FILE = Path(__file__).resolve().parent / "data" / "detection_filter.toml"


@dataclass(frozen=True)
class TrackRule:
    """When a track counts: ``min_track`` keyframes whose score reaches the class's minimum (else ``min_score``),
    or one keyframe whose score reaches ``once_score`` as well (a short shot may show a thing only once)."""

    min_track: int = 1
    min_score: float = 0.0
    class_scores: dict[str, float] = field(default_factory=dict)
    once_score: float = 1.0

    def counts(self, o: Observation) -> bool:
        """Whether this sighting is sure enough to count towards its track."""
        return (o.score or 0.0) >= self.class_scores.get(o.label or "", self.min_score)

    def sure_at_once(self, o: Observation) -> bool:
        """Whether this one sighting is enough for its track."""
        return self.counts(o) and (o.score or 0.0) >= self.once_score


def default_rule(path: Path = FILTER_FILE) -> TrackRule:
    """The measured rule of ``perceive/data/detection_filter.toml``."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return TrackRule(int(data["min_track"]), float(data["min_score"]), dict(data.get("class_scores", {})),
                     float(data["once_score"]))


class TrackGate:
    """Hold each track's detections back until the track counts (:class:`TrackRule`), then let them through.

    A detection without a track id is a track of its own, seen once. Each class a
    track is seen as is gated on its own (a track may be a cat at first, then a bird).
    """

    def __init__(self, rule: TrackRule):
        self.rule = rule
        self.waiting: dict[tuple[int, str | None], list[Observation]] = {}
        self.sure: dict[tuple[int, str | None], int] = {}      # (track id, class) -> sightings that count
        self.passed: set[tuple[int, str | None]] = set()

    def add(self, o: Observation) -> list[Observation]:
        """The detections that may be shown now: none, ``o`` alone, or ``o`` with its track's waiting ones."""
        if o.track_id is None:
            return [o] if self.rule.counts(o) and (self.rule.min_track <= 1 or self.rule.sure_at_once(o)) else []
        key = (o.track_id, o.label)
        if key in self.passed:
            return [o]
        self.waiting.setdefault(key, []).append(o)
        self.sure[key] = self.sure.get(key, 0) + self.rule.counts(o)
        if self.sure[key] < self.rule.min_track and not self.rule.sure_at_once(o):
            return []
        self.passed.add(key)
        return self.waiting.pop(key)


def seconds(t: float) -> str:
    """A time as a short number of seconds: ``3``, ``2.5``."""
    return f"{round(t, 1):g}"


class DetectionStage(FrameStage):
    """Detect and track objects on keyframes with YOLO + ByteTrack.

    Options (``stage_options["detection"]``): ``conf`` (ultralytics raises 0 to
    0.1 when tracking), ``max_det`` per frame, ``imgsz`` inference size, ``tracker``;
    ``min_track`` and ``class_scores`` (class -> minimum score) override the measured
    :class:`TrackRule` (``min_track=1, class_scores={}`` keeps every box: no filter).
    """

    name = "detection"

    def __init__(self, model: ResolvedModel, device: str = "cpu", conf: float = 0.25,
                 max_det: int = 20, imgsz: int = 640, tracker: str = "bytetrack.yaml",
                 min_track: int | None = None, class_scores: dict[str, float] | None = None):
        super().__init__(model, device)
        self.conf, self.max_det, self.imgsz, self.tracker = conf, max_det, imgsz, tracker
        rule = default_rule()
        self.rule = TrackRule(rule.min_track if min_track is None else min_track, conf,
                              rule.class_scores if class_scores is None else dict(class_scores), rule.once_score)
        self.start()

    def start(self, video=None) -> None:
        """Forget the tracks seen so far (and the tracker's state, at the first batch)."""
        self.tracks: dict[int, Track] = {}
        self.gate = TrackGate(self.rule)
        self.last_time: float | None = None

    def load_model(self) -> Any:
        return load_yolo(self.spec.location)

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        if not frames:
            return []
        model = self.model
        if self.last_time is None:  # the first batch of this video
            for tracker in getattr(model.predictor, "trackers", None) or []:
                tracker.reset()
        with keep_torch_threads():
            results = model.track([np.ascontiguousarray(f.image[..., ::-1]) for f in frames], persist=True,
                                  tracker=self.tracker, conf=self.conf, max_det=self.max_det, imgsz=self.imgsz,
                                  device=self.device, batch=len(frames), verbose=False, save=False)
        out = []
        for frame, result in zip(frames, results):
            out += self._observations(frame.time, result)
            self.last_time = frame.time
        return out

    def _observations(self, time: float, result: Any) -> list[Observation]:
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return []
        ids = boxes.id.int().tolist() if boxes.id is not None else [None] * len(boxes)
        out = []
        for xyxy, cls, score, track_id in zip(boxes.xyxyn.tolist(), boxes.cls.int().tolist(),
                                              boxes.conf.tolist(), ids):
            label = str(result.names[cls])
            box = Box(**dict(zip(("x1", "y1", "x2", "y2"), (min(1.0, max(0.0, v)) for v in xyxy))))
            out += self.gate.add(Observation(stage="detection", start=time, text=label, label=label,
                                             score=round(score, 3), box=box, position=box.position(),
                                             track_id=track_id))
        for o in out:
            if o.track_id is not None:
                self.tracks.setdefault(o.track_id, Track(o.start, o.start)).see(o.start, o.label, o.score)
        return out

    def finish(self) -> list[Observation]:
        """One ``track`` observation per track id, from its first to its last sighting; then forget them."""
        out = []
        for track_id, track in sorted(self.tracks.items(), key=lambda kv: (kv[1].first, kv[0])):
            name = f"{track.label} #{track_id}"
            if track.last >= (self.last_time or 0.0):
                text = f"{name} appears at {seconds(track.first)} s and is visible until the end"
            else:
                text = f"{name} appears at {seconds(track.first)} s and leaves at {seconds(track.last)} s"
            out.append(Observation(stage="track", start=track.first, end=track.last, text=text,
                                   label=track.label, track_id=track_id,
                                   score=round(sum(track.scores) / len(track.scores), 3)))
        self.start()
        return out
