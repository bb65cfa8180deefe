"""The stage interface: one model, one job, lazy loading, an explicit lifecycle.

For every video the pipeline calls ``start(video)``, then ``process`` (a
:class:`SourceStage` once with the video file's record, before anything is
decoded; a :class:`FrameStage` once per keyframe batch, in time order, with the
observations earlier stages made on the same batch; an :class:`AudioStage`
once per block of the audio track, in time order), then ``finish()``. A stage keeps per-video state
only between ``start`` and ``finish``. Models load on first use, through the
process-wide :func:`~perceive.models.model_cache`, so two stages sharing a
model load it once.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from perceive.models import ModelUnavailable, ResolvedModel, model_cache
from perceive.records import ModelInfo, Observation, VideoInfo
from perceive.video import Frame


def int8_linear(model: Any) -> Any:
    """``model`` (changed in place) with its ``Linear`` layers quantized to int8 weights, activations on the fly (CPU).

    Quantizing costs about 2.4 s for BLIP-base on 2 cores, once per process (the model is cached).

    PyTorch's dynamic quantization (fbgemm, chosen at run time for the CPU: AVX2 or AVX-512, no build
    flags): transformer encoders and decoders run about 1.4x faster on 2 cores, and their outputs change
    a little, so only the ``fast`` profile asks for it (``int8`` stage option) and it is part of the cache key.
    """
    import warnings

    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # torch deprecates quantized tensors in favour of torchao
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


class Stage(ABC):
    """Base of every perception stage."""

    name: ClassVar[str]          # stage name used by --stages and in records
    extra_roles: ClassVar[dict[str, str]] = {}   # keyword -> registry role of optional helper models

    def __init__(self, model: ResolvedModel | None, device: str = "cpu"):
        self.spec = model
        self.device = device

    @property
    def model(self) -> Any:
        """The loaded model, loaded once per process on first access (None for a stage without one, ``shots``)."""
        if self.spec is None:
            return self.load_model()
        key = (type(self).load_model.__qualname__, self.spec.backend, self.spec.location, self.device,
               *self.load_options())
        return model_cache().get(key, self._load_or_say_why)

    def _load_or_say_why(self) -> Any:
        """:meth:`load_model`; a hub model that cannot be fetched (no network) is :class:`ModelUnavailable`,
        so its stage is skipped with a note that says how to provide it, not a traceback."""
        try:
            return self.load_model()
        except OSError as exc:   # ConnectionError, requests' and huggingface_hub's network errors
            if self.spec is None or self.spec.source != "hub":
                raise
            why = " ".join(str(exc).split())[:160]
            raise ModelUnavailable(
                f"{self.spec.role} model '{self.spec.location}' could not be downloaded ({type(exc).__name__}: "
                f"{why}); with a network, `videochat models pull` fetches it; offline, provide it with "
                f"--model {self.spec.role}=PATH") from exc

    def load_options(self) -> tuple:
        """Options that shape the loaded model beyond its location and device (part of its cache key)."""
        return ()

    @abstractmethod
    def load_model(self) -> Any:
        """Load and return the model from ``self.spec`` onto ``self.device``."""

    def info(self) -> ModelInfo:
        """The model record for headers and JSONL."""
        return self.spec.info()

    def specs(self) -> list[ResolvedModel]:
        """Every model this stage uses: its own, then any helper models (see ``extra_roles``)."""
        return [self.spec]

    def start(self, video: VideoInfo | None = None) -> None:
        """Get ready for a new video: forget whatever the previous one left."""

    def inputs(self, video: str | Path) -> str:
        """A digest of the files besides the video that shape this stage's output (part of the cache key; none: "")."""
        return ""

    def finish(self) -> list[Observation]:
        """Observations that need the whole video (e.g. track exits, the last window); called once at the end."""
        return []


class FrameStage(Stage):
    """A stage over keyframes, fed batch after batch."""

    @abstractmethod
    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        """Observations for one batch; ``earlier`` holds what previous stages saw in it."""


class SourceStage(Stage):
    """A stage that reads the video file itself, not its pictures or sound (e.g. its subtitle streams and files)."""

    notes: list[str] = []   # what the last ``process`` could not read, for the perception's notes

    @abstractmethod
    def process(self, video: VideoInfo, until: float | None = None) -> list[Observation]:
        """Observations of the whole file (those starting before ``until`` seconds, when given)."""


class AudioStage(Stage):
    """A stage over the 16 kHz mono audio track, fed block after block (memory stays flat in the track's length)."""

    @abstractmethod
    def process(self, audio: np.ndarray) -> list[Observation]:
        """Observations for the next block of the track (16 kHz mono float32); a stage may hold back
        the end of a block until the next one, or until :meth:`finish`."""

    def process_track(self, audio: np.ndarray) -> list[Observation]:
        """Observations for a whole track held in memory: ``start``, ``process`` and ``finish`` in one call."""
        self.start()
        return self.process(audio) + self.finish()
