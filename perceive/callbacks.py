"""Hooks into a perception run, for progress bars and timing (like ultralytics' callbacks).

The pipeline calls a :class:`PipelineCallbacks` around every piece of work it
does, so the CLI draws its progress bar and the bench measures each stage
without touching the stages themselves.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perceive.records import Observation, Perception, VideoInfo
    from perceive.stage import Stage


class PipelineCallbacks:
    """Override the hooks you need; each one does nothing by default."""

    def on_video_start(self, video: VideoInfo) -> None:
        """A video is about to be perceived (after every stage's ``start``)."""

    def on_stage_start(self, stage: Stage, step: str, frames: int) -> None:
        """``stage`` begins ``step`` (``"process"`` or ``"finish"``) on ``frames`` keyframes (0 for audio)."""

    def on_stage_end(self, stage: Stage, step: str, seconds: float, observations: list[Observation]) -> None:
        """``stage`` ended ``step`` after ``seconds`` with these ``observations``."""

    def on_progress(self, label: str, done: float, total: float) -> None:
        """Progress: ``label`` (a stage name, or ``"done"``) at ``done`` of ``total`` video seconds."""

    def on_video_end(self, perception: Perception) -> None:
        """The video's perception is complete."""

    def on_timing(self, step: str, seconds: float) -> None:
        """A step of the front door (``llm load``, ``perception``, ``context``, ``embeddings``, ...) took ``seconds``."""

    def on_note(self, text: str, kind: str = "note") -> None:
        """Something the user should know: a ``note`` (a skipped stage or model) or ``info`` (the LLM used)."""
