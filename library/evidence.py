"""Evidence across videos: the best videos' typed contexts joined into one, each entry naming its video.

:func:`library_context` takes the videos that a hybrid search ranks first
(:data:`MAX_VIDEOS`), rebuilds each one's typed context from the perception
stored in the library, and joins their entries into one
:class:`~prompting.context.VideoContext` whose entries are :class:`VideoEntry`:
an entry's line reads ``Speech 0:03-0:06 in talk.mp4: "..."``. The one-video
answer path then reads it as it reads any context, and :func:`video_citation`
names the ``(video name, m:ss)`` of the entry that supports the answer.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from library.records import Contextualize, Hit
from library.store import Library
from perceive.records import VideoInfo
from prompting.cite import supporting_line
from prompting.context import KIND_ORDER, Entry, Header, VideoContext, clock

MAX_VIDEOS = 3


@dataclass(frozen=True)
class VideoEntry(Entry):
    """A timeline entry of one video of several: its line names the video after the time."""

    video: str = ""

    def prefix(self) -> str:
        return f"{super().prefix()} in {self.video}"


def tagged(entry: Entry, video: str) -> VideoEntry:
    """``entry`` as a :class:`VideoEntry` of ``video`` (a file name)."""
    return VideoEntry(**{f.name: getattr(entry, f.name) for f in fields(Entry)}, video=video)


def ranked_videos(hits: list[Hit], most: int = MAX_VIDEOS) -> list[int]:
    """The ids of the videos of ``hits``, best hit first, at most ``most``."""
    return list(dict.fromkeys(h.video_id for h in hits))[:most]


def library_context(library: Library, video_ids: list[int], contextualize: Contextualize) -> VideoContext:
    """One typed context over the entries of ``video_ids`` (in that order), each entry tagged with its video.

    The header describes the set (how many videos, the longest duration, the
    models that read them), not any one video: per-video facts would be
    wrong about the others, so they stay out.
    """
    entries: list[VideoEntry] = []
    models, durations, audio, fps = {}, [], False, 1.0
    for video_id in video_ids:
        perception = library.perception(video_id)
        if perception is None:
            continue
        name = Path(perception.video.path).name
        context = contextualize(perception)
        entries += [tagged(e, name) for e in context.entries]
        models.update({(m.role, m.name): m for m in perception.models})
        durations.append(perception.video.duration)
        audio = audio or perception.video.has_audio
        fps = perception.fps_sampled
    video = VideoInfo(path=f"{len(durations)} videos", duration=max(durations, default=0.0), width=0, height=0,
                      fps=0.0, has_audio=audio)
    header = Header(video, fps, tuple(models.values()))
    return VideoContext(header, sorted(entries, key=lambda e: (e.start, KIND_ORDER[e.kind], e.video)))


def video_citation(answer: str, context: VideoContext, fallback: Entry | None = None) -> str:
    """``" (talk.mp4, 0:03)"``: the video and time of the entry supporting ``answer`` (else ``fallback``'s);
    ``""`` when neither is a :class:`VideoEntry`."""
    entry = supporting_line(answer, context, min_overlap=1) or fallback
    if not isinstance(entry, VideoEntry):
        return ""
    return f" ({entry.video}, {clock(entry.start)})"
