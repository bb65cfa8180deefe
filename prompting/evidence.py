"""Evidence first: the few context entries and facts that bear on one question, next to the question.

A small LLM loses the thread in a long context; it answers well from a short
block that holds the answer. :func:`select_evidence` builds that block from the
typed :class:`~prompting.context.VideoContext`:

1. **Facts that answer** (:func:`answer_facts`), computed from the entries, never
   by the LLM: the speech at a time the question names, the on-screen text
   (``text`` entries) there, the silences between speech, how many objects of a
   class a keyframe showed and when they were visible. On-screen text shown for at
   least half the video (a title or cover: it says what the whole video is) is a
   fact for every question. Header facts that other
   stages add (any record with ``kind`` and ``text`` in ``header.facts``:
   presence, shots, speech, unknown) join by kind and word overlap.
2. **Entries**: those inside the spans the question names, then the most
   relevant by retrieval (:func:`prompting.retrieve.entry_scores`: embeddings or
   BM25, plus a boost for named times), the kinds the question asks for (speech
   for "say", ``text`` for "written") first; at most ``max_entries``, within a
   token budget, in time order. A question of stop words only ("What is this
   video about?") gets entries spread over the whole video instead (:func:`overview`).
3. What was and was not analysed (the header's models and notes), so "not in
   the evidence" can be told from "not in the video". The file name is left
   out: it is not evidence of the content.

:attr:`Evidence.draft` is a plain answer from the facts alone; the chat session
lets the LLM phrase it and keeps the draft when the LLM's answer loses its
content (:func:`keeps_facts`); a draft that only quotes speech (a "say" question,
a question that restates a spoken sentence, what is read aloud) follows an answer
drawn from it (:func:`draws_on`) as its source. Everything here is a pure function of the context.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from prompting.cite import content_words
from prompting.context import TRANSLATED, Entry, Fit, Header, VideoContext, clock, one_line, quote
from prompting.guard import stem, strays
from prompting.language import question_language
from prompting.question import Question, TimeSpan, parse_question, resolve_spans
from prompting.retrieve import TextEmbedder, entry_scores, terms
from prompting.speech import gaps
from prompting.tokens import TokenCounter, approx_tokens

MAX_ENTRIES = 6
QUOTED_KINDS = ("speech", "subtitle", "text")   # entries that hold what was said or written, quoted
EVIDENCE_TOKENS = 700
STANDING_SHARE = 0.5       # on-screen text shown this share of the video always goes with the evidence
MIN_SILENCE = 2.0          # seconds without speech that count as a silence
APPEARANCE_GAP = 2.0       # a class unseen for longer starts a new appearance
RELATIVE_SCORE = 0.6       # retrieved entries must score at least this share of the best one
RESTATED_WORDS = 2         # a question restates a spoken sentence holding this many of its words ...
RESTATED_SHARE = 0.5       # ... and this share of them
MIN_RELEVANCE = 0.25       # below this best score (cosine or normalized BM25), with no word in common, nothing bears
# words that name a detector class other than by its label (COCO's "person" most of all)
CLASS_WORDS = {"person": {"people", "person", "persons", "man", "men", "woman", "women", "boy", "boys", "girl",
                          "girls", "child", "children", "kid", "kids", "player", "players", "human", "humans",
                          "someone", "somebody", "adult", "adults", "individual", "individuals", "pedestrian",
                          "pedestrians", "speaker", "speakers"}}


@dataclass(frozen=True)
class Fact:
    """One fact about the video that bears on the question, as one line (``kind``: speech, silence, ...)."""

    kind: str
    text: str
    start: float | None = None
    end: float | None = None


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


def _stem(word: str) -> str:
    return terms(word)[0] if terms(word) else word.lower()


def span_text(start: float, end: float | None) -> str:
    """A time span as ``m:ss-m:ss`` (start rounded down, end up), or one ``m:ss`` when both round alike."""
    a, b = clock(start), clock(end if end is not None else start, up=True)
    return a if a == b else f"{a}-{b}"


def _spans_text(spans: list[TimeSpan]) -> str:
    return ", ".join("at " + clock(s.start) if s.point else span_text(s.start, s.end) for s in spans)


def duration_of(context: VideoContext) -> float:
    """The video's duration (the header's, else the last entry's end)."""
    last = max((e.end or e.start for e in context.entries), default=0.0)
    return max(context.header.video.duration or 0.0, last)


def ran(header: Header, role: str) -> bool:
    """Whether a model of ``role`` ran (it is named in the header)."""
    return any(m.role == role for m in header.models)


