"""`videochat perceive VIDEO --json`: every stage's observations, every model named real or random."""
from __future__ import annotations

import json
import subprocess
import sys

from perceive.records import Perception
from tests.conftest import SAMPLES


def test_perceive_json_runs_every_stage_on_the_sample(tiny_models):
    video = SAMPLES / "talk.mp4"
    overrides = [arg for role in ("detector", "captioner", "action")
                 for arg in ("-m", f"{role}={tiny_models[role]}")]
    result = subprocess.run([sys.executable, "-m", "chat.cli", "perceive", str(video), "--json", "--offline",
                             "--device", "cpu", *overrides], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    perception = Perception.model_validate_json(result.stdout)
    weights = {m.role: m.weights for m in perception.models}
    assert weights == {"asr": "real", "detector": "random", "captioner": "random", "action": "random", "ocr": "real"}
    stages = {o.stage for o in perception.observations}
    assert {"asr", "caption", "dense_caption", "action"} <= stages, stages
    speech = " ".join(o.text for o in perception.by_stage("asr")).lower()
    # samples/make_samples.sh speaks: "Hello. My name is Ada. The meeting starts at nine tomorrow, in room four."
    assert "meeting" in speech and ("nine" in speech or " 9 " in speech) and "room" in speech, speech
    assert all(0 <= o.start <= perception.video.duration for o in perception.observations)
    assert json.loads(result.stdout)["schema_version"] == 1


def test_sample_without_audio_notes_asr_skipped():
    result = subprocess.run([sys.executable, "-m", "chat.cli", "perceive", str(SAMPLES / "silent.mp4"), "--json",
                             "--offline", "--stages", "asr"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    perception = Perception.model_validate_json(result.stdout)
    assert perception.observations == [] and any("no audio track" in n for n in perception.notes)
