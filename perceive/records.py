"""Typed records shared by every stage: what a video is and what was seen in it.

All records are pydantic models, so they serialize to JSON (``model_dump_json``)
and validate on the way back in (``model_validate_json``).
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_serializer

SCHEMA_VERSION = 1

StageName = Literal["asr", "detection", "track", "colour", "clothing", "ocr", "shot", "tag", "setting", "caption",
                    "dense_caption", "action", "note"]
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


class Perception(BaseModel):
    """Everything the perception pipeline produced for one video."""

    schema_version: int = SCHEMA_VERSION
    video: VideoInfo
    fps_sampled: float
    models: list[ModelInfo] = []
    observations: list[Observation] = []
    notes: list[str] = []
    timings: dict[str, float] = {}

    def by_stage(self, stage: str) -> list[Observation]:
        """The observations of one stage, in time order."""
        return sorted((o for o in self.observations if o.stage == stage), key=lambda o: o.start)
