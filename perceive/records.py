"""Typed records shared by every stage: what a video is and what was seen in it.

All records are pydantic models, so they serialize to JSON (``model_dump_json``)
and validate on the way back in (``model_validate_json``).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_serializer, field_validator

SCHEMA_VERSION = 1

StageName = Literal["asr", "detection", "track", "colour", "clothing", "ocr", "subtitle", "shot", "tag", "setting",
                    "caption", "dense_caption", "action", "note"]
Weights = Literal["real", "random"]


def printable(text: str) -> str:
    """``text`` safe to print or JSON-encode, for file names that are not UTF-8.

    Linux file names are bytes; Python hands undecodable bytes over as lone
    surrogates (``os.fsdecode``), which no UTF-8 writer accepts. Those bytes
    become U+FFFD replacement characters here. Use it wherever a name is shown
    or serialized, never for the path a file is opened with.
    """
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that no file name produced
        return text.encode("utf-8", "replace").decode("utf-8")


class Box(BaseModel):
    """An axis-aligned box in normalized image coordinates (0..1, origin top-left)."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def area(self) -> float:
        return max(0.0, self.x2 - self.x1) * max(0.0, self.y2 - self.y1)

    def position(self) -> str:
        """A coarse position word for the box center, e.g. ``"top left"`` or ``"center"``."""
        cx, cy = self.center
        horizontal = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "center"
        vertical = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else ""
        if vertical and horizontal == "center":
            return vertical
        return f"{vertical} {horizontal}".strip()


class Observation(BaseModel):
    """One thing a stage saw or heard, at a time or over a time span (seconds)."""

    start: float = Field(description="Time in seconds where the observation begins")
    end: float | None = Field(default=None, description="End of the span; None for an instant")
    stage: StageName
    text: str = Field(description="Human-readable content: a caption, a label, a speech line")
    label: str | None = None
    score: float | None = None
    box: Box | None = None
    position: str | None = None
    track_id: int | None = None
    language: str | None = Field(default=None, description="ISO 639-1 code of the speech, e.g. 'de'")
    language_probability: float | None = Field(default=None, description="How sure the language detection was (0..1)")


class ModelInfo(BaseModel):
    """Which model ran a stage, where it came from, and whether its weights are real."""

    role: str
    name: str
    source: str = Field(description="hub, path or package")
    weights: Weights
    backend: str | None = None

    def describe(self) -> str:
        backend = f" ({self.backend})" if self.backend else ""
        return f"{self.role}: {self.name}{backend}, {self.weights} weights"


class VideoInfo(BaseModel):
    """What ffprobe says about a video file, plus its content hash."""

    path: str
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool
    content_hash: str = ""

    @field_serializer("path")
    def _printable_path(self, path: str) -> str:
        return printable(path)  # the record keeps the real path; JSON gets a printable one


NO_MODEL = "model not available"
"""The reason of a :meth:`Note.no_model`."""


class Note(BaseModel):
    """Something the user should know about a run, typed: the stage it concerns, why, and how to fix it.

    With a ``stage`` the note says that stage (or the ``cleanup``) did not run; without one it is about the
    whole run (``--max-seconds``, a truncated file). ``missing_model``: skipped for want of a model, which
    the user can provide (``fix`` says how). The text is made here, once, by :meth:`render`; nothing reads
    it back.
    """

    stage: str | None = None
    reason: str
    fix: str | None = None
    missing_model: bool = False

    @classmethod
    def no_model(cls, stage: str, exc: Exception) -> Note:
        """The note for a stage (or the cleanup) skipped because its model cannot be had; ``exc`` says which
        model and how to provide it."""
        return cls(stage=stage, reason=NO_MODEL, fix=str(exc), missing_model=True)

    def why(self, fix: bool = True) -> str:
        """The reason, and with ``fix`` what to do about it: ``model not available; provide it with ...``."""
        return f"{self.reason}; {self.fix}" if fix and self.fix else self.reason

    def render(self, fix: bool = True) -> str:
        """One line for the user: ``asr skipped: the video has no audio track`` (``fix``: with the remedy)."""
        return f"{self.stage} skipped: {self.why(fix)}" if self.stage else self.why(fix)

    @classmethod
    def legacy(cls, text: str) -> Note:
        """A note from a perception cached before notes were typed (a ``"<stage> skipped: <why>"`` string)."""
        stage, sep, why = text.partition(" skipped: ")
        if not sep or not stage or " " in stage:
            return cls(reason=text)
        reason, _, fix = why.partition("; ") if why.startswith(NO_MODEL + ";") else (why, "", "")
        return cls(stage=stage, reason=reason, fix=fix or None, missing_model=reason == NO_MODEL)


class Perception(BaseModel):
    """Everything the perception pipeline produced for one video."""

    schema_version: int = SCHEMA_VERSION
    video: VideoInfo
    fps_sampled: float
    models: list[ModelInfo] = []
    observations: list[Observation] = []
    notes: list[Note] = []
    timings: dict[str, float] = {}

    @field_validator("notes", mode="before")
    @classmethod
    def _typed_notes(cls, notes: list) -> list:
        return [Note.legacy(n) if isinstance(n, str) else n for n in notes]   # cache entries of before the types

    def by_stage(self, stage: str) -> list[Observation]:
        """The observations of one stage, in time order."""
        return sorted((o for o in self.observations if o.stage == stage), key=lambda o: o.start)
