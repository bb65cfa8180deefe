"""The library's typed rows: an indexed entry, an indexed video, a search hit."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from perceive.records import Perception
from prompting.context import Entry, VideoContext, clock

Contextualize = Callable[[Perception], VideoContext]
"""How the library turns a stored perception into its typed context (the front door's ``context_of``)."""


class EntryRecord(BaseModel):
    """One timeline entry as stored: kind, span (seconds), its context line, retrieval text and language.

    ``text`` is the entry's text without its time prefix, ``line`` the whole
    context line, ``search`` the words retrieval compares (no counts or positions).
    """

    kind: str
    start: float
    end: float | None = None
    text: str
    line: str
    search: str = ""
    language: str | None = None

    @classmethod
    def of(cls, entry: Entry) -> EntryRecord:
        """The record of a context entry (its language: the speech observations' language, if any)."""
        language = next((o.language for o in entry.observations if o.language), None)
        return cls(kind=entry.kind, start=entry.start, end=entry.end, text=entry.text, line=entry.line(),
                   search=entry.search or entry.text, language=language)


class VideoRecord(BaseModel):
    """One indexed video: where it is, its content hash, its length and the perception settings it was read with."""

    id: int
    path: str
    content_hash: str
    settings_key: str
    duration: float | None = None
    settings: dict = {}

    @property
    def name(self) -> str:
        return Path(self.path).name


class Hit(BaseModel):
    """One search result: a moment of a video, the entry there and its hybrid score (reciprocal-rank fusion)."""

    video: str
    video_id: int
    kind: str
    start: float
    end: float | None = None
    line: str
    text: str
    score: float
    language: str | None = None

    @property
    def name(self) -> str:
        return Path(self.video).name

    def span(self) -> str:
        """``m:ss-m:ss`` (start rounded down, end up); one time for an instant."""
        end = clock(self.end, up=True) if self.end is not None else None
        return clock(self.start) + (f"-{end}" if end and end != clock(self.start) else "")
