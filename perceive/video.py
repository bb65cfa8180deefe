"""Reading a video with ffmpeg: probe it, stream keyframes in batches, extract audio.

Frames are decoded by an ``ffmpeg`` subprocess that writes raw RGB to a pipe,
so at most one batch of keyframes is ever in memory; the audio track likewise
comes through a pipe in blocks of :data:`AUDIO_BLOCK` seconds. Without the ffmpeg
programs (a bare GPU machine) :mod:`perceive.decode` reads the video with PyAV or OpenCV.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import select
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perceive import decode
from perceive.records import VideoInfo

SAMPLE_RATE = 16_000
PROBE_TIMEOUT = 60.0
"""Seconds ffprobe may take on one file before it counts as unreadable."""
STALL_TIMEOUT = 120.0
"""Seconds ffmpeg may go without producing a keyframe or a block of audio before it is stopped."""
VIDEO_EXTENSIONS = {".mp4", ".mkv", ".avi", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".flv", ".wmv", ".ts"}


class VideoError(RuntimeError):
    """The input is not a readable video (missing, empty, a folder, not a video)."""


class AudioUnavailable(VideoError):
    """This machine cannot decode the audio track (no ffmpeg and no PyAV): audio stages are skipped."""


@dataclass
class Frame:
    """One decoded keyframe: its time in seconds and an RGB ``uint8`` array (H, W, 3)."""

    time: float
    image: np.ndarray


def content_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes (first 16 hex digits), the key of the perception cache."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()[:16]


def probe(path: str | Path) -> VideoInfo:
    """Read duration, size, frame rate and audio presence; raise :class:`VideoError` if unreadable."""
    p = Path(path)
    if not p.exists():
        raise VideoError(f"{path}: no such file")
    if p.is_dir():
        raise VideoError(f"{path}: is a directory, not a video file")
    if p.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    if not decode.have_ffmpeg():
        return _probe_fallback(p)
    meta = _ffprobe(p)
    video = next((s for s in meta.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise VideoError(f"{path}: has no video stream")
    has_audio = any(s.get("codec_type") == "audio" for s in meta["streams"])
    try:
        duration = float(meta.get("format", {}).get("duration") or video.get("duration") or 0.0)
        width, height = int(video["width"]), int(video["height"])
        num, _, den = (video.get("avg_frame_rate") or video.get("r_frame_rate") or "0/1").partition("/")
        fps = float(num) / float(den or 1) if float(den or 1) else 0.0
    except (KeyError, TypeError, ValueError):
        raise VideoError(f"{path}: not a readable video (its video stream has no usable size or timing)") from None
    if width <= 0 or height <= 0:
        raise VideoError(f"{path}: not a readable video (frame size {width}x{height})")
    try:
        digest = content_hash(p)
    except OSError as exc:
        raise VideoError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return VideoInfo(path=str(p), duration=max(0.0, duration), width=width, height=height,
                     fps=round(fps, 3), has_audio=has_audio, content_hash=digest)


_INPUT = "videochat-input"
"""Stands in for the input path while ffmpeg-python builds a command: it cannot hash a non-UTF-8 name."""


def _file_arg(path: str | Path) -> str:
    """``path`` as an ffmpeg input: ``file:`` so a name like ``-x.mp4`` or ``http:x.mp4`` stays a local file."""
    return f"file:{path}"


def _ffmpeg_command(stream, path: str | Path, loglevel: str = "error") -> list[str]:
    """The ffmpeg command line of an ffmpeg-python ``stream`` built on ``ffmpeg.input(_INPUT)``."""
    args = [_file_arg(path) if a == _INPUT else a for a in stream.get_args()]
    return ["ffmpeg", "-nostdin", "-loglevel", loglevel, *args]


def _ffprobe(path: Path) -> dict:
    """ffprobe's JSON for ``path`` (format and streams), bounded by :data:`PROBE_TIMEOUT`."""
    cmd = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", "-i", _file_arg(path)]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise VideoError(f"{path}: not a readable video (ffprobe gave no answer in {PROBE_TIMEOUT:.0f} s)") from None
    detail = done.stderr.decode(errors="replace").strip().splitlines()
    try:
        meta = json.loads(done.stdout or b"{}")
    except ValueError:
        meta = {}
    if done.returncode != 0 or not meta.get("streams"):
        reason = detail[-1] if detail else "ffprobe found no streams"
        raise VideoError(f"{path}: not a readable video ({reason})")
    return meta