def status_lines(header: Header) -> list[str]:
    """Duration, the language spoken and what was not analysed, for the evidence block (no file name: it is
    not evidence)."""
    v = header.video
    lines = [f"Video length: {clock(v.duration, up=True)} ({'with' if v.has_audio else 'no'} audio)"]
    # no "Model ..." lines: a small LLM answers about the models instead of the video (what did not run
    # is said below, and the full context and the report name every model)
    lines += [line for line in [header.speech_line()] if line]   # the language spoken is evidence too
    skipped: dict[str, list[str]] = defaultdict(list)
    for note in header.notes:
        first = one_line(note.split(";")[0])
        stage, sep, why = first.partition(" skipped: ")
        if sep and " " not in stage:
            skipped[why].append(stage)
        else:
            lines.append(f"Note: {first}")
    lines += [f"Not analysed ({why}): {', '.join(stages)}" for why, stages in skipped.items()]
    return lines


# --- facts computed from the entries ----------------------------------------------------------------------------

def speech_spans(entries: list[Entry]) -> list[tuple[float, float]]:
    """Spans with speech, overlapping ``speech`` entries merged."""
    spans: list[list[float]] = []
    for e in sorted((e for e in entries if e.kind == "speech"), key=lambda e: e.start):
        end = e.end if e.end is not None else e.start
        if spans and e.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([e.start, end])
    return [(a, b) for a, b in spans]


def silences(entries: list[Entry], duration: float, min_silence: float = MIN_SILENCE) -> list[tuple[float, float]]:
    """Stretches of at least ``min_silence`` seconds without speech, from the start to ``duration``
    (:func:`prompting.speech.gaps`; shorter than the context's ``No speech`` lines: a question about pauses
    wants the short ones too)."""
    return gaps(speech_spans(entries), duration, min_silence)


def label_matches(label: str, wanted: str) -> bool:
    """Whether a detector ``label`` is what the question's ``wanted`` words name ("people" -> person)."""
    words = {w.lower() for w in re.findall(r"[a-z]+", wanted.lower())}
    stems = {_stem(w) for w in words}
    lab = label.lower()
    return _stem(lab) in stems or lab in words or bool(words & CLASS_WORDS.get(lab, set()))


@dataclass(frozen=True)
class Presence:
    """When a detected class is visible and how many a keyframe showed at most."""

    label: str
    spans: list[tuple[float, float]]
    most: int


def presence(entries: list[Entry], spans: list[TimeSpan] | None = None) -> list[Presence]:
    """Per detected class (from the entries' detection observations, inside ``spans`` if given)."""
    per_frame: dict[str, Counter] = defaultdict(Counter)
    for e in entries:
        for o in e.observations:
            if o.stage == "detection" and (not spans or any(s.overlaps(o.start, None) for s in spans)):
                per_frame[one_line(o.label or o.text)][o.start] += 1
    out = []
    for label, counts in per_frame.items():
        groups: list[list[float]] = []
        for t in sorted(counts):
            if groups and t - groups[-1][1] <= APPEARANCE_GAP:
                groups[-1][1] = t
            else:
                groups.append([t, t])
        out.append(Presence(label, [(a, b) for a, b in groups], max(counts.values())))
    return out


def header_facts(header: Header) -> list[Fact]:
    """Facts other stages put in the header (records with ``kind`` and ``text``), as :class:`Fact`."""
    return [Fact(str(getattr(f, "kind", "fact")), one_line(getattr(f, "text", f)))
            for f in getattr(header, "facts", ()) or ()]


def _said_at(entries: list[Entry], spans: list[TimeSpan]) -> list[Entry]:
    return [e for e in entries if e.kind == "speech" and any(s.overlaps(e.start, e.end, 0.5) for s in spans)]


def _text_at(entries: list[Entry], spans: list[TimeSpan]) -> list[Entry]:
    return [e for e in entries if e.kind == "text" and (not spans or any(s.overlaps(e.start, e.end, 0.5)
                                                                          for s in spans))]


