"""A YOLO TFLite export run with ``ai-edge-litert`` alone: no ultralytics, no torch.

Importing ultralytics (and torch with it) to run a ``.tflite`` detector costs
seconds and hundreds of MB on a 2-core CPU. :class:`TfliteYolo` does what
ultralytics does for such an export, in NumPy: letterbox each keyframe to the
model's input (grey 114 padding, as ultralytics' ``LetterBox``), one interpreter
call, boxes scaled back, class-aware NMS (IoU 0.7, ultralytics' default). It
answers the one call the detection stage makes, ``track(images, ...)``, with
results shaped like ultralytics' (``boxes.xyxyn``, ``.cls``, ``.conf``, ``.id``,
``names``), so :class:`perceive.detect.DetectionStage` runs either unchanged.

Tracking is :class:`IouTracker`, greedy IoU matching of each class's boxes to
the tracks of earlier keyframes (not ultralytics' ByteTrack: track ids and
which low-score boxes join a track can differ; the detections are the same, tested).
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

IOU = 0.7
"""NMS overlap above which the lower-scored box of a class is dropped (ultralytics' default)."""
PAD = 114
MAX_WH = 7680   # class offset for NMS of every class at once (ultralytics' constant)


def model_names(path: Path) -> dict[int, str]:
    """Class names of an ultralytics TFLite export: its embedded ``metadata.json``, else ``metadata.yaml`` beside it."""
    try:
        with zipfile.ZipFile(path) as bundle:
            meta = json.loads(bundle.read(bundle.namelist()[0]))
    except (zipfile.BadZipFile, KeyError, IndexError, ValueError, OSError):
        import yaml

        side = path.with_name("metadata.yaml")
        meta = yaml.safe_load(side.read_text()) if side.is_file() else {}
    return {int(k): str(v) for k, v in (meta.get("names") or {}).items()}


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, tuple[float, float]]:
    """``image`` (H, W, 3) scaled to fit ``size`` (h, w) and padded to it, centred; the scale and (left, top) pad."""
    import cv2

    h, w = image.shape[:2]
    gain = min(size[0] / h, size[1] / w)
    new_w, new_h = round(w * gain), round(h * gain)
    dw, dh = (size[1] - new_w) / 2, (size[0] - new_h) / 2
    if (new_w, new_h) != (w, h):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom, left, right = round(dh - 0.1), round(dh + 0.1), round(dw - 0.1), round(dw + 0.1)
    image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD, PAD, PAD))
    return image, gain, (left, top)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` (n, 4 xyxy) with every box of ``b`` (m, 4)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)   # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = IOU) -> np.ndarray:
    """Indices of the boxes greedy NMS keeps, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, order = order[0], order[1:]
        keep.append(best)
        if order.size:
            order = order[iou_matrix(boxes[best:best + 1], boxes[order])[0] <= iou]
    return np.array(keep, dtype=int)


@dataclass
class _Track:
    id: int
    cls: int
    box: np.ndarray
    missed: int = 0


@dataclass
class IouTracker:
    """Give each box a track id: the track of the same class whose last box overlaps it most (IoU >= ``match``),
    else a new one; a track unseen for more than ``buffer`` keyframes ends (ByteTrack's default buffer, 30)."""

    match: float = 0.3
    buffer: int = 30
    tracks: list[_Track] = field(default_factory=list)
    next_id: int = 1

    def reset(self) -> None:
        """Forget every track (a new video)."""
        self.tracks, self.next_id = [], 1

    def update(self, boxes: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Track ids for this keyframe's ``boxes`` (normalized xyxy) of ``classes``."""
        ids = np.zeros(len(boxes), dtype=int)
        free = list(range(len(self.tracks)))
        overlaps = iou_matrix(boxes, np.array([t.box for t in self.tracks]).reshape(-1, 4)) if len(boxes) else None
        for i in range(len(boxes)):
            best = max((j for j in free if self.tracks[j].cls == classes[i] and overlaps[i, j] >= self.match),
                       key=lambda j: overlaps[i, j], default=None)
            if best is None:
                self.tracks.append(_Track(self.next_id, int(classes[i]), boxes[i]))
                ids[i], self.next_id = self.next_id, self.next_id + 1
            else:
                free.remove(best)
                track = self.tracks[best]
                track.box, track.missed, ids[i] = boxes[i], 0, track.id
        for j in free:
            self.tracks[j].missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.buffer]
        return ids


class _Column:
    """One column of results, answering ``.tolist()`` and ``.int()`` as a torch tensor would."""

    def __init__(self, values: np.ndarray):
        self.values = values

    def int(self) -> _Column:
        return _Column(self.values.astype(int))

    def tolist(self) -> list:
        return self.values.tolist()


class _Boxes:
    def __init__(self, xyxyn: np.ndarray, scores: np.ndarray, classes: np.ndarray, ids: np.ndarray | None):
        self.xyxyn, self.conf, self.cls = _Column(xyxyn), _Column(scores), _Column(classes)
        self.id = _Column(ids) if ids is not None else None

    def __len__(self) -> int:
        return len(self.conf.values)


class TfliteYolo:
    """An ultralytics YOLO detection export (``.tflite``, output ``(1, 4 + classes, anchors)``) on ai-edge-litert."""

    def __init__(self, path: str | Path, threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        self.interpreter = Interpreter(model_path=str(self.path), num_threads=threads or os.cpu_count() or 1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.size = tuple(int(x) for x in self.input["shape"][1:3])
        self.names = model_names(self.path)
        self.predictor = SimpleNamespace(trackers=[IouTracker()])

    def detect(self, image: np.ndarray, conf: float = 0.25, max_det: int = 300) -> tuple[np.ndarray, ...]:
        """Boxes of one RGB ``image``: pixel xyxy (n, 4), scores and class indices, best first."""
        boxed, gain, (left, top) = letterbox(image, self.size)
        self.interpreter.set_tensor(self.input["index"], (boxed[None].astype(np.float32) / 255.0))
        self.interpreter.invoke()
        out = self.interpreter.get_tensor(self.output["index"])[0].T          # (anchors, 4 + classes)
        scores_all = out[:, 4:]
        classes = scores_all.argmax(1)
        scores = scores_all[np.arange(len(out)), classes]
        chosen = scores > conf
        xywh, scores, classes = out[chosen, :4], scores[chosen], classes[chosen]
        xywh = xywh * np.array([self.size[1], self.size[0]] * 2)             # normalized -> input pixels
        boxes = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], axis=1)
        keep = nms(boxes + (classes * MAX_WH)[:, None], scores)[:max_det]
        boxes = (boxes[keep] - [left, top, left, top]) / gain
        h, w = image.shape[:2]
        boxes = np.clip(boxes, 0, [w, h, w, h])
        return boxes, scores[keep], classes[keep]

    def track(self, images: list[np.ndarray], *, conf: float = 0.25, max_det: int = 300, **_ignored) -> list:
        """Detect and track on BGR ``images`` (what the detection stage passes ultralytics); one result each."""
        tracker = self.predictor.trackers[0]
        results = []
        for image in images:
            rgb = np.ascontiguousarray(image[..., ::-1])
            boxes, scores, classes = self.detect(rgb, conf, max_det)
            h, w = rgb.shape[:2]
            normalized = boxes / [w, h, w, h]
            ids = tracker.update(normalized, classes)
            results.append(SimpleNamespace(boxes=_Boxes(normalized, scores, classes, ids), names=self.names))
        return results
