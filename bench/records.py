"""Typed results of a benchmark or quality run; they serialize to the ``--json`` file."""
from __future__ import annotations

import os
import platform
from datetime import datetime, timezone

from pydantic import BaseModel, Field


class StageRow(BaseModel):
    """One row of a clip's stage table: a stage (or decoding, context building) and what it cost."""

    stage: str
    model: str = ""
    weights: str = ""                 # "real", "random" or "" (no model)
    device: str = ""
    threads: int | None = None        # torch threads when it ran
    load_s: float = 0.0               # model load
    wall_s: float = 0.0               # processing, without the model load
    cpu_s: float = 0.0                # CPU seconds of the processing, all threads
    frames: int | None = None         # keyframes it saw
    video_s: float = Field(0.0, description="Seconds of video processed")
    rss_load_mb: float = 0.0          # RSS growth while the model loaded
    rss_peak_mb: float = 0.0          # RSS peak while it loaded or ran

    @property
    def realtime_factor(self) -> float | None:
        """Wall seconds per second of video (below 1 is faster than real time)."""
        return self.wall_s / self.video_s if self.video_s else None

    @property
    def video_per_wall(self) -> float | None:
        """Seconds of video processed per wall second."""
        return self.video_s / self.wall_s if self.wall_s and self.video_s else None

    @property
    def fps(self) -> float | None:
        """Keyframes per wall second."""
        return self.frames / self.wall_s if self.frames and self.wall_s else None


class Question(BaseModel):
    """One question asked of the LLM and how long its answer took."""

    question: str
    answer: str = ""
    first_token_s: float | None = None   # from the ask call to the first streamed piece
    answer_s: float = 0.0                # from the ask call to the end of the answer
    answer_tokens: int = 0
    prompt_tokens: int = 0               # system prompt (with the fitted context), history and question
    prompt_tok_s: float | None = None    # prompt tokens the local engine evaluated per second (not cached ones)
    prompt_eval_s: float | None = None   # seconds the local engine took to evaluate them
    answer_tok_s: float | None = None    # tokens the local engine wrote per second (answers held back until
                                         # checked arrive at once: their speed is the engine's, not the stream's)


class AskRun(BaseModel):
    """``ask`` end to end: what it took before the question, and the questions asked."""

    label: str
    import_s: float = 0.0
    llm_load_s: float = 0.0
    perception_s: float = 0.0
    cleanup_load_s: float = 0.0
    context_s: float = 0.0             # context building, cleanup rewrites included
    embed_s: float = 0.0               # embedder load and the entries' embeddings (read back when cached)
    questions: list[Question] = []
    llm: str = ""
    cleanup: str = ""
    torch_threads: int | None = None   # when the cleanup model ran
    peak_rss_mb: float = 0.0


class ClipRun(BaseModel):
    """Everything measured on one clip."""

    clip: str
    duration: float
    resolution: str
    has_audio: bool
    keyframes: int = 0
    stages: list[StageRow] = []
    import_s: float = 0.0
    textualize_s: float = 0.0          # model loads + perception + context (``videochat textualize``)
    textualize_cpu_s: float = 0.0
    peak_rss_mb: float = 0.0           # ru_maxrss of the clip's own process
    notes: list[str] = []
    ask: AskRun | None = None
    cached_ask: AskRun | None = None   # a new process asking about the now cached video
    error: str | None = None


class Machine(BaseModel):
    """Where a run happened."""

    host: str = Field(default_factory=platform.node)
    cpu: str = Field(default_factory=lambda: _cpu_name())
    cores: int = Field(default_factory=lambda: len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else os.cpu_count() or 1)
    python: str = Field(default_factory=platform.python_version)
    load_average: float = Field(default_factory=lambda: os.getloadavg()[0],
                                description="1-minute load average when the run started")
    time: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


class BenchRun(BaseModel):
    """A ``python -m bench`` run: the machine, the model set and one record per clip."""

    machine: Machine = Field(default_factory=Machine)
    models: str
    models_note: str = ""
    fps: float = 1.0
    profile: str = "default"
    device: str = "auto"
    clips: list[ClipRun] = []
    load_average_end: float | None = None


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