def answer_facts(question: Question, context: VideoContext, scores: dict[int, float] | None = None
                 ) -> tuple[list[Fact], str | None, bool]:
    """The facts that answer ``question``, a plain draft answer made of them (None: no fact answers it), and
    whether that draft only quotes speech (nothing computed: no count, time, silence, yes or no)."""
    header, entries = context.header, context.entries
    duration = duration_of(context)
    spans = resolve_spans(question, duration)
    facts: list[Fact] = []
    draft: list[str] = []
    quotes = 0   # draft parts that only quote speech
    where = _spans_text(spans)
    heard = ran(header, "asr") and header.video.has_audio
    reading = read_aloud(entries) if question.asks_read and heard else None
    if question.asks_silence and heard:
        quiet = silences(entries, duration)
        if spans:
            quiet = [(a, b) for a, b in quiet if any(s.overlaps(a, b) for s in spans)]
        text = ("No speech " + ", ".join(span_text(a, b) for a, b in quiet) if quiet
                else "There is no pause in the speech" if speech_spans(entries) else "Nothing is said in the video")
        facts.append(Fact("silence", text))
        draft.append(text + ".")
    if spans and (question.asks_said or not (question.asks_written or question.count_of)) and heard:
        said = _said_at(entries, spans)
        if said:
            text = f"Said {where}: " + " ".join(quote(e.said) for e in said)
            facts.append(Fact("speech", text, said[0].start, said[-1].end))
            if question.asks_said:
                draft.append(f"{where[0].upper()}{where[1:]} the speech says: "
                             + " ".join(quote(e.said) for e in said) + ".")
        elif question.asks_said:
            text = f"Nothing is said {where}"
            facts.append(Fact("speech", text))
            draft.append(text + ".")
    elif reading:
        speech, text = reading
        at, shown = span_text(speech.start, speech.end), span_text(text.start, text.end)
        facts.append(Fact("speech", f"Read aloud {at}: {quote(speech.said)}, the on-screen text of {shown}: "
                                    f"{quote(said_text(text))}", speech.start, speech.end))
        draft.append(f"At {at} the speech reads out the on-screen text: {quote(speech.said)} "
                     f"(on screen {shown}: {quote(said_text(text))}).")
        quotes += 1
    elif heard and (question.asks_said or not (question.factual or question.yes_no)):
        quoted = best_said(question, entries, scores or {}) if question.asks_said else restated(question, entries)
        if quoted:
            at = span_text(quoted.start, quoted.end)
            facts.append(Fact("speech", f"Said {at}: {quote(quoted.said)}", quoted.start, quoted.end))
            draft.append(f"At {at} the speech says: {quote(quoted.said)}")
            quotes += 1
    if question.asks_written:
        written = _text_at(entries, spans)
        if spans or len(written) <= 3:
            shown = written
        else:
            shown = sorted(written, key=lambda e: -(scores or {}).get(id(e), 0.0))[:3]
        if shown:
            text = "On-screen text" + (f" {where}" if spans else "") + ": " + "; ".join(
                f"{quote(said_text(e))} ({span_text(e.start, e.end)})" for e in shown)
            facts.append(Fact("text", text))
            draft.append(text + ".")
        elif any(e.kind == "text" for e in entries) or ran(header, "ocr"):
            text = "No on-screen text was read" + (f" {where}" if spans else "")
            facts.append(Fact("text", text))
            draft.append(text + ".")
    if question.counts_objects:
        found = [p for p in presence(entries, spans) if label_matches(p.label, question.count_of)]
        if found:
            for p in found:
                seen = ", ".join(span_text(a, b) for a, b in p.spans[:6]) + (" ..." if len(p.spans) > 6 else "")
                times = "1 appearance" if len(p.spans) == 1 else f"{len(p.spans)} separate appearances"
                text = f"{p.label}: up to {p.most} at once in one keyframe; visible {seen} ({times})"
                facts.append(Fact("presence", text))
                draft.append(f"Up to {p.most} {p.label}{'' if p.most == 1 else 's'} at once ({times}, "
                             f"visible {seen}).")
        elif ran(header, "detector"):
            text = f"No {question.count_of} detected" + (f" {where}" if spans else "")
            facts.append(Fact("presence", text))
            draft.append(text + ".")
        else:
            facts.append(Fact("presence", f"Object detection did not run: the number of {question.count_of} "
                                          "is unknown"))
    if question.asks_shots:
        shots = [f for f in header_facts(header) if f.kind == "shots"]
        if shots:
            facts += shots
            typed = [f for f in getattr(header, "facts", ()) or () if getattr(f, "kind", None) == "shots"]
            cuts, still = any(getattr(f, "cuts", ()) for f in typed), any(getattr(f, "still", False) for f in typed)
            draft += [shots_yes_no(question, cuts, still) + f.text + "." for f in shots]
        else:   # the shots stage did not run (it always writes a fact when it did)
            facts.append(Fact("shots", "Shot changes were not analysed: whether there are cuts is unknown"))
    if not any(f.kind == "text" for f in facts):
        for i in standing_text(entries, duration)[:2]:
            e = entries[i]
            facts.append(Fact("text", f"On screen for most of the video ({span_text(e.start, e.end)}): "
                                      f"{quote(said_text(e))}", e.start, e.end))
    facts += _matching_header_facts(question, header, {f.kind for f in facts})
    return facts, " ".join(draft) or None, bool(draft) and quotes == len(draft)


