"""The typed records the answer pipeline passes along: facts, the evidence of one question, the answer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from answer.question import Question
from prompting.context import Entry, Fit, Header, VideoContext, clock, quote

QUOTED_KINDS = ("speech", "subtitle", "text")   # entries that hold what was said or written, quoted
Source = Literal["llm", "fact_draft", "quote", "decline"]
SOURCES: tuple[Source, ...] = ("llm", "fact_draft", "quote", "decline")


@dataclass(frozen=True)
class Fact:
    """One fact about the video that bears on the question, as one line (``kind``: speech, silence, ...)."""

    kind: str
    text: str
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Draft:
    """Step 3's output: the facts that answer a question and a plain answer made of them.

    ``text`` None: no fact answers it. ``quoting``: the draft only quotes speech (nothing computed: no
    count, time, silence, yes or no), so a short answer drawn from it may stand before it."""

    facts: tuple[Fact, ...] = ()
    text: str | None = None
    quoting: bool = False


@dataclass
class Evidence:
    """What one question gets to read: known/unknown lines, answering facts, entries, and a draft answer."""

    question: Question
    status: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    draft: str | None = None
    best: Entry | None = None     # the entry that bears on the question most
    quoting: bool = False         # the draft only quotes speech: an answer drawn from it may stand before it
    matched: bool = True          # some entry bears on the question (False: nothing does, or only an overview)
    unmatched_language: str | None = None   # the language spoken, when a question in another one matched nothing
    scores: dict[int, float] = field(default_factory=dict, repr=False)   # id(entry) -> rank score (with bonuses)
    relevance: dict[int, float] = field(default_factory=dict, repr=False)   # id(entry) -> retrieval score alone

    @property
    def empty(self) -> bool:
        """Nothing bears on the question: no entry and no fact but what is unknown (the answer is that the
        video does not show it)."""
        return not self.entries and all(f.kind == "unknown" for f in self.facts)

    def render(self) -> str:
        """The evidence block placed next to the question."""
        lines = list(self.status)
        if self.facts:
            lines += ["Facts:", *(f"- {f.text}" for f in self.facts)]
        lines += ["Evidence (times in m:ss or seconds from the start):",
                  *([e.line() for e in self.entries] or ["(no timeline entry bears on the question)"])]
        return "\n".join(lines)

    def content(self) -> str:
        """What the evidence says, without line prefixes or status lines (what an answer should draw on)."""
        return "\n".join([*(f.text for f in self.facts), *(said_text(e) if e.kind in QUOTED_KINDS
                                                             else e.text for e in self.entries)])

    def context(self, header: Header) -> VideoContext:
        """The selected entries as a :class:`VideoContext` (what citation reads)."""
        return VideoContext(header, list(self.entries), Fit(note=False))


@dataclass(frozen=True)
class Answer:
    """The pipeline's result: the text shown, where it came from, the entries it rests on, the checks that fired.

    ``source``: ``llm`` (the LLM's words stand), ``fact_draft`` (a plain answer computed from the facts),
    ``quote`` (an entry quoted), ``decline`` (nothing bears on the question). ``checks`` names, in order, the
    checks that changed the answer (:data:`answer.checks.CHECKS`)."""

    text: str
    source: Source
    entries: tuple[Entry, ...] = ()
    checks: tuple[str, ...] = ()
    llm_text: str = ""            # what the LLM wrote (empty when it was not asked)
    unsupported: tuple[str, ...] = ()   # names and numbers of the LLM's text that no evidence holds


def said_text(entry: Entry) -> str:
    """What a ``speech`` or ``text`` entry says, unquoted."""
    return entry.said or entry.text.strip('"')


def span_text(start: float, end: float | None) -> str:
    """A time span as ``m:ss-m:ss`` (start rounded down, end up), or one ``m:ss`` when both round alike."""
    a, b = clock(start), clock(end if end is not None else start, up=True)
    return a if a == b else f"{a}-{b}"


def plain_answer(entry: Entry) -> str:
    """An entry as a plain answer: what was said or written and when, else its line."""
    if entry.kind in QUOTED_KINDS:
        what = "the speech says" if entry.kind == "speech" else "the on-screen text reads"
        said = said_text(entry)
        return f"At {span_text(entry.start, entry.end)} {what}: {quote(said)}" + ("" if said.endswith(
            (".", "!", "?", "…")) else ".")
    return entry.line()
