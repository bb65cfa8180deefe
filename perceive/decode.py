"""Decoding without the ffmpeg binary: PyAV (``av``), else OpenCV, for machines that lack ffmpeg.

:mod:`perceive.video` uses the ``ffmpeg``/``ffprobe`` programs when they are on
the PATH (the default, what every output was recorded with). A bare GPU machine
may have neither; there the same functions fall back to PyAV (frames and audio;
its wheel bundles the ffmpeg libraries) or to OpenCV (frames only: without PyAV
a video's audio cannot be read and ASR is skipped with a note). Keyframes are
taken as ffmpeg's ``fps`` filter takes them (the frame nearest each ``n / fps``)
and scaled with PIL, so pixels can differ slightly from the ffmpeg path;
``--scene`` needs ffmpeg.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def have_ffmpeg() -> bool:
    """Whether the ``ffmpeg`` and ``ffprobe`` programs are on the PATH."""
    return bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))


def backend() -> str:
    """The decoder in use: ``ffmpeg``, ``pyav``, ``opencv`` or ``none``."""
    if have_ffmpeg():
        return "ffmpeg"
    for name, module in (("pyav", "av"), ("opencv", "cv2")):
        try:
            __import__(module)
            return name
        except ImportError:
            continue
    return "none"


def probe_fallback(path: Path) -> dict:
    """Duration, size, frame rate and audio presence of ``path`` read with PyAV or OpenCV."""
    if backend() == "pyav":
        import av

        with av.open(str(path)) as container:
            video = next((s for s in container.streams if s.type == "video"), None)
            if video is None:
                raise ValueError("has no video stream")
            duration = (container.duration or 0) / 1_000_000 or float((video.duration or 0) * video.time_base)
            rate = float(video.average_rate or video.guessed_rate or 0)
            return {"duration": duration, "width": video.codec_context.width, "height": video.codec_context.height,
                    "fps": rate, "has_audio": any(s.type == "audio" for s in container.streams)}
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ValueError("not a readable video (OpenCV cannot open it)")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0
        return {"duration": count / fps if fps else 0.0, "width": int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                "height": int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), "fps": fps, "has_audio": False}
    finally:
        cap.release()


def _frames_pyav(path: str) -> Iterator[tuple[float, np.ndarray]]:
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            yield float(frame.pts * stream.time_base), frame.to_ndarray(format="rgb24")


def _frames_opencv(path: str) -> Iterator[tuple[float, np.ndarray]]:
    import cv2

    cap = cv2.VideoCapture(path)
    try:
        while True:
            ok, image = cap.read()
            if not ok:
                return
            yield cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def keyframes_fallback(path: str, fps: float, size: tuple[int, int]) -> Iterator[tuple[float, np.ndarray]]:
    """``(time, RGB array)`` at ``n / fps`` seconds: the decoded frame nearest each time, scaled to ``size``."""
    from PIL import Image

    frames = _frames_pyav(path) if backend() == "pyav" else _frames_opencv(path)
    step, index, previous = 1.0 / fps, 0, None
    for t, image in frames:
        # emit every sample time the stream has passed, each with the frame nearest to it
        while t >= index * step:
            target = index * step
            best = previous if previous is not None and abs(previous[0] - target) < abs(t - target) else (t, image)
            yield round(target, 3), np.asarray(Image.fromarray(best[1]).resize(size, Image.BICUBIC))
            index += 1
        previous = (t, image)


def audio_fallback(path: str, sample_rate: int) -> np.ndarray | None:
    """The audio track as mono float32 at ``sample_rate`` with PyAV; ``None`` when PyAV is missing."""
    try:
        import av
    except ImportError:
        return None
    chunks = []
    with av.open(path) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    data = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    return data.astype(np.float32) / 32768.0