def shots_yes_no(question: Question, has_cuts: bool, still: bool = False) -> str:
    """"Yes. " or "No. " before the shots fact when ``question`` is a yes/no one about shots, else "".

    Whether the picture changes is answered by cuts or, in one shot, by whether it stayed ``still``;
    whether it is one shot by the cuts alone ("one continuous shot" holds for a panning camera too)."""
    if not question.yes_no:
        return ""
    if question.asks_picture_change:
        yes = (has_cuts or not still) != question.asks_still
    else:
        yes = has_cuts != question.asks_one_shot
    return "Yes. " if yes else "No. "


def best_said(question: Question, entries: list[Entry], scores: dict[int, float]) -> Entry | None:
    """The speech entry that answers "what does X say about Y" best: the highest-ranked one sharing a word with
    the question's topic (its words less "say", "said" ...), or None when no speech shares one."""
    topic = {_stem(w) for w in terms(question.topic)}
    said = [e for e in _spoken(entries) if topic & {_stem(w) for w in terms(e.said)}]
    return max(said, key=lambda e: scores.get(id(e), 0.0), default=None)


def roots(text: str) -> set[str]:
    """Rough word roots of ``text`` ("assembled", "assemble" -> "assembl"), stop words left out, any script."""
    return {stem(w).rstrip("e") or w for w in terms(text)}


def _spoken(entries: list[Entry]) -> list[Entry]:
    """Speech entries as heard (not translations)."""
    return [e for e in entries if e.kind == "speech" and e.said and e.tag != TRANSLATED]


def restated(question: Question, entries: list[Entry], min_words: int = RESTATED_WORDS,
             min_share: float = RESTATED_SHARE) -> Entry | None:
    """The spoken sentence a question restates: it holds at least ``min_words`` and ``min_share`` of the
    question's word roots ("Where did the communists assemble?" and "...communists ... have assembled in
    London"); the one holding most, the earliest on a tie. None when no sentence does."""
    asked = roots(question.words or question.text)
    best, most = None, 0
    for e in _spoken(entries):
        shared = len(asked & roots(e.said))
        if shared > most:
            best, most = e, shared
    return best if asked and most >= min_words and most >= min_share * len(asked) else None


def read_aloud(entries: list[Entry], min_words: int = 3, min_share: float = 0.5) -> tuple[Entry, Entry] | None:
    """The speech that reads on-screen text out (a title read from a cover or a slide) and that text: the
    speech entry whose word roots the text holds most of (at least ``min_words`` and ``min_share`` of them)."""
    texts = [(e, roots(said_text(e))) for e in entries if e.kind == "text"]
    best, most = None, 0
    for speech in _spoken(entries):
        said = roots(speech.said)
        for text, written in texts:
            shared = len(said & written)
            if shared > most and shared >= min_words and shared >= min_share * len(said):
                best, most = (speech, text), shared
    return best


def said_text(entry: Entry) -> str:
    """What a ``speech`` or ``text`` entry says, unquoted."""
    return entry.said or entry.text.strip('"')


def _matching_header_facts(question: Question, header: Header, have: set[str], most: int = 3) -> list[Fact]:
    """Header facts of the kinds the question asks for, or sharing its words (at most ``most``)."""
    wanted = terms(question.words or question.text)
    chosen = []
    for fact in header_facts(header):
        if fact.kind in have:
            continue
        by_kind = ((fact.kind == "presence" and question.counts_objects and label_matches(fact.text.split()[0],
                                                                                     question.count_of))
                   or (fact.kind == "speech" and question.asks_silence))
        if by_kind or set(wanted) & set(terms(fact.text)):
            chosen.append(fact)
    return chosen[:most]


# --- entries --------------------------------------------------------------------------------------------------

def preferred_kinds(question: Question) -> set[str]:
    """The entry kinds the question asks for ("say" -> speech, "written" -> text)."""
    kinds = set()
    if question.asks_said or question.asks_silence:
        kinds.add("speech")
    if question.asks_written:
        kinds |= {"text", "dense"}
    return kinds


