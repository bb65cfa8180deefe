"""Fit the video context into the LLM's window, keeping what the question needs.

When the whole context fits ``budget_tokens`` it is used as is. Otherwise the
timeline is cut into segments of 30-60 s and the context becomes:

1. the header and a one-line overview of the whole video (objects, actions,
   speech, most common scenes),
2. the segments most relevant to the question (see :mod:`prompting.retrieve`)
   in full detail, as many as fit,
3. a one-line extractive ``Summary A-B s:`` for as many other segments as fit,

all in time order. The result is a :class:`~prompting.context.VideoContext`
too (its ``fit`` says how it was cut), read from the typed entries and rendered
once. Tokens are counted with the ``count_tokens`` the caller passes (the LLM's
tokenizer); :func:`~prompting.tokens.approx_tokens` is a cautious default. The
rendered result never exceeds the budget.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

from prompting.context import TIMELINE_TITLE, WINDOW_NOTE, Entry, Fit, VideoContext
from prompting.format import quote, secs
from prompting.retrieve import TextEmbedder, entry_scores
from prompting.tokens import TokenCounter, approx_tokens


def _caption(entry: Entry) -> str:
    return " / ".join(entry.captions)


def _action(entry: Entry) -> str:
    return entry.labels[0] if entry.labels else ""


@dataclass
class Segment:
    """A span of the timeline: its entries, and how relevant they are to the question."""

    start: float
    end: float
    lines: list[Entry]
    scores: list[float]

    @property
    def relevance(self) -> float:
        return max(self.scores, default=0.0)

    def detail(self) -> list[Entry]:
        """Every entry of the segment."""
        return list(self.lines)

    def summary(self, max_words: int = 60) -> Entry:
        """One extractive ``Summary`` entry: frequent captions, objects, actions and the first words said."""
        seconds = [e for e in self.lines if e.kind == "second"]
        captions = Counter(c for c in map(_caption, seconds) if c)
        labels = Counter(label for e in seconds for label in set(e.labels))
        actions = Counter(_action(e) for e in self.lines if e.kind == "action")
        said = " ".join(e.said for e in self.lines if e.kind == "speech").split()
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
        return Entry(self.start, self.end, "summary", text or "nothing seen or heard", search=text)


def segment_length(duration: float, budget_tokens: int, tokens_per_second: float) -> float:
    """30-60 s, longer for long videos, shorter when a segment would take over a quarter of the budget."""
    wanted = 60.0 if duration > 1200 else 30.0
    fits = budget_tokens / 4 / max(tokens_per_second, 1e-6)
    return float(min(wanted, max(30.0, 30 * math.floor(fits / 30))))


def split_segments(lines: list[Entry], length: float, scores: list[float]) -> list[Segment]:
    """Cut the timeline into consecutive segments of ``length`` seconds (lines go by their start)."""
    groups: dict[int, list[int]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(int(line.start // length), []).append(i)
    return [Segment(k * length, (k + 1) * length, [lines[i] for i in idx], [scores[i] for i in idx])
            for k, idx in sorted(groups.items())]


def overview(lines: list[Entry], max_items: int = 6) -> str:
    """One line about the whole video: objects, actions, speech and the most common scenes."""
    parts = []
    labels = Counter(label for e in lines if e.kind == "second" for label in set(e.labels))
    if labels:
        parts.append("objects seen (seconds): " + ", ".join(f"{l} ({n})" for l, n in labels.most_common(max_items)))
    actions = Counter(_action(e) for e in lines if e.kind == "action")
    if actions:
        parts.append("actions (windows): " + ", ".join(f"{a} ({n})" for a, n in actions.most_common(max_items)))
    speech = [line for line in lines if line.kind == "speech"]
    if speech:
        parts.append(f"speech: {len(speech)} lines from second {secs(speech[0].start)} to "
                     f"{secs(speech[-1].end or speech[-1].start)}")
    captions = Counter(c for e in lines if e.kind == "second" and (c := _caption(e)))
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


def _best_lines(segment: Segment, budget: int, count: TokenCounter) -> list[Entry]:
    """The segment's most relevant entries that fit ``budget``, in time order."""
    order = sorted(range(len(segment.lines)), key=lambda i: -segment.scores[i])
    chosen, used = [], 0
    for i in order:
        cost = count(segment.lines[i].line()) + 1
        if used + cost <= budget:
            chosen.append(i)
            used += cost
    return [segment.lines[i] for i in sorted(chosen)]


