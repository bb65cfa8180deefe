"""Speech recognition: the audio track becomes timestamped lines of speech.

Two Whisper backends read the same 16 kHz mono audio:

* ``faster-whisper`` (CTranslate2; the default, int8 on CPU, float16 on CUDA),
  loaded from a converted model folder or a name such as ``tiny.en``;
* ``whisper`` (openai-whisper, PyTorch), loaded from a ``.pt`` checkpoint or a
  name such as ``tiny``.

Every segment Whisper emits becomes one :class:`~perceive.records.Observation`
with its time span (clamped to the audio), its text, the language and a
confidence: the segment's mean token probability, ``exp(avg_logprob)``.
Decoding is greedy at temperature 0 without conditioning on the previous
window by default: fast on a CPU, and a repetition loop cannot spread from one
30-second window to the next.
"""
from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from perceive.models import ResolvedModel, is_offline
from perceive.records import Observation
from perceive.stage import AudioStage
from perceive.video import SAMPLE_RATE


class Segment(NamedTuple):
    """One decoded stretch of speech, as either backend reports it."""

    start: float
    end: float
    text: str
    avg_logprob: float
    language: str | None


class AsrStage(AudioStage):
    """Transcribe the audio track with Whisper (faster-whisper or openai-whisper)."""

    name = "asr"

    def __init__(self, model: ResolvedModel, device: str = "cpu", language: str | None = None,
                 beam_size: int = 1, temperature: float | Sequence[float] = 0.0,
                 condition_on_previous_text: bool = False, vad_filter: bool = True,
                 cpu_threads: int | None = None):
        """``language`` None detects it; ``vad_filter`` (faster-whisper only) skips non-speech with Silero VAD;
        ``cpu_threads`` (faster-whisper on CPU; default: every core) leaves cores to stages running beside it."""
        super().__init__(model, device)
        self.language = language
        self.beam_size = beam_size
        self.temperature = temperature
        self.condition_on_previous_text = condition_on_previous_text
        self.vad_filter = vad_filter
        self.cpu_threads = cpu_threads

    def load_options(self) -> tuple:
        return (self.cpu_threads,)

    def load_model(self) -> Any:
        """Load the Whisper model named by the registry onto ``self.device``."""
        if self.spec.backend == "whisper":
            import whisper

            return whisper.load_model(self.spec.location, device=self.device)
        from faster_whisper import WhisperModel

        kind, _, index = self.device.partition(":")
        torch = sys.modules.get("torch")
        threads = torch.get_num_threads() if torch else None
        try:
            return WhisperModel(self.spec.location, device=kind, device_index=int(index or 0),
                                compute_type="float16" if kind == "cuda" else "int8",
                                cpu_threads=self.cpu_threads or os.cpu_count() or 0, local_files_only=is_offline())
        finally:
            if threads:  # CTranslate2 sets the calling thread's OpenMP thread count: torch's stages keep theirs
                torch.set_num_threads(threads)

    def process(self, audio: np.ndarray) -> list[Observation]:
        """One observation per non-empty segment of ``audio`` (16 kHz mono float32)."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        duration = len(audio) / SAMPLE_RATE
        if duration < 0.1:
            return []
        segments = self._openai_segments(audio) if self.spec.backend == "whisper" else self._faster_segments(audio)
        observations = []
        for seg in segments:
            text = seg.text.strip()
            start = min(max(0.0, seg.start), duration)
            if not text or start >= duration:
                continue
            end = min(max(start, seg.end), duration)
            score = math.exp(min(0.0, seg.avg_logprob)) if math.isfinite(seg.avg_logprob) else 0.0
            observations.append(Observation(start=round(start, 2), end=round(end, 2), stage="asr", text=text,
                                            score=round(score, 3), language=seg.language))
        return observations

    def _faster_segments(self, audio: np.ndarray) -> Iterator[Segment]:
        segments, info = self.model.transcribe(
            audio, language=self.language, beam_size=self.beam_size, temperature=self.temperature,
            condition_on_previous_text=self.condition_on_previous_text, vad_filter=self.vad_filter,
        )
        for s in segments:  # a generator: decoding happens while we iterate
            yield Segment(s.start, s.end, s.text, s.avg_logprob, info.language)

    def _openai_segments(self, audio: np.ndarray) -> Iterator[Segment]:
        result = self.model.transcribe(
            audio, language=self.language, temperature=self.temperature, verbose=None,
            beam_size=self.beam_size if self.beam_size > 1 else None,
            condition_on_previous_text=self.condition_on_previous_text, fp16=self.device.startswith("cuda"),
        )
        for s in result["segments"]:
            yield Segment(s["start"], s["end"], s["text"], s["avg_logprob"], result.get("language"))