def without_needless_translations(entries: list[Entry], question: str) -> list[Entry]:
    """``entries`` less the English translations of speech said in the question's own language.

    A German question about German speech reads the German original; its translation would only pull
    the answer towards English. Translations of speech in any other language stay.
    """
    asker = question_language(question)
    if asker == "en":
        return entries
    originals = [e for e in entries if e.kind == "speech" and e.tag != TRANSLATED
                 and any(o.language == asker for o in e.observations)]

    def needless(e: Entry) -> bool:
        return e.tag == TRANSLATED and any(o.start < (e.end or e.start) and e.start < (o.end or o.start)
                                           for o in originals)

    return [e for e in entries if not needless(e)]


def standing_text(entries: list[Entry], duration: float, share: float = STANDING_SHARE) -> list[int]:
    """Indices of on-screen text shown for at least ``share`` of the video (a title, cover or caption bar), longest first.

    Such text says what the whole video is, so it is a fact for every question (:func:`answer_facts`).
    """
    if duration <= 0:
        return []
    long = [i for i, e in enumerate(entries) if e.kind == "text" and (e.end or e.start) - e.start >= share * duration]
    return sorted(long, key=lambda i: -((entries[i].end or entries[i].start) - entries[i].start))


def _spread(pool: list[int], most: int) -> list[int]:
    """At most ``most`` of ``pool`` (sorted), evenly spaced from its first to its last."""
    if len(pool) <= most:
        return pool
    if most < 2:
        return pool[:max(most, 0)]
    return [pool[round(k * (len(pool) - 1) / (most - 1))] for k in range(most)]


def overview(entries: list[Entry], most: int = MAX_ENTRIES) -> list[int]:
    """Indices of at most ``most`` entries spread over the video, speech and on-screen text first (what a
    question about the whole video reads: "What is this video about?")."""
    said = [i for i, e in enumerate(entries) if e.kind in QUOTED_KINDS]
    if len(said) >= most:
        return _spread(said, most)
    return sorted(said + _spread([i for i, e in enumerate(entries) if e.kind not in QUOTED_KINDS],
                                 most - len(said)))


