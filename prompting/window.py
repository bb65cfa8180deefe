"""Fit the video context into the LLM's window, keeping what the question needs.

When the whole context fits ``budget_tokens`` it is used as is. Otherwise the
timeline is cut into segments of 30-60 s and the context becomes:

1. the header and a one-line overview of the whole video (objects, actions,
   speech, most common scenes),
2. the segments most relevant to the question (see :mod:`prompting.retrieve`)
   in full detail, as many as fit,
3. a one-line extractive ``Summary A-B s:`` for as many other segments as fit,

all in time order. Tokens are counted with the ``count_tokens`` the caller
passes (the LLM's tokenizer); :func:`approx_tokens` is a cautious default.
The result never exceeds the budget.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from perceive.records import Perception
from prompting.context import (TIMELINE_TITLE, Cleaner, Line, caption_of, header, label_counts, object_labels,
                               parse_context, quote, render, secs, speech_of, timeline)
from prompting.retrieve import TextEmbedder, line_scores

TokenCounter = Callable[[str], int]
WINDOW_NOTE = ("The full context is longer than this window: the parts most relevant to the question are given in "
               "full detail, other parts as one-line Summary lines, and some parts may be left out.")


def approx_tokens(text: str) -> int:
    """A cautious token estimate without a tokenizer: words and punctuation marks, at least chars/4."""
    return max(len(re.findall(r"\w+|[^\w\s]", text)), math.ceil(len(text) / 4))


@dataclass
class Segment:
    """A span of the timeline: its lines, and how relevant they are to the question."""

    start: float
    end: float
    lines: list[Line]
    scores: list[float]

    @property
    def relevance(self) -> float:
        return max(self.scores, default=0.0)

    def detail(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def summary(self, max_words: int = 60) -> str:
        """One extractive line: frequent captions, objects, actions and the first words said."""
        seconds = [line for line in self.lines if line.kind == "second"]
        captions = Counter(c for c in map(caption_of, seconds) if c)
        labels = Counter(label for line in seconds for label in set(object_labels(line)))
        actions = Counter(line.body.split(" (")[0].split(", ")[0] for line in self.lines if line.kind == "action")
        said = " ".join(speech_of(line) for line in self.lines if line.kind == "speech").split()
        parts = []
        if captions:
            parts.append("; ".join(f"{c} (x{n})" if n > 1 else c for c, n in captions.most_common(3)))
        if labels:
            parts.append("objects: " + ", ".join(label for label, _ in labels.most_common(5)))
        if actions:
            parts.append("actions: " + ", ".join(a for a, _ in actions.most_common(2)))
        if said:
            parts.append("speech: " + quote(" ".join(said[:20]) + (" ..." if len(said) > 20 else "")))
        words = "; ".join(parts).split()
        text = " ".join(words[:max_words]) + (" ..." if len(words) > max_words else "")
        return f"Summary {secs(self.start)}-{secs(self.end)} s: {text or 'nothing seen or heard'}"


def segment_length(duration: float, budget_tokens: int, tokens_per_second: float) -> float:
    """30-60 s, longer for long videos, shorter when a segment would take over a quarter of the budget."""
    wanted = 60.0 if duration > 1200 else 30.0
    fits = budget_tokens / 4 / max(tokens_per_second, 1e-6)
    return float(min(wanted, max(30.0, 30 * math.floor(fits / 30))))


def split_segments(lines: list[Line], length: float, scores: list[float]) -> list[Segment]:
    """Cut the timeline into consecutive segments of ``length`` seconds (lines go by their start)."""
    groups: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(int(line.start // length), []).append(i)
    return [Segment(k * length, (k + 1) * length, [lines[i] for i in idx], [scores[i] for i in idx])
            for k, idx in sorted(groups.items())]


def overview(lines: list[Line], max_items: int = 6) -> str:
    """One line about the whole video: objects, actions, speech and the most common scenes."""
    parts = []
    labels = label_counts(lines)
    if labels:
        parts.append("objects seen (seconds): " + ", ".join(f"{l} ({n})" for l, n in labels.most_common(max_items)))
    actions = Counter(line.body.split(" (")[0].split(", ")[0] for line in lines if line.kind == "action")
    if actions:
        parts.append("actions (windows): " + ", ".join(f"{a} ({n})" for a, n in actions.most_common(max_items)))
    speech = [line for line in lines if line.kind == "speech"]
    if speech:
        parts.append(f"speech: {len(speech)} lines from second {secs(speech[0].start)} to "
                     f"{secs(speech[-1].end or speech[-1].start)}")
    captions = Counter(c for line in lines if line.kind == "second" and (c := caption_of(line)))
    if captions:
        parts.append("common scenes: " + "; ".join(c for c, _ in captions.most_common(max_items)))
    return "Overview of the whole video: " + ("; ".join(parts) if parts else "nothing seen or heard") + "."


def _truncate(text: str, budget: int, count: TokenCounter) -> str:
    """The longest prefix of ``text``'s words that fits ``budget`` tokens (possibly empty)."""
    if count(text) <= budget:
        return text
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[:mid]) + " ...") <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo]) + " ..." if lo else ""


