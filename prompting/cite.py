"""Ground an answer in the context: name the time of the timeline line that supports it.

Small local LLMs often answer correctly but forget the time. :func:`cite` finds
the timeline line sharing the most content words with the answer and, when the
overlap is strong enough and the answer names no time itself, appends
``(at m:ss)``. Nothing is appended when no line supports the answer, so a
citation is never invented.
"""
from __future__ import annotations

import re

from prompting.context import Entry, VideoContext, clock
from prompting.text import content_words

_TIME = re.compile(r"\b\d+:\d\d\b|\bsecond \d+|\b\d+(?:\.\d+)? ?s\b")


def supporting_line(answer: str, context: VideoContext, min_overlap: int = 2) -> Entry | None:
    """The timeline entry of ``context`` that shares the most content words with ``answer``.

    An entry qualifies when it shares at least ``min_overlap`` words, or every content
    word of a short answer; the earliest entry wins a tie. Summaries are not cited (their time is vague).
    """
    words = content_words(answer)
    if not words:
        return None
    best, best_overlap = None, 0
    for line in (e for e in context.entries if e.kind != "summary"):
        overlap = len(words & content_words(line.text))
        if overlap > best_overlap:
            best, best_overlap = line, overlap
    if best_overlap >= min(min_overlap, len(words)):
        return best
    return None


def cite(answer: str, context: VideoContext) -> str:
    """The citation to append to ``answer`` (``" (at 0:03)"``), or ``""`` when none is due."""
    if not answer.strip() or _TIME.search(answer.lower()):
        return ""
    line = supporting_line(answer, context)
    return f" (at {clock(line.start)})" if line else ""