def _text(entries: list[Entry]) -> str:
    return "\n".join(e.line() for e in entries)


def fit_context(context: VideoContext, question: str, budget_tokens: int,
                count_tokens: TokenCounter = approx_tokens, embedder: TextEmbedder | None = None,
                segment_seconds: float | None = None) -> VideoContext:
    """``context`` cut to ``budget_tokens`` for ``question`` (see the module docstring); it is returned as is
    when it fits.

    ``embedder`` (e.g. :class:`prompting.retrieve.Embedder`) ranks segments by
    meaning; without it keyword overlap (BM25) ranks them.
    """
    lines = context.entries
    total = count_tokens(context.render())
    if total <= budget_tokens:
        return context
    head = context.header.lines()
    duration = max((e.end or e.start for e in lines), default=0.0)
    length = segment_seconds or segment_length(duration, budget_tokens, total / max(duration, 1.0))
    segments = split_segments(lines, length, list(entry_scores(question, lines, embedder)))

    def header_only() -> VideoContext:
        return replace(context, entries=[], fit=Fit(header_lines=_lines_that_fit(head, budget_tokens, count_tokens)))

    left = budget_tokens - count_tokens("\n".join(head)) - 1
    if left < 0:
        return header_only()
    top = [_truncate(overview(lines), max(0, min(left, budget_tokens // 6) - 1), count_tokens), WINDOW_NOTE,
           TIMELINE_TITLE]
    shown = [bool(top[0]), True, True]
    while any(shown) and count_tokens("\n".join(t for t, keep in zip(top, shown) if keep)) + 1 > left:
        shown[max(i for i, keep in enumerate(shown) if keep)] = False
    kept = [t for t, keep in zip(top, shown) if keep]
    left -= count_tokens("\n".join(kept)) + 1 if kept else 0
    fit = Fit(overview=top[0] if shown[0] else None, note=shown[1], title=shown[2])

    chosen = _pack(segments, left, count_tokens)

    def assemble() -> VideoContext:
        return replace(context, entries=[e for k in sorted(chosen) for e in chosen[k]], fit=fit)

    fitted = assemble()
    for k in sorted(chosen, key=lambda k: segments[k].relevance):   # least relevant first
        if count_tokens(fitted.render()) <= budget_tokens:
            break
        del chosen[k]
        fitted = assemble()
    return fitted if count_tokens(fitted.render()) <= budget_tokens else header_only()


def _pack(segments: list[Segment], budget: int, count: TokenCounter) -> dict[int, list[Entry]]:
    """Segment index -> its entries in the window: full detail for the most relevant, then summaries."""
    def cost(entries: list[Entry]) -> int:
        return count(_text(entries)) + 1

    best = max(range(len(segments)), key=lambda k: segments[k].relevance, default=0)
    # by relevance; at equal relevance, nearest to the best segment first (its surroundings)
    ranked = sorted(range(len(segments)), key=lambda k: (-segments[k].relevance, abs(k - best)))
    summaries = {k: [segments[k].summary()] for k in ranked}
    reserve = min(sum(cost(s) for s in summaries.values()), budget * 3 // 10)
    chosen: dict[int, list[Entry]] = {}
    for k in ranked:
        entries = segments[k].detail()
        if cost(entries) > budget - reserve and not chosen and budget - reserve > 1:
            entries = _best_lines(segments[k], budget - reserve - 1, count)    # the best segment, cut down
        if entries and cost(entries) <= budget - reserve:
            chosen[k] = entries
            budget -= cost(entries)
    for k in ranked:
        if k not in chosen and cost(summaries[k]) <= budget:
            chosen[k] = summaries[k]
            budget -= cost(summaries[k])
    return chosen


def _lines_that_fit(lines: list[str], budget: int, count: TokenCounter) -> int:
    """How many whole lines from the start fit ``budget``."""
    out: list[str] = []
    for line in lines:
        if count("\n".join([*out, line])) > budget:
            break
        out.append(line)
    return len(out)
