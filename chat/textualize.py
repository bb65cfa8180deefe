"""Textualize one video: perceive it (through the shared cache) and build its textual context.

This is the unit of work of ``videochat textualize``: :func:`textualize_one`
turns a video path into one :class:`TextualizedVideo` record, the JSON line the
batch writes. It never raises for a bad video; the record carries an ``error``
instead. Stages (and so models) are built once per process and reused for every
video that process handles.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, field_serializer

from perceive.pipeline import PerceptionSettings
from perceive.records import SCHEMA_VERSION, ModelInfo, Observation, printable
from perceive.stage import Stage
from perceive.video import VIDEO_EXTENSIONS


class TextualizedVideo(BaseModel):
    """One line of a textualize JSONL file: a video, what was perceived in it and its textual context.

    When the video failed, ``error`` says why and the data fields
    (``models``, ``observations``, ``context``) are ``None``.
    """

    schema_version: int = SCHEMA_VERSION
    path: str = Field(description="The video path as it was given")
    content_hash: str = Field("", description="SHA-256 of the file's bytes (16 hex digits); '' if unreadable")
    settings_key: str = Field("", description="Digest of the perception settings and resolved models")
    fps: float = Field(description="Keyframes sampled per second")
    stages: list[str] = Field(description="Stages asked for")
    duration: float | None = Field(None, description="Video duration in seconds")
    models: list[ModelInfo] | None = Field(None, description="Models that ran, with real/random weights")
    observations: list[Observation] | None = None
    notes: list[str] = []
    context: str | None = Field(None, description="The textual video context an LLM answers from")
    timings: dict[str, float] = Field({}, description="Seconds per stage, plus 'context' and 'total'")
    cached: bool = Field(False, description="The perception came from the perception cache")
    error: str | None = Field(None, description="Why the video failed; None when it succeeded")

    @field_serializer("path", "error")
    def _printable(self, text: str | None) -> str | None:
        return None if text is None else printable(text)  # a non-UTF-8 file name, as JSON can carry it

    @property
    def ok(self) -> bool:
        return self.error is None

    def resume_key(self) -> tuple[str, str]:
        """What makes two records the same work: content (or path when unreadable) and settings."""
        return (self.content_hash or f"path:{printable(self.path)}", self.settings_key)


@dataclass(frozen=True)
class Job:
    """One video to textualize, with the content hash and settings key the parent computed for it."""

    path: str
    content_hash: str
    settings_key: str = ""


@dataclass(frozen=True)
class StageEvent:
    """Progress of one worker: which video it is on, which stage, how far (seconds)."""

    worker: str
    video: str
    stage: str
    done: float = 0.0
    total: float = 0.0


Report = Callable[[StageEvent], None]

_built: dict[str, tuple[list[Stage], list[str]]] = {}


def process_stages(settings: PerceptionSettings) -> tuple[list[Stage], list[str]]:
    """This process's stages for ``settings``: built on first use, then reused (models load once)."""
    from perceive.pipeline import build_stages

    key = repr(settings)
    if key not in _built:
        _built[key] = build_stages(settings)
    return _built[key]


def textualize_one(job: Job, settings: PerceptionSettings, report: Report | None = None,
                   worker: str = "main", use_cache: bool = True) -> TextualizedVideo:
    """Perceive ``job.path`` (through the perception cache) and build its context; errors become records."""
    from perceive.cache import cache_path, perceive_cached
    from prompting.context import build_context

    start = time.perf_counter()
    name = printable(Path(job.path).name)
    base = dict(path=job.path, content_hash=job.content_hash, settings_key=job.settings_key, fps=settings.fps,
                stages=list(settings.stages))
    emit = report or (lambda _event: None)
    try:
        emit(StageEvent(worker, name, "starting"))
        stages, notes = process_stages(settings)
        base["settings_key"] = job.settings_key or settings.cache_key(stages)  # the parent's key decides resumes
        cached = use_cache and bool(job.content_hash) and cache_path(job.content_hash, settings, stages).exists()
        perception = perceive_cached(job.path, settings, use_cache=use_cache, stages=stages, notes=notes,
                                     progress=lambda label, done, total: emit(StageEvent(worker, name, label,
                                                                                         done, total)))
        emit(StageEvent(worker, name, "context", perception.video.duration, perception.video.duration))
        t0 = time.perf_counter()
        context = build_context(perception, cleanup=None)
        timings = dict(perception.timings, context=round(time.perf_counter() - t0, 3))
    except Exception as exc:  # a bad video must never stop the batch
        return TextualizedVideo(**base, error=_describe(exc),
                                timings={"total": round(time.perf_counter() - start, 3)})
    timings["total"] = round(time.perf_counter() - start, 3)
    return TextualizedVideo(**dict(base, content_hash=perception.video.content_hash),
                            duration=perception.video.duration, models=perception.models,
                            observations=perception.observations, notes=perception.notes, context=context,
                            timings=timings, cached=cached)


def _describe(exc: Exception) -> str:
    from perceive.video import VideoError

    return str(exc) if isinstance(exc, VideoError) else f"{type(exc).__name__}: {exc}"


def collect_videos(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand files, folders (recursively, video extensions only) and path lists into video paths.

    A path list is ``@FILE`` or any ``.txt`` file: one path per line, blank lines
    and ``#`` comments ignored, relative paths taken from the list's folder.
    Files named directly are kept whatever their extension (and fail later if
    they are not videos); missing paths are kept too, so they get an error record.
    Duplicates are dropped, the first occurrence keeps its place.
    """
    seen: set[Path] = set()
    out: list[Path] = []
    for path in _expand(inputs, lists_allowed=True):
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def _expand(inputs: Iterable[str | Path], lists_allowed: bool, base: Path | None = None) -> Iterable[Path]:
    for item in inputs:
        text = str(item)
        is_list = text.startswith("@") or (text.endswith(".txt") and Path(text).is_file())
        if is_list and lists_allowed:
            listing = _relative(Path(text[1:] if text.startswith("@") else text), base)
            if not listing.is_file():
                raise FileNotFoundError(f"path list {listing} does not exist")
            lines = (ln.strip() for ln in listing.read_text().splitlines())
            yield from _expand([ln for ln in lines if ln and not ln.startswith("#")], False, listing.parent)
            continue
        path = _relative(Path(text).expanduser(), base)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
        else:
            yield path


def _relative(path: Path, base: Path | None) -> Path:
    return path if base is None or path.is_absolute() else base / path
