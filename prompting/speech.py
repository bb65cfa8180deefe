"""Speech in the context: the language header, speech lines, translations and silences.

From the ASR observations (one per sentence, see :mod:`perceive.asr`)::

    Speech: German (0.94)
    Speech 0:00-0:05: "Der hinter diesem Portal liegende Raum ..."
    Speech 0:00-0:06 (English translation): "The room behind this portal ..."
    Speech 0:40-0:44 (French): "Les deux autres ..."
    No speech 0:06-0:40
    Speech 1:02-1:05: not transcribed (likely not English; the ASR model is English-only)

The header line names the main language (most seconds of speech) with the
detection's probability, and any other language heard. A speech line names its
language only when it differs from the main one. ``No speech`` lines are the
gaps of at least :data:`MIN_SILENCE` seconds between sentences (and before the
first and after the last), so "when does she stop talking" has an answer.
"""
from __future__ import annotations

from perceive.asr import TRANSLATION, UNTRANSCRIBED
from perceive.records import Observation, Perception
from prompting.context import Line, clock, one_line, quote
from prompting.language import language_name

MIN_SILENCE = 4.0
"""Shortest gap between sentences (seconds) written as a ``No speech`` line."""

def _said(perception: Perception) -> list[Observation]:
    """The transcribed sentences in the original language (no translations, nothing untranscribed)."""
    return [o for o in perception.by_stage("asr") if o.label not in (TRANSLATION, UNTRANSCRIBED) and one_line(o.text)]


def _asr_ran(perception: Perception) -> bool:
    skipped = any(n.startswith("asr skipped") for n in perception.notes)
    return not skipped and any(m.role == "asr" for m in perception.models)


def languages(perception: Perception) -> list[tuple[str, float, float | None]]:
    """``(code, seconds of speech, probability)`` per language heard, the most spoken first.

    The probability is the highest the detection gave that language; ``None``
    when the language was not detected (an English-only model or a fixed language).
    """
    seconds: dict[str, float] = {}
    best: dict[str, float | None] = {}
    for o in _said(perception):
        if not o.language:
            continue
        seconds[o.language] = seconds.get(o.language, 0.0) + max(0.01, (o.end or o.start) - o.start)
        p = o.language_probability
        if p is not None and (best.get(o.language) is None or p > best[o.language]):
            best[o.language] = p
        best.setdefault(o.language, p)
    return sorted(((c, s, best[c]) for c, s in seconds.items()), key=lambda x: -x[1])


def main_language(perception: Perception) -> str | None:
    """The code of the language spoken longest, if any speech was transcribed."""
    heard = languages(perception)
    return heard[0][0] if heard else None


def speech_header(perception: Perception) -> str | None:
    """``Speech: German (0.94)``-style header line; ``None`` when no ASR ran."""
    if not _asr_ran(perception):
        return None
    if any(o.label == UNTRANSCRIBED for o in perception.by_stage("asr")) and not _said(perception):
        return "Speech: likely not English, not transcribed (the ASR model is English-only)"
    heard = languages(perception)
    if not heard:
        return "Speech: none transcribed" if _said(perception) else "Speech: none heard"
    parts = [language_name(c) + (f" ({p:.2f})" if p is not None else "")
             for c, _, p in heard]
    return "Speech: " + parts[0] + (f"; also {', '.join(parts[1:])}" if len(parts) > 1 else "")


def silences(perception: Perception, min_gap: float = MIN_SILENCE) -> list[tuple[float, float]]:
    """Spans of at least ``min_gap`` seconds without speech, once speech was heard somewhere."""
    spoken = sorted((o.start, o.end if o.end is not None else o.start)
                    for o in perception.by_stage("asr") if o.label != TRANSLATION)
    if not spoken or not _asr_ran(perception):
        return []
    gaps, last = [], 0.0
    for start, end in spoken:
        if start - last >= min_gap:
            gaps.append((last, start))
        last = max(last, end)
    if perception.video.duration - last >= min_gap:
        gaps.append((last, perception.video.duration))
    return gaps


def _span(start: float, end: float | None) -> str:
    return clock(start) + (f"-{clock(end, up=True)}" if end is not None else "")


def speech_lines(perception: Perception) -> list[Line]:
    """The ``Speech`` lines (originals, translations, untranscribed spans) and the ``No speech`` lines."""
    main = main_language(perception)
    lines = []
    for o in perception.by_stage("asr"):
        span = _span(o.start, o.end)
        if o.label == UNTRANSCRIBED:
            text = f"Speech {span}: not transcribed (likely not English; the ASR model is English-only)"
        elif not one_line(o.text):
            continue
        elif o.label == TRANSLATION:
            text = f"Speech {span} (English translation): {quote(o.text)}"
        elif o.language and main and o.language != main:
            text = f"Speech {span} ({language_name(o.language)}): {quote(o.text)}"
        else:
            text = f"Speech {span}: {quote(o.text)}"
        lines.append(Line(o.start, o.end, "speech", text))
    # a silence is written inward (start rounded up, end down), so it never overlaps a speech line's span
    lines += [Line(a, b, "silence", f"No speech {clock(a, up=True)}-{clock(b)}") for a, b in silences(perception)]
    return lines
