"""A batch run: many videos in, one JSON line per video out, resumable.

The parent process plans the batch (expand the inputs, hash each file, skip
what the output already holds), hands the rest to an engine
(:mod:`batch.engines`) and is the only writer of the output
(:class:`~batch.output.JsonlOutput`). What happens to one video is the
caller's :class:`~batch.engines.Unit` (``chat.api.textualize`` passes the
front door's own); the batch package never assembles perception and context itself.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from batch.engines import Unit, make_engine
from batch.inputs import collect_videos
from batch.output import JsonlOutput
from batch.records import Job, StageEvent, TextualizedVideo
from perceive.records import printable
from perceive.video import content_hash

OnRecord = Callable[[str, TextualizedVideo], None]
"""A hook that sees each video's record once it is settled, with its status (ok, failed, skipped)."""

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


def plan(videos: list[Path], settings_key: str, unit: Unit,
         done: set[tuple[str, str]]) -> tuple[list[Job], list[TextualizedVideo], list[tuple[Path, tuple[str, str]]]]:
    """Split ``videos`` into jobs to run, error records for unreadable files, and the videos to skip.

    A video is skipped when a record with its content hash and settings key is
    already written (or when the same content appears earlier in this batch);
    each skipped video comes with that record's resume key.
    """
    jobs, errors, skipped, seen = [], [], [], set(done)
    for path in videos:
        try:
            digest = content_hash(path)
        except OSError as exc:
            record = unit.failed(Job(str(path), "", settings_key), f"{path}: {exc.strerror or exc}")
            if record.resume_key() in seen:
                skipped.append((path, record.resume_key()))
            else:
                seen.add(record.resume_key())
                errors.append(record)
            continue
        if (digest, settings_key) in seen:
            skipped.append((path, (digest, settings_key)))
            continue
        seen.add((digest, settings_key))
        jobs.append(Job(str(path), digest, settings_key))
    return jobs, errors, skipped


class BatchProgress:
    """An overall bar over videos plus one line per worker showing its video, current stage and the time left
    for the whole video (ASR included: the pipeline reports one position over all its work). Without a
    terminal, one line per video once it is done."""

    def __init__(self, console: Console, total: int):
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[note]}"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                            transient=True)
        self.lines = not console.is_terminal
        self.total, self.done = total, 0
        self.overall = self.bar.add_task("[bold]videos", total=total, note=f"0/{total}")
        self.workers: dict[str, TaskID] = {}
        self.videos: dict[str, str] = {}  # worker -> the video it is on

    def stage(self, event: StageEvent) -> None:
        if event.worker not in self.workers:
            self.workers[event.worker] = self.bar.add_task("", total=1.0, note="")
        if self.videos.get(event.worker) != event.video:   # a new video: its time left is estimated afresh
            self.bar.reset(self.workers[event.worker])
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
        elif self.lines:
            took = (record.timings or {}).get("total")
            self.bar.console.print(f"{self.done}/{self.total} {escape(printable(record.path))}: "
                                   f"{record.duration or 0:.1f} s of video"
                                   + (f" in {took:.1f} s" if took is not None else ""), highlight=False, soft_wrap=True)


def run_batch(inputs: list[str | Path], out: str | Path, unit: Unit, engine: str = "local",
              workers: int | None = None, ray_address: str | None = None,
              console: Console | None = None, on_record: OnRecord | None = None) -> BatchSummary:
    """Run ``unit`` on every video named by ``inputs`` into ``out`` (JSONL), resuming what is already there.

    ``on_record(status, record)`` sees every video's record as it is settled:
    status ``ok``, ``failed`` or ``skipped`` (the record from an earlier run, with this run's path).
    """
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
        key = unit.key()  # resolves every model now: a bad --model fails before any work
        jobs, errors, skipped = plan(videos, key, unit, {r.resume_key() for r in sink.records})
        summary.skipped = len(skipped)
        settled = on_record or (lambda _status, _record: None)
        if on_record:
            earlier = {r.resume_key(): r for r in sink.records}
            for path, resume_key in skipped:
                if resume_key in earlier:
                    on_record("skipped", earlier[resume_key].model_copy(update={"path": str(path)}))
        view = BatchProgress(console, len(jobs) + len(errors))
        with view.bar:
            for record in errors:
                sink.append(record)
                summary.count(record)
                view.finished(record)
                settled("failed", record)
            if jobs:
                for record in runner.run(jobs, unit, view.stage):
                    sink.append(record)
                    summary.count(record)
                    view.finished(record)
                    settled("ok" if record.ok else "failed", record)
    summary.wall_seconds = time.perf_counter() - started
    return summary