def select_entries(question: Question, context: VideoContext, embedder: TextEmbedder | None = None,
                   budget_tokens: int = EVIDENCE_TOKENS, count_tokens: TokenCounter = approx_tokens,
                   max_entries: int = MAX_ENTRIES) -> tuple[list[Entry], dict[int, float]]:
    """The entries that bear on ``question`` (see the module docstring), in time order, and every score."""
    entries = without_needless_translations([e for e in context.entries if e.kind != "summary"], question.text)
    if not entries:
        return [], {}
    raw = entry_scores(question.text, entries, embedder)
    kinds = preferred_kinds(question)
    bonus = [0.3 if e.kind in kinds else 0.0 for e in entries]
    scores = [float(s) + b for s, b in zip(raw, bonus)]
    spans = resolve_spans(question, duration_of(context))
    inside = [i for i, e in enumerate(entries) if spans and any(s.overlaps(e.start, e.end, 0.5) for s in spans)]
    if kinds:   # the kinds asked for ("written" -> text) come next, best first, up to half the entries
        asked_kind = sorted((i for i, e in enumerate(entries) if e.kind in kinds and i not in inside),
                            key=lambda i: -scores[i])
        inside += asked_kind[: max(1, max_entries // 2)]
    order = sorted(inside, key=lambda i: -scores[i])
    top = float(max(raw))   # the floor compares relevance alone; the kind bonus only orders
    floor = RELATIVE_SCORE * top if top > 0 else math.inf
    asked = {_stem(w) for w in terms(question.words or question.text)}
    if not asked and not inside:   # no word but stop words ("What is this video about?"): the whole video
        order, floor = overview(entries, max_entries), math.inf
    elif top < MIN_RELEVANCE and not any(asked & {_stem(w) for w in terms(e.search or e.text)} for e in entries):
        floor = math.inf   # nothing is about the question
    order += [i for i in sorted(range(len(entries)), key=lambda i: -scores[i])
              if i not in inside and raw[i] >= floor and raw[i] > 0]
    chosen, used = [], 0
    for i in order:
        cost = count_tokens(entries[i].line()) + 1
        if len(chosen) >= max_entries or used + cost > budget_tokens:
            break
        chosen.append(i)
        used += cost
    return [entries[i] for i in sorted(chosen)], {id(e): s for e, s in zip(entries, scores)}


def select_evidence(context: VideoContext, question: str | Question, embedder: TextEmbedder | None = None,
                    budget_tokens: int = EVIDENCE_TOKENS, count_tokens: TokenCounter = approx_tokens,
                    max_entries: int = MAX_ENTRIES) -> Evidence:
    """The :class:`Evidence` for ``question`` from ``context`` (entries, facts, status, draft)."""
    asked = question if isinstance(question, Question) else parse_question(question)
    context = context.during(resolve_spans(asked, duration_of(context)))   # a changing text: its values then
    status = status_lines(context.header)
    left = budget_tokens - count_tokens("\n".join(status))
    entries, scores = select_entries(asked, context, embedder, max(left, 0), count_tokens, max_entries)
    facts, draft, quoting = answer_facts(asked, context, scores)
    best = max(entries, key=lambda e: scores.get(id(e), 0.0), default=None)
    evidence = Evidence(asked, status, facts, entries, draft, best, quoting)
    while entries and count_tokens(evidence.render()) > budget_tokens:
        entries = entries[:-1]
        evidence = replace(evidence, entries=entries)
    return evidence


# --- checking an answer ---------------------------------------------------------------------------------------

def keeps_facts(answer: str, draft: str, share: float = 0.5) -> bool:
    """Whether ``answer`` keeps at least ``share`` of the draft's content words and every number in it
    (times aside: citing them is :mod:`prompting.cite`'s job; "two" counts as 2)."""
    from prompting.question import NUMBER_WORDS

    draft = re.sub(r"\b\d+:\d\d(?::\d\d)?\b", " ", draft)
    wanted = content_words(draft)
    got = content_words(answer)
    numbers = set(re.findall(r"\b\d+\b", draft))
    said = set(re.findall(r"\b\d+\b", answer)) | {str(int(NUMBER_WORDS[w])) for w in re.findall(r"[a-z]+", answer.lower())
                                                   if w in NUMBER_WORDS and w not in ("a", "an")}
    polarity = re.match(r"\s*(yes|no)\b", draft, re.I)
    if polarity and not re.match(rf"\W*{polarity.group(1)}\b", answer, re.I):
        return False   # a yes/no draft: the answer must say the same yes or no first
    return (not wanted or len(wanted & got) >= share * len(wanted)) and numbers <= said


def draws_on(answer: str, quoted: str, question: str) -> bool:
    """Whether ``answer`` is drawn from the ``quoted`` speech: it takes a word from it that the question does
    not hold, and does not stray from it (:func:`prompting.guard.strays`)."""
    return bool(content_words(answer) & content_words(quoted) - content_words(question)) and not strays(
        answer, quoted, question)


_META_WORDS = {"notes", "note", "context", "evidence", "transcript", "models", "perception"}


def is_meta(answer: str, evidence_text: str) -> bool:
    """Whether ``answer`` talks about the notes rather than the video: it names them and shares fewer than two
    other content words with the evidence (or is empty)."""
    words = content_words(answer)
    if not words:
        return True
    shared = (words - _META_WORDS) & content_words(evidence_text)
    return bool(words & _META_WORDS) and len(shared) < 2


def plain_answer(entry: Entry) -> str:
    """An entry as a plain answer: what was said or written and when, else its line."""
    if entry.kind in QUOTED_KINDS:
        what = "the speech says" if entry.kind == "speech" else "the on-screen text reads"
        said = said_text(entry)
        return f"At {span_text(entry.start, entry.end)} {what}: {quote(said)}" + ("" if said.endswith(
            (".", "!", "?", "…")) else ".")
    return entry.line()


def file_name_words(header: Header) -> set[str]:
    """Content words of the video's file name (split at ``_ - .`` and case changes), 4 letters or more."""
    from pathlib import Path

    stem = Path(header.video.path).stem
    parts = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", stem)
    return {p.lower() for p in parts if len(p) >= 4 and p.isalpha()}


def borrows_file_name(answer: str, header: Header, evidence_text: str, question: str) -> set[str]:
    """File-name words ``answer`` uses (or misspells) that neither the evidence nor the question holds."""
    from difflib import SequenceMatcher

    known = content_words(evidence_text) | content_words(question)
    name = {w for w in file_name_words(header) if w not in known}
    said = content_words(answer)
    return {w for w in name for s in said if len(s) >= 4 and SequenceMatcher(None, w, s).ratio() >= 0.8}
