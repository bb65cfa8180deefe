"""`videochat perceive VIDEO --json`: every stage's observations, every model named real or random."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from perceive.records import Perception
from tests.conftest import SAMPLES, transcript_error

TALK_SAID = "Hello. My name is Ada. The meeting starts at nine tomorrow, in room four."   # samples/make_samples.sh


@pytest.mark.slow
def test_perceive_json_runs_every_stage_on_the_sample(tiny_models):
    video = SAMPLES / "talk.mp4"
    overrides = [arg for role in ("detector", "captioner", "action")
                 for arg in ("-m", f"{role}={tiny_models[role]}")]
    result = subprocess.run([sys.executable, "-m", "chat.cli", "perceive", str(video), "--json", "--offline",
                             "--device", "cpu", *overrides], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    perception = Perception.model_validate_json(result.stdout)
    weights = {m.role: m.weights for m in perception.models}
    assert weights.pop("asr_english", "real") == "real"   # tiny.en helper beside a multilingual asr model
    assert weights == {"asr": "real", "detector": "random", "captioner": "random", "action": "random", "ocr": "real"}
    stages = {o.stage for o in perception.observations}
    assert {"asr", "caption", "dense_caption", "action"} <= stages, stages
    speech = " ".join(o.text for o in perception.by_stage("asr"))
    assert transcript_error(TALK_SAID, speech) <= 0.3, speech      # measured 0.07 (1 of 14 words: "Ada")
    assert all(0 <= o.start <= perception.video.duration for o in perception.observations)
    assert json.loads(result.stdout)["schema_version"] == 1


def test_sample_without_audio_notes_asr_skipped():
    result = subprocess.run([sys.executable, "-m", "chat.cli", "perceive", str(SAMPLES / "silent.mp4"), "--json",
                             "--offline", "--stages", "asr"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    perception = Perception.model_validate_json(result.stdout)
    assert perception.observations == [] and any("no audio track" in n.reason for n in perception.notes)


def test_callbacks_see_every_stage_step_and_each_video_starts_fresh(tiny_models):
    """The lifecycle (start, process, finish per video) and the hooks the CLI and the bench use."""
    from perceive.callbacks import PipelineCallbacks
    from perceive.pipeline import PerceptionSettings, build_stages, perceive_video

    class Record(PipelineCallbacks):
        def __init__(self):
            self.calls: list[tuple] = []

        def on_video_start(self, video):
            self.calls.append(("video", video.path))

        def on_stage_start(self, stage, step, frames):
            self.calls.append(("start", stage.name, step, frames))

        def on_stage_end(self, stage, step, seconds, observations):
            assert seconds >= 0
            self.calls.append(("end", stage.name, step))

    settings = PerceptionSettings(stages=("caption", "action"), device="cpu",
                                  models={r: str(tiny_models[r]) for r in ("captioner", "action")})
    stages, notes = build_stages(settings)
    hooks = Record()
    first = perceive_video(SAMPLES / "silent.mp4", settings, stages, notes, callbacks=hooks)
    second = perceive_video(SAMPLES / "silent.mp4", settings, stages, notes, callbacks=hooks)
    assert first.observations == second.observations      # nothing of the first video leaks into the second
    starts = [c for c in hooks.calls if c[0] == "start"]
    assert starts[0][1:3] == ("caption", "process") and starts[0][3] > 0
    assert ("start", "action", "finish", 0) in starts and ("end", "action", "finish") in hooks.calls
    assert sum(c[0] == "video" for c in hooks.calls) == 2
    assert len(starts) == sum(c[0] == "end" for c in hooks.calls)
