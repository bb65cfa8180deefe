"""Write timeline reports (:mod:`prompting.report`) to disk: one per video, plus a batch index.

A report links its video by a path relative to the report (or a copy placed
beside it with ``copy_video``), so the folder can be moved or zipped as a whole.
The front door (:func:`chat.api.report`, ``ask(report=...)``, :func:`chat.api.report_chat`,
``textualize(report_dir=...)``) calls these; they take a perception and its
:class:`~prompting.context.VideoContext`, never rendered text.
"""
from __future__ import annotations

import os
import shutil
import webbrowser
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

from batch.records import TextualizedVideo
from perceive.pipeline import PerceptionSettings
from perceive.records import Perception
from prompting.context import VideoContext
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


def write_report(path: str | Path, perception: Perception, context: VideoContext, qa: Iterable[QA] = (),
                 settings: dict[str, object] | None = None, copy_video: bool = False,
                 thumbnails: bool = True) -> Path:
    """Render the report of ``perception`` (video at ``perception.video.path``) into ``path``.

    An unwritable ``path`` is a ``ValueError`` (one ``error:`` line in the CLI).
    """
    path = Path(path)
    video = Path(perception.video.path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        href = video_href(video, path, copy_video) if video.is_file() else None
        thumbs = extract_thumbnails(video, perception.video.duration) if thumbnails and video.is_file() else []
        path.write_text(render_report(perception, context, qa=list(qa), video_href=href, thumbnails=thumbs,
                                      settings=settings), encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot write the report {path}: {exc.strerror or exc}") from None
    return path


def open_report(path: str | Path) -> None:
    """Open a report in the default web browser."""
    webbrowser.open(Path(path).resolve().as_uri())


class BatchReports:
    """The batch's ``on_record`` hook: one report per textualized video into a folder, and ``index.html``.

    ``write(video, path)`` writes one video's report (the front door passes
    :func:`chat.api.report` with the batch's settings: the perception comes from
    the cache the batch just filled, the context is built the same way as the
    record's). Failed videos get an index row without a report.
    """

    def __init__(self, folder: str | Path, write: Callable[[str, Path], object]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.write = write
        self.entries: list[IndexEntry] = []
        self.names: set[str] = set()

    def _name(self, record: TextualizedVideo) -> str:
        stem = Path(record.path).stem or "video"
        name = f"{stem}.html"
        if name in self.names or name == "index.html":
            name = f"{stem}-{record.content_hash[:8] or len(self.names)}.html"
        self.names.add(name)
        return name

    def add(self, status: str, record: TextualizedVideo) -> None:
        """Write the report of one record (``status`` is ok, failed or skipped) and remember its index row."""
        entry = IndexEntry(video=record.path, status=status, duration=record.duration,
                           seconds=record.timings.get("total"), error=record.error)
        if record.ok:
            name = self._name(record)
            try:
                self.write(record.path, self.folder / name)
                entry.report_href = quote(name)
            except Exception as exc:  # a report that cannot be written must not stop the batch
                entry.error = f"report not written: {exc}"
        self.entries.append(entry)

    def finish(self) -> Path:
        """Write ``index.html`` listing every video seen; returns its path."""
        index = self.folder / "index.html"
        index.write_text(render_index(self.entries), encoding="utf-8")
        return index
