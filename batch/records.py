"""What a batch moves around: the record written per video, a job, a progress event.

:class:`TextualizedVideo` is one JSON line of ``videochat textualize``'s output.
Its ``context`` is the text :func:`chat.api.build_context` renders, the same
that ``videochat context`` prints and ``videochat ask`` fits to the LLM.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field, field_serializer

from perceive.records import SCHEMA_VERSION, ModelInfo, Observation, printable


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

    @field_serializer("notes")
    def _printable_notes(self, notes: list[str]) -> list[str]:
        return [printable(n) for n in notes]

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
"""Where a worker sends its progress."""
