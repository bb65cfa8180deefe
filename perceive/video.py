"""Reading a video with ffmpeg: probe it, stream keyframes in batches, extract audio.

Frames are decoded by an ``ffmpeg`` subprocess that writes raw RGB to a pipe,
so at most one batch of keyframes is ever in memory. Without the ffmpeg
programs (a bare GPU machine) :mod:`perceive.decode` reads the video with PyAV or OpenCV.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perceive import decode
from perceive.records import VideoInfo

SAMPLE_RATE = 16_000
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
    import ffmpeg

    try:
        meta = ffmpeg.probe(str(p))
    except ffmpeg.Error as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise VideoError(f"{path}: not a readable video ({detail[-1] if detail else 'ffprobe failed'})") from None
    video = next((s for s in meta.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise VideoError(f"{path}: has no video stream")
    has_audio = any(s.get("codec_type") == "audio" for s in meta["streams"])
    duration = float(meta.get("format", {}).get("duration") or video.get("duration") or 0.0)
    num, _, den = (video.get("avg_frame_rate") or video.get("r_frame_rate") or "0/1").partition("/")
    fps = float(num) / float(den or 1) if float(den or 1) else 0.0
    return VideoInfo(path=str(p), duration=duration, width=int(video["width"]), height=int(video["height"]),
                     fps=round(fps, 3), has_audio=has_audio, content_hash=content_hash(p))


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
                   scene_threshold: float | None = None) -> Iterator[list[Frame]]:
    """Yield batches of keyframes sampled at ``fps`` (or at scene changes) with their timestamps.

    With ``scene_threshold`` (0..1), frames whose scene-change score exceeds it are
    kept in addition to the regular samples; their exact times come from ffmpeg's
    ``showinfo`` filter. Decoding errors in the stream (corrupt frames) are skipped.
    """
    width, height = _output_size(info, max_side)
    if not decode.have_ffmpeg():
        yield from _batched(decode.keyframes_fallback(info.path, fps, (width, height)), batch_size)
        return
    import ffmpeg

    stream = ffmpeg.input(info.path, err_detect="ignore_err")
    if scene_threshold is None:
        stream = stream.filter("fps", fps=fps)
    else:
        select = f"isnan(prev_selected_t)+gte(t-prev_selected_t,{1 / fps:.6f})+gt(scene,{scene_threshold})"
        stream = stream.filter("select", select).filter("showinfo")
    stream = stream.filter("scale", width, height)
    args = stream.output("pipe:", format="rawvideo", pix_fmt="rgb24", vsync="vfr" if scene_threshold else "cfr")
    proc = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "info" if scene_threshold else "error",
                             *args.get_args()], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    times: list[float] = []
    reader = threading.Thread(target=_collect_showinfo_times, args=(proc.stderr, times), daemon=True)
    reader.start()
    frame_bytes = width * height * 3
    batch: list[Frame] = []
    index = 0
    try:
        while True:
            buf = proc.stdout.read(frame_bytes)
            if len(buf) < frame_bytes:
                break
            image = np.frombuffer(buf, np.uint8).reshape(height, width, 3)
            if scene_threshold is None:
                t = index / fps
            else:
                reader.join(timeout=0.05) if len(times) <= index else None
                t = times[index] if index < len(times) else index / fps
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


def _batched(frames, batch_size: int) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for t, image in frames:
        batch.append(Frame(time=t, image=image))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


_PTS_TIME = re.compile(rb"pts_time:\s*([0-9.]+)")


def _collect_showinfo_times(stderr, times: list[float]) -> None:
    for line in stderr:
        m = _PTS_TIME.search(line)
        if m:
            times.append(float(m.group(1)))


def load_audio(info: VideoInfo, sample_rate: int = SAMPLE_RATE) -> np.ndarray | None:
    """The audio track as 16 kHz mono float32 in [-1, 1], or ``None`` when the video has no audio."""
    if not info.has_audio:
        return None
    if not decode.have_ffmpeg():
        audio = decode.audio_fallback(info.path, sample_rate)
        if audio is None:
            raise AudioUnavailable("cannot decode audio without the ffmpeg program or PyAV (pip install av)")
        return audio
    import ffmpeg

    try:
        out, _ = (
            ffmpeg.input(info.path, err_detect="ignore_err")
            .output("pipe:", format="s16le", acodec="pcm_s16le", ac=1, ar=sample_rate)
            .run(cmd=["ffmpeg", "-nostdin"], capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise VideoError(f"{info.path}: cannot decode audio ({detail[-1] if detail else 'ffmpeg failed'})") from None
    return np.frombuffer(out, np.int16).astype(np.float32) / 32768.0