def _probe_fallback(p: Path) -> VideoInfo:
    try:
        meta = decode.probe_fallback(p)
    except Exception as exc:  # noqa: BLE001 - any decoder failure means: not a readable video
        raise VideoError(f"{p}: not a readable video ({exc})") from None
    return VideoInfo(path=str(p), duration=meta["duration"], width=meta["width"], height=meta["height"],
                     fps=round(meta["fps"], 3), has_audio=meta["has_audio"], content_hash=content_hash(p))


def _output_size(info: VideoInfo, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(info.width, info.height))
    # even sizes keep every pixel format happy
    return max(2, int(info.width * scale) // 2 * 2), max(2, int(info.height * scale) // 2 * 2)


def iter_keyframes(info: VideoInfo, fps: float = 1.0, batch_size: int = 8, max_side: int = 640,
                   scene_threshold: float | None = None, max_seconds: float | None = None,
                   start: float = 0.0) -> Iterator[list[Frame]]:
    """Yield batches of keyframes sampled at ``fps`` (or at scene changes) with their timestamps.

    With ``scene_threshold`` (0..1), frames whose scene-change score exceeds it are
    kept in addition to the regular samples; their exact times come from ffmpeg's
    ``showinfo`` filter. Decoding errors in the stream (corrupt frames) are skipped.
    Frames are scaled to ``max_side`` inside ffmpeg, so a huge frame never reaches
    Python at full size. If ffmpeg produces nothing for :data:`STALL_TIMEOUT`
    seconds while a frame is awaited, it is stopped and :class:`VideoError` raised.
    With ``max_seconds``, only the first ``max_seconds`` of the video are decoded; with ``start``, decoding
    begins there (ffmpeg seeks to it) and keyframe ``n`` is the frame on screen at ``start + n / fps``.
    """
    width, height = _output_size(info, max_side)
    if not decode.have_ffmpeg():
        frames = ((t, image) for t, image in decode.keyframes_fallback(info.path, fps, (width, height))
                  if t >= start - 1e-6)
        yield from _batched(frames, batch_size, max_seconds)
        return
    import ffmpeg

    stream = ffmpeg.input(_INPUT, **_input_options(max_seconds, start))
    if scene_threshold is None:
        # round=up: keyframe n is the frame on screen at n / fps (the default, near, takes the one ~0.5 / fps later)
        stream = stream.filter("fps", fps=fps, round="up")
    else:
        select = f"isnan(prev_selected_t)+gte(t-prev_selected_t,{1 / fps:.6f})+gt(scene,{scene_threshold})"
        stream = stream.filter("select", select).filter("showinfo")
    stream = stream.filter("scale", width, height)
    args = stream.output("pipe:", format="rawvideo", pix_fmt="rgb24", vsync="vfr" if scene_threshold else "cfr")
    proc = subprocess.Popen(_ffmpeg_command(args, info.path, "info" if scene_threshold else "error"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    times: list[float] = []
    reader = threading.Thread(target=_collect_showinfo_times, args=(proc.stderr, times), daemon=True)
    reader.start()
    frame_bytes = width * height * 3
    batch: list[Frame] = []
    index = 0
    try:
        while True:
            buf = _read_frame(proc.stdout.fileno(), frame_bytes, info.path)
            if buf is None:
                break
            image = np.frombuffer(buf, np.uint8).reshape(height, width, 3)
            if scene_threshold is None:
                t = start + index / fps
            else:
                reader.join(timeout=0.05) if len(times) <= index else None
                t = start + (times[index] if index < len(times) else index / fps)
            batch.append(Frame(time=round(t, 3), image=image))
            index += 1
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()


def _batched(frames, batch_size: int, max_seconds: float | None = None) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for t, image in frames:
        if max_seconds is not None and t >= max_seconds:
            break
        batch.append(Frame(time=t, image=image))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _read_frame(fd: int, size: int, path: str) -> bytes | None:
    """Read exactly ``size`` bytes from ffmpeg's pipe; None at its end; VideoError if it stalls."""
    buf = _read_up_to(fd, size, path, "frame")
    return buf if len(buf) == size else None


def _read_up_to(fd: int, size: int, path: str, what: str) -> bytes:
    """Read ``size`` bytes from ffmpeg's pipe, fewer at its end; VideoError if it stalls."""
    buf = bytearray()
    while len(buf) < size:
        ready, _, _ = select.select([fd], [], [], STALL_TIMEOUT)
        if not ready:
            raise VideoError(f"{path}: ffmpeg produced no {what} for {STALL_TIMEOUT:.0f} s; gave up")
        chunk = os.read(fd, min(size - len(buf), 1 << 20))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


_PTS_TIME = re.compile(rb"pts_time:\s*([0-9.]+)")


def _collect_showinfo_times(stderr, times: list[float]) -> None:
    for line in stderr:
        m = _PTS_TIME.search(line)
        if m:
            times.append(float(m.group(1)))


def _input_options(max_seconds: float | None, start: float = 0.0) -> dict:
    """ffmpeg input options: skip corrupt data; read from ``start`` (s) up to ``max_seconds`` of the file when given."""
    seek = {"ss": f"{start:.3f}"} if start > 0 else {}
    if max_seconds is not None:
        seek["t"] = f"{max(0.0, max_seconds - start):g}"
    return {"err_detect": "ignore_err", **seek}


AUDIO_BLOCK = 30.0
"""Seconds of audio :func:`iter_audio` reads at a time: what is in memory does not grow with the video."""


def load_audio(info: VideoInfo, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None) -> np.ndarray | None:
    """The whole audio track as 16 kHz mono float32 in [-1, 1], or ``None`` when the video has no audio.

    With ``max_seconds``, only the first ``max_seconds`` of the track are decoded. For a
    long video prefer :func:`iter_audio`, which holds one block at a time.
    """
    blocks = iter_audio(info, sample_rate, max_seconds)
    if blocks is None:
        return None
    return np.concatenate([np.zeros(0, np.float32), *blocks])


def iter_audio(info: VideoInfo, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None,
               block: float = AUDIO_BLOCK) -> Iterator[np.ndarray] | None:
    """The audio track as consecutive blocks of ``block`` seconds (16 kHz mono float32 in [-1, 1]; the last
    one shorter), or ``None`` when the video has no audio. ffmpeg decodes it into a pipe read block by block.

    With ``max_seconds``, only the first ``max_seconds`` of the track are decoded. Raises
    :class:`AudioUnavailable` when neither ffmpeg nor PyAV can decode it; :class:`VideoError`
    (while iterating) when ffmpeg fails or stalls.
    """
    if not info.has_audio:
        return None
    if not decode.have_ffmpeg():
        audio = decode.audio_fallback(info.path, sample_rate)
        if audio is None:
            raise AudioUnavailable("cannot decode audio without the ffmpeg program or PyAV (pip install av)")
        audio = audio[: int(max_seconds * sample_rate)] if max_seconds is not None else audio
        step = int(block * sample_rate)
        return (audio[i:i + step] for i in range(0, len(audio), step))
    return _ffmpeg_audio(info, sample_rate, max_seconds, int(block * sample_rate))


def _ffmpeg_audio(info: VideoInfo, sample_rate: int, max_seconds: float | None, samples: int) -> Iterator[np.ndarray]:
    import ffmpeg

    stream = (ffmpeg.input(_INPUT, **_input_options(max_seconds))
              .output("pipe:", format="s16le", acodec="pcm_s16le", ac=1, ar=sample_rate))
    proc = subprocess.Popen(_ffmpeg_command(stream, info.path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        while buf := _read_up_to(proc.stdout.fileno(), samples * 2, info.path, "audio"):
            audio = np.frombuffer(buf[: len(buf) // 2 * 2], np.int16).astype(np.float32)
            audio *= 1 / 32768.0
            yield audio
        if proc.wait() != 0:
            reader.join(timeout=1.0)
            detail = b"".join(errors).decode(errors="replace").strip().splitlines()
            raise VideoError(f"{info.path}: cannot decode audio ({detail[-1] if detail else 'ffmpeg failed'})")
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()
