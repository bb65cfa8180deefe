"""Keyframe thumbnails for the timeline report: a few small JPEGs, evenly spread over the video.

Each thumbnail is one ``ffmpeg`` call that seeks to its time (input seeking, so
a long video is never decoded in full) and writes one scaled-down JPEG to a
pipe. A time that cannot be decoded is left out rather than failing the report.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from prompting.report import MAX_THUMBNAILS, Thumbnail


def thumbnail_times(duration: float, count: int = MAX_THUMBNAILS) -> list[float]:
    """``count`` (at most one per second of video) times at the middles of equal slices of the video."""
    n = max(1, min(count, int(duration) or 1))
    return [round((i + 0.5) * duration / n, 3) for i in range(n)]


def frame_jpeg(path: str | Path, time: float, height: int = 72, quality: int = 7, timeout: float = 30.0) -> bytes | None:
    """One small JPEG (``height`` pixels high) of the video at ``path`` at ``time`` seconds; None when it cannot be read."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{time:.3f}", "-i", str(path), "-frames:v", "1",
           "-vf", f"scale=-2:{height}", "-q:v", str(quality), "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def extract_thumbnails(path: str | Path, duration: float, count: int = MAX_THUMBNAILS, height: int = 72,
                       quality: int = 7, timeout: float = 30.0) -> list[Thumbnail]:
    """Small JPEG keyframes (``height`` pixels high) evenly spread over the video at ``path``."""
    frames = ((t, frame_jpeg(path, t, height, quality, timeout)) for t in thumbnail_times(duration, count))
    return [Thumbnail(time=t, jpeg=jpeg) for t, jpeg in frames if jpeg]