def _best_lines(segment: Segment, budget: int, count: TokenCounter) -> str:
    """The segment's most relevant lines that fit ``budget``, in time order."""
    order = sorted(range(len(segment.lines)), key=lambda i: -segment.scores[i])
    chosen, used = [], 0
    for i in order:
        cost = count(segment.lines[i].text) + 1
        if used + cost <= budget:
            chosen.append(i)
            used += cost
    return "\n".join(segment.lines[i].text for i in sorted(chosen))


def fit_context(source: Perception | str, question: str, budget_tokens: int,
                count_tokens: TokenCounter = approx_tokens, embedder: TextEmbedder | None = None,
                cleanup: Cleaner | None = None, segment_seconds: float | None = None) -> str:
    """The video context for ``question`` within ``budget_tokens`` (see the module docstring).

    ``source`` is a :class:`Perception` or a context built by
    :func:`~prompting.context.build_context`. ``embedder`` (e.g.
    :class:`prompting.retrieve.Embedder`) ranks segments by meaning; without it
    keyword overlap (BM25) ranks them.
    """
    if isinstance(source, Perception):
        head, lines = header(source), timeline(source, cleanup)
        full = render(head, lines)
    else:
        full = source
        head, lines = parse_context(source)
    total = count_tokens(full)
    if total <= budget_tokens:
        return full
    duration = max((line.end or line.start for line in lines), default=0.0)
    length = segment_seconds or segment_length(duration, budget_tokens, total / max(duration, 1.0))
    segments = split_segments(lines, length, list(line_scores(question, lines, embedder)))

    fixed = "\n".join(head)
    left = budget_tokens - count_tokens(fixed) - 1
    if left < 0:
        return _truncate_lines(head, budget_tokens, count_tokens)
    top = [_truncate(overview(lines), max(0, min(left, budget_tokens // 6) - 1), count_tokens), WINDOW_NOTE,
           TIMELINE_TITLE]
    top = [t for t in top if t]
    while top and count_tokens("\n".join(top)) + 1 > left:
        top.pop()
    left -= count_tokens("\n".join(top)) + 1 if top else 0

    chosen = _pack(segments, left, count_tokens)

    def assemble() -> str:
        return "\n".join(p for p in [fixed, *top, *(chosen[k] for k in sorted(chosen))] if p)

    text = assemble()
    for k in sorted(chosen, key=lambda k: segments[k].relevance):   # least relevant first
        if count_tokens(text) <= budget_tokens:
            break
        del chosen[k]
        text = assemble()
    return text if count_tokens(text) <= budget_tokens else _truncate_lines(head, budget_tokens, count_tokens)


def _pack(segments: list[Segment], budget: int, count: TokenCounter) -> dict[int, str]:
    """Segment index -> its text in the window: full detail for the most relevant, then summaries."""
    def cost(text: str) -> int:
        return count(text) + 1

    best = max(range(len(segments)), key=lambda k: segments[k].relevance, default=0)
    # by relevance; at equal relevance, nearest to the best segment first (its surroundings)
    ranked = sorted(range(len(segments)), key=lambda k: (-segments[k].relevance, abs(k - best)))
    summaries = {k: segments[k].summary() for k in ranked}
    reserve = min(sum(cost(s) for s in summaries.values()), budget * 3 // 10)
    chosen: dict[int, str] = {}
    for k in ranked:
        text = segments[k].detail()
        if cost(text) > budget - reserve and not chosen and budget - reserve > 1:
            text = _best_lines(segments[k], budget - reserve - 1, count)    # the best segment, cut down
        if text and cost(text) <= budget - reserve:
            chosen[k] = text
            budget -= cost(text)
    for k in ranked:
        if k not in chosen and cost(summaries[k]) <= budget:
            chosen[k] = summaries[k]
            budget -= cost(summaries[k])
    return chosen


def _truncate_lines(lines: list[str], budget: int, count: TokenCounter) -> str:
    """As many whole lines from the start as fit ``budget``."""
    out: list[str] = []
    for line in lines:
        if count("\n".join([*out, line])) > budget:
            break
        out.append(line)
    return "\n".join(out)
