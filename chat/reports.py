"""Write timeline reports (:mod:`prompting.report`) to disk for the CLI: one per video, plus a batch index.

A report links its video by a path relative to the report (or a copy placed
beside it with ``copy_video``), so the folder can be moved or zipped as a whole.
"""
from __future__ import annotations

import os
import shutil
import webbrowser
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from chat.textualize import TextualizedVideo
from perceive.pipeline import PerceptionSettings
from perceive.records import Perception, VideoInfo
from perceive.video import VideoError, probe
from prompting.report import QA, IndexEntry, render_index, render_report
from prompting.thumbnails import extract_thumbnails


def report_settings(settings: PerceptionSettings, **extra: object) -> dict[str, object]:
    """The perception settings a report header shows (plus ``extra``, e.g. the LLM)."""
    return {"fps": settings.fps, "stages": list(settings.stages), "scene threshold": settings.scene_threshold,
            "max side": settings.max_side, "device": settings.device or "auto", **extra}


def video_href(video: str | Path, report: str | Path, copy: bool = False) -> str:
    """The URL of ``video`` relative to the ``report`` file (copying the video beside it when ``copy``)."""
    video, folder = Path(video), Path(report).resolve().parent
    if copy:
        target = folder / video.name
        if not target.exists() or not os.path.samefile(video, target):
            shutil.copy2(video, target)
        return quote(video.name)
    try:
        relative = os.path.relpath(video.resolve(), folder)
    except ValueError:  # another drive (Windows): an absolute file URL
        return video.resolve().as_uri()
    return quote(Path(relative).as_posix())


def write_report(path: str | Path, perception: Perception, context: str, qa: Iterable[QA] = (),
                 settings: dict[str, object] | None = None, copy_video: bool = False,
                 thumbnails: bool = True) -> Path:
    """Render the report of ``perception`` (video at ``perception.video.path``) into ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    video = Path(perception.video.path)
    href = video_href(video, path, copy_video) if video.is_file() else None
    thumbs = extract_thumbnails(video, perception.video.duration) if thumbnails and video.is_file() else []
    path.write_text(render_report(perception, context, qa=list(qa), video_href=href, thumbnails=thumbs,
                                  settings=settings), encoding="utf-8")
    return path


def open_report(path: str | Path) -> None:
    """Open a report in the default web browser."""
    webbrowser.open(Path(path).resolve().as_uri())


def perception_of(record: TextualizedVideo) -> Perception:
    """A :class:`Perception` back from a successful textualize record (the file is probed for its size)."""
    try:
        info = probe(record.path)
    except VideoError:
        info = VideoInfo(path=record.path, duration=record.duration or 0.0, width=0, height=0, fps=0.0,
                         has_audio=False, content_hash=record.content_hash)
    return Perception(video=info, fps_sampled=record.fps, models=record.models or [],
                      observations=record.observations or [], notes=record.notes, timings=record.timings)


class BatchReports:
    """Writes one report per textualized video into a folder and, at the end, ``index.html``."""

    def __init__(self, folder: str | Path, settings: PerceptionSettings):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.entries: list[IndexEntry] = []
        self.names: set[str] = set()

    def _name(self, record: TextualizedVideo) -> str:
        stem = Path(record.path).stem or "video"
        name = f"{stem}.html"
        if name in self.names:
            name = f"{stem}-{record.content_hash[:8] or len(self.names)}.html"
        self.names.add(name)
        return name

    def add(self, status: str, record: TextualizedVideo) -> None:
        """Write the report of one record (``status`` is ok, failed or skipped) and remember its index row."""
        entry = IndexEntry(video=record.path, status=status, duration=record.duration,
                           seconds=record.timings.get("total"), error=record.error)
        if record.ok and record.observations is not None:
            name = self._name(record)
            try:
                write_report(self.folder / name, perception_of(record), record.context or "",
                             settings=report_settings(self.settings))
                entry.report_href = quote(name)
            except OSError as exc:
                entry.error = f"report not written: {exc}"
        self.entries.append(entry)

    def finish(self) -> Path:
        """Write ``index.html`` listing every video seen; returns its path."""
        index = self.folder / "index.html"
        index.write_text(render_index(self.entries), encoding="utf-8")
        return index
