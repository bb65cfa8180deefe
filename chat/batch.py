"""``videochat textualize``: many videos in, one JSON line per video out, resumable.

The parent process plans the batch (expand the inputs, hash each file, skip
what the output already holds), hands the rest to an engine
(:mod:`chat.engines`) and is the only writer of the output. Each record is
appended as one complete line with a single write, then flushed to disk
(fsync), so a run killed at any moment leaves whole lines only, at worst
followed by one partial line that the next run cuts off before it resumes.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from chat.textualize import Job, StageEvent, TextualizedVideo, collect_videos, process_stages
from perceive.pipeline import PerceptionSettings
from perceive.records import printable
from perceive.video import content_hash

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None


class OutputBusy(ValueError):
    """Another run is appending to the same output file."""


class JsonlOutput:
    """An append-only JSONL file of :class:`TextualizedVideo` records that survives being killed.

    Opening it locks the file, cuts off a trailing partial line and reads the
    complete records already there (``records``); lines that do not validate are
    counted in ``invalid`` and otherwise left alone.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.records: list[TextualizedVideo] = []
        self.invalid = 0
        self.dropped_bytes = 0
        self._fd: int | None = None

    def __enter__(self) -> "JsonlOutput":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._fd)
                raise OutputBusy(f"{self.path} is being written by another textualize run") from None
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # killed in the middle of a write: drop the partial line
            self.dropped_bytes = len(data) - end
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        for line in data[:end].splitlines():
            if line.strip():
                try:
                    self.records.append(TextualizedVideo.model_validate_json(line))
                except ValidationError:
                    self.invalid += 1
        return self

    def append(self, record: TextualizedVideo) -> None:
        """Append ``record`` as one complete line: a single write, then fsync."""
        data = (record.model_dump_json() + "\n").encode()
        written = os.write(self._fd, data)
        while written < len(data):  # only on a full disk or a signal; O_APPEND keeps it contiguous
            written += os.write(self._fd, data[written:])
        os.fsync(self._fd)

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


@dataclass
class BatchSummary:
    """What a textualize run did."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    video_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def speed(self) -> float:
        """Seconds of video textualized per second of wall time."""
        return self.video_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def count(self, record: TextualizedVideo) -> None:
        if record.ok:
            self.ok += 1
            self.video_seconds += record.duration or 0.0
        else:
            self.failed += 1

    def table(self) -> Table:
        table = Table("ok", "failed", "skipped", "video s", "wall s", "video s / wall s", title="textualize")
        table.add_row(str(self.ok), str(self.failed), str(self.skipped), f"{self.video_seconds:.1f}",
                      f"{self.wall_seconds:.1f}", f"{self.speed:.2f}")
        return table


def plan(videos: list[Path], settings_key: str, settings: PerceptionSettings,
         done: set[tuple[str, str]]) -> tuple[list[Job], list[TextualizedVideo], int]:
    """Split ``videos`` into jobs to run, error records for unreadable files, and a count to skip.

    A video is skipped when a record with its content hash and settings key is
    already written (or when the same content appears earlier in this batch).
    """
    jobs, errors, skipped, seen = [], [], 0, set(done)
    for path in videos:
        try:
            digest = content_hash(path)
        except OSError as exc:
            record = TextualizedVideo(path=str(path), settings_key=settings_key, fps=settings.fps,
                                      stages=list(settings.stages), error=f"{path}: {exc.strerror or exc}")
            if record.resume_key() in seen:
                skipped += 1
            else:
                seen.add(record.resume_key())
                errors.append(record)
            continue
        if (digest, settings_key) in seen:
            skipped += 1
            continue
        seen.add((digest, settings_key))
        jobs.append(Job(str(path), digest, settings_key))
    return jobs, errors, skipped


class BatchProgress:
    """An overall bar over videos plus one line per worker showing its video and current stage."""

    def __init__(self, console: Console, total: int):
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[note]}"),
                            TimeElapsedColumn(), console=console, transient=True)
        self.total, self.done = total, 0
        self.overall = self.bar.add_task("[bold]videos", total=total, note=f"0/{total}")
        self.workers: dict[str, TaskID] = {}
        self.videos: dict[str, str] = {}  # worker -> the video it is on

    def stage(self, event: StageEvent) -> None:
        if event.worker not in self.workers:
            self.workers[event.worker] = self.bar.add_task("", total=1.0, note="")
        self.videos[event.worker] = event.video
        self.bar.update(self.workers[event.worker], description=f"  {event.worker}: {escape(event.video)} · {event.stage}",
                        completed=event.done / event.total if event.total else 0.0,
                        note=f"{event.done:.0f}/{event.total:.0f}s" if event.total else "")

    def finished(self, record: TextualizedVideo) -> None:
        self.done += 1
        self.bar.update(self.overall, completed=self.done, note=f"{self.done}/{self.total}")
        for worker, video in self.videos.items():
            if video == printable(Path(record.path).name):
                self.bar.update(self.workers[worker], description=f"  {worker}: idle", completed=0.0, note="")
        if not record.ok:
            self.bar.console.print(f"[red]failed:[/] {escape(printable(record.error or ''))}", highlight=False,
                                   soft_wrap=True)


def textualize_batch(inputs: list[str | Path], out: str | Path, settings: PerceptionSettings,
                     engine: str = "local", workers: int | None = None, ray_address: str | None = None,
                     use_cache: bool = True, console: Console | None = None) -> BatchSummary:
    """Textualize every video named by ``inputs`` into ``out`` (JSONL), resuming what is already there."""
    from chat.engines import make_engine

    console = console or Console(stderr=True)
    started = time.perf_counter()
    runner = make_engine(engine, workers, ray_address)
    videos = collect_videos(inputs)
    summary = BatchSummary()
    with JsonlOutput(out) as sink:
        if sink.dropped_bytes:
            console.print(f"[yellow]note:[/] dropped a partial last line ({sink.dropped_bytes} bytes) "
                          f"from {escape(printable(str(out)))}", highlight=False)
        if sink.invalid:
            console.print(f"[yellow]note:[/] {sink.invalid} line(s) of {escape(printable(str(out)))} are not valid records; "
                          "they are kept and their videos redone", highlight=False)
        stages, _ = process_stages(settings)  # resolves every model now: a bad --model fails before any work
        key = settings.cache_key(stages)
        jobs, errors, summary.skipped = plan(videos, key, settings, {r.resume_key() for r in sink.records})
        view = BatchProgress(console, len(jobs) + len(errors))
        with view.bar:
            for record in errors:
                sink.append(record)
                summary.count(record)
                view.finished(record)
            if jobs:
                for record in runner.run(jobs, settings, view.stage, use_cache):
                    sink.append(record)
                    summary.count(record)
                    view.finished(record)
    summary.wall_seconds = time.perf_counter() - started
    return summary
