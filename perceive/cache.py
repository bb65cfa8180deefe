"""The perception cache: one JSON file per (video content hash, settings) pair.

It lives under :func:`perceive.paths.cache_root` (``$VIDEOCHAT_CACHE``, default
``~/.cache/videochat``); ``ask``,
``chat``, ``context`` and ``textualize`` share it, so a video is perceived once
per settings. Files are written to a temporary name and renamed, so a crash
never leaves a truncated entry.
"""
from __future__ import annotations

import os
from pathlib import Path

from perceive.callbacks import PipelineCallbacks
from perceive.paths import cache_root
from perceive.pipeline import PerceptionSettings, build_stages, perceive_video
from perceive.records import Note, Perception
from perceive.stage import Stage
from perceive.video import probe


def cache_dir() -> Path:
    """Where cached perceptions live."""
    return cache_root() / "perception"


def cache_path(video_hash: str, settings: PerceptionSettings, stages: list[Stage],
               video: str | Path | None = None) -> Path:
    """The cache file for a video's content hash and these settings (and the files beside ``video`` its stages read)."""
    return cache_dir() / f"{video_hash}-{settings.cache_key(stages, video)}.json"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def perceive_cached(video: str | Path, settings: PerceptionSettings | None = None,
                    callbacks: PipelineCallbacks | None = None, use_cache: bool = True,
                    stages: list[Stage] | None = None, notes: list[Note] | None = None) -> Perception:
    """Like :func:`perceive_video`, but reuse (and fill) the cache."""
    settings = settings or PerceptionSettings()
    info = probe(video)  # fails early, with a clear message, on a bad input
    if stages is None:
        stages, notes = build_stages(settings)
    path = cache_path(info.content_hash, settings, stages, video)
    if use_cache and path.exists():
        cached = Perception.model_validate_json(path.read_text())
        cached.video.path = str(video)
        return cached
    result = perceive_video(video, settings, stages=stages, notes=notes, callbacks=callbacks, info=info)
    write_atomic(path, result.model_dump_json())
    return result
