"""Real detection: the COCO YOLO11n INT8 TFLite export from ../shared/models, through the registry."""
from __future__ import annotations

import pytest
from conftest import clip, shared_model

from perceive.pipeline import PerceptionSettings, perceive_video
from prompting.context import video_context
from prompting.facts import presence_facts

pytest.importorskip("ai_edge_litert")
YOLO_TFLITE = "yolo11n-int8-tflite/yolo11n_int8.tflite"


def detect(name: str, fps: float = 1.0):
    settings = PerceptionSettings(stages=("detection",), fps=fps,
                                  models={"detector": str(shared_model(YOLO_TFLITE))})
    return perceive_video(clip(name), settings)


@pytest.mark.slow
def test_three_bottles_on_a_table():
    p = detect("intel_bottle_detection.mp4", fps=0.5)
    [model] = p.models
    assert model.weights == "real" and model.name.endswith(".tflite")
    facts = {f.label: f for f in presence_facts(p.observations, interval=2.0)}
    assert 3 <= facts["bottle"].max_count <= 4                     # three bottles stand on the table (measured 3)
    assert facts["bottle"].spans[0][0] <= 2 and facts["bottle"].spans[-1][1] >= 36   # seen all along (0-38 s)
    assert {o.position for o in p.by_stage("detection") if o.label == "bottle"} >= {"left", "center", "right"}


@pytest.mark.slow
def test_two_people_and_the_context_counts_them():
    p = detect("mmaction2_demo.mp4")
    facts = {f.label: f for f in presence_facts(p.observations)}
    assert facts["person"].max_count >= 2
    text = video_context(p).render()
    assert "Fact: person visible 0:00-" in text and "up to " in text
    assert "real weights" in text and ".tflite" in text
