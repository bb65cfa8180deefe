"""Fill a library: each new or changed video's typed context becomes entry rows (and vectors), one transaction each.

A video is new or changed when its path is not in the library with the same
content hash and perception settings key; anything else is skipped without
perceiving. The perception itself comes from the perception cache when it is
there (the front door's ``perceive``), so indexing what ``ask``, ``context`` or
``textualize`` already saw costs only the context and the vectors.

``textualize`` JSONL records (:class:`~batch.records.TextualizedVideo`, from
``--engine local`` or ``ray``) feed the same rows (:func:`ingest_records`):
their observations rebuild the perception, so the entries are the ones
indexing the video here would store.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from batch.records import TextualizedVideo
from library.records import Contextualize, EntryRecord
from library.search import embedder_name
from library.store import Library
from perceive.records import Perception, VideoInfo
from perceive.video import VideoError, content_hash, probe
from prompting.context import VideoContext
from prompting.retrieve import TextEmbedder

SKIPPED_KINDS = {"silence"}   # "No speech" spans hold no words to find

Perceive = Callable[[Path], Perception]


@dataclass
class IndexSummary:
    """What one index run did: videos added (new or changed), already current, failed (path, why)."""

    added: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (f"{len(self.added)} indexed, {len(self.current)} unchanged"
                + (f", {len(self.failed)} failed" if self.failed else ""))


def entry_records(context: VideoContext) -> list[EntryRecord]:
    """The rows of a context's timeline entries (``No speech`` spans left out)."""
    return [EntryRecord.of(e) for e in context.entries if e.kind not in SKIPPED_KINDS]


def store_video(library: Library, path: str, perception: Perception, context: VideoContext, settings_key: str,
                settings: dict, embedder: TextEmbedder | None) -> int:
    """Write one video's rows (its entries' vectors too, with an embedder) in one transaction."""
    rows = entry_records(context)
    vectors = embedder.embed([r.search for r in rows]) if embedder is not None and rows else None
    return library.put_video(path, perception.video.content_hash, settings_key, perception.video.duration, settings,
                             rows, vectors, embedder_name(embedder) if embedder is not None else None, perception)


def index_videos(library: Library, videos: Iterable[Path], settings_key: str, settings: dict, perceive: Perceive,
                 contextualize: Contextualize, embedder: TextEmbedder | None = None,
                 on_video: Callable[[str, str], None] | None = None) -> IndexSummary:
    """Index ``videos`` (skipping those current under ``settings_key``); ``on_video(path, status)`` after each."""
    summary = IndexSummary()
    for video in videos:
        path = str(Path(video).resolve())
        try:
            if library.current(path, content_hash(video), settings_key):
                summary.current.append(path)
                status = "unchanged"
            else:
                perception = perceive(Path(video))
                store_video(library, path, perception, contextualize(perception), settings_key, settings, embedder)
                summary.added.append(path)
                status = "indexed"
        except (OSError, VideoError, ValueError) as exc:   # one bad file must not stop the folder
            summary.failed.append((path, str(exc)))
            status = f"failed: {exc}"
        if on_video:
            on_video(path, status)
    return summary


def record_perception(record: TextualizedVideo) -> Perception:
    """The perception a textualize record was made from (the video probed again when it is here)."""
    try:
        info = probe(record.path)
    except VideoError:   # not on this machine (a cluster run): what the record says
        info = VideoInfo(path=record.path, duration=record.duration or 0.0, width=0, height=0, fps=0.0,
                         has_audio=any(o.stage == "asr" for o in record.observations or []))
    info.content_hash = record.content_hash
    return Perception(video=info, fps_sampled=record.fps, models=record.models or [],
                      observations=record.observations or [], notes=record.notes)


def ingest_records(library: Library, jsonl: str | Path, contextualize: Contextualize,
                   embedder: TextEmbedder | None = None,
                   on_video: Callable[[str, str], None] | None = None) -> IndexSummary:
    """Index the successful records of a ``textualize`` JSONL file (failed ones are listed as failed)."""
    summary = IndexSummary()
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            record = TextualizedVideo.model_validate_json(line)
            if not record.ok:
                summary.failed.append((record.path, record.error or "failed"))
                continue
            path = str(Path(record.path).resolve())
            if library.current(path, record.content_hash, record.settings_key):
                summary.current.append(path)
                status = "unchanged"
            else:
                perception = record_perception(record)
                store_video(library, path, perception, contextualize(perception), record.settings_key,
                            {"fps": record.fps, "stages": record.stages}, embedder)
                summary.added.append(path)
                status = "indexed"
            if on_video:
                on_video(path, status)
    return summary
