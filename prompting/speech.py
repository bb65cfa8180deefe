"""Speech facts for the context, from the ASR observations: languages heard, the speech status, silences.

The ASR stage (:mod:`perceive.asr`) records one observation per sentence, in
its language, plus ``translation`` and ``untranscribed`` observations. This
module turns them into typed facts only; :mod:`prompting.context` renders them
(the ``Speech: German (0.94)`` header line, the ``Speech`` entries' language
tags, the ``No speech`` entries). ``No speech`` spans are the gaps of at least
:data:`MIN_SILENCE` seconds between sentences (and before the first and after
the last), so "when does she stop talking" has an answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from perceive.asr import TRANSLATION, UNTRANSCRIBED
from perceive.records import Observation, Perception

MIN_SILENCE = 4.0
"""Shortest gap between sentences (seconds) that becomes a ``No speech`` span."""

SpeechStatus = Literal["heard", "untranscribed", "none transcribed", "none heard"]


@dataclass(frozen=True)
class LanguageHeard:
    """One language heard: its ISO 639-1 code, seconds of speech and best detection probability.

    ``probability`` is ``None`` when the language was not detected (an
    English-only model or a language fixed by the user).
    """

    code: str
    seconds: float
    probability: float | None


@dataclass(frozen=True)
class SpeechFacts:
    """What the ASR stage heard, for the context header: a status and the languages, most spoken first."""

    status: SpeechStatus
    languages: tuple[LanguageHeard, ...] = ()

    @property
    def main(self) -> str | None:
        """The code of the language spoken longest, if any speech was transcribed."""
        return self.languages[0].code if self.languages else None


def is_said(o: Observation) -> bool:
    """Whether ``o`` is a transcribed sentence in the original language (not a translation, not untranscribed)."""
    return o.stage == "asr" and o.label not in (TRANSLATION, UNTRANSCRIBED) and bool(" ".join(o.text.split()))


def asr_ran(perception: Perception) -> bool:
    """Whether an ASR model listened to the video (not skipped)."""
    skipped = any(n.stage == "asr" for n in perception.notes)
    return not skipped and any(m.role == "asr" for m in perception.models)


def languages(perception: Perception) -> tuple[LanguageHeard, ...]:
    """Every language heard in the transcribed sentences, the most spoken first."""
    seconds: dict[str, float] = {}
    best: dict[str, float | None] = {}
    for o in filter(is_said, perception.by_stage("asr")):
        if not o.language:
            continue
        seconds[o.language] = seconds.get(o.language, 0.0) + max(0.01, (o.end or o.start) - o.start)
        p = o.language_probability
        if p is not None and (best.get(o.language) is None or p > best[o.language]):
            best[o.language] = p
        best.setdefault(o.language, p)
    return tuple(sorted((LanguageHeard(c, s, best[c]) for c, s in seconds.items()), key=lambda x: -x.seconds))


def speech_facts(perception: Perception) -> SpeechFacts | None:
    """The speech facts of ``perception``; ``None`` when no ASR ran."""
    if not asr_ran(perception):
        return None
    heard = perception.by_stage("asr")
    said = [o for o in heard if is_said(o)]
    if not said and any(o.label == UNTRANSCRIBED for o in heard):
        return SpeechFacts("untranscribed")
    found = languages(perception)
    if found:
        return SpeechFacts("heard", found)
    return SpeechFacts("none transcribed" if said else "none heard")


def gaps(spoken: list[tuple[float, float]], duration: float, min_gap: float) -> list[tuple[float, float]]:
    """Stretches of at least ``min_gap`` seconds between 0 and ``duration`` that no ``(start, end)`` of
    ``spoken`` covers (the one rule for the context's ``No speech`` lines and the evidence's silences)."""
    out, last = [], 0.0
    for start, end in sorted(spoken):
        if start - last >= min_gap:
            out.append((last, start))
        last = max(last, end)
    if duration - last >= min_gap:
        out.append((last, duration))
    return out


def silences(perception: Perception, min_gap: float = MIN_SILENCE) -> list[tuple[float, float]]:
    """Spans (seconds) of at least ``min_gap`` without speech, once speech was heard somewhere.

    Untranscribed speech counts as speech; translations do not add any.
    """
    spoken = [(o.start, o.end if o.end is not None else o.start)
              for o in perception.by_stage("asr") if o.label != TRANSLATION]
    if not spoken or not asr_ran(perception):
        return []
    return gaps(spoken, perception.video.duration, min_gap)
