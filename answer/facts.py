"""Step 3: facts computed from the entries, never by the LLM, and a plain draft answer made of them.

Each rule family (the table in ``docs/answering.md``) reads one kind of evidence:

* **said at a time**: the speech inside the spans the question names;
* **silence**: the stretches without speech (:func:`prompting.speech.gaps`);
* **read aloud**: the speech whose words an on-screen text holds, with that text;
* **speech on the topic**: the spoken sentence sharing most of the question's
  words (at least two and half of them), or for a speech question the best
  ranked one sharing one;
* **on-screen text**: the ``text`` entries (in the spans); when none was read
  but a speech entry bears on the question, that speech is quoted instead of
  "No on-screen text was read";
* **count**: per detected class, the most a keyframe showed at once and when it
  was visible;
* **cuts**: the shots fact of the header, ``Yes``/``No`` first for a yes/no question about cuts ("Yes" when
  there are any) or about one unbroken take ("Yes" when there are none);
* **standing text**: on-screen text shown for at least half the video (a title,
  a cover) goes with every question; header facts of other stages join by kind
  and word overlap.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from answer.evidence import duration_of, ran, standing_text
from answer.question import Question, TimeSpan, resolve_spans
from answer.records import Draft, Evidence, Fact, said_text, span_text
from prompting.context import TRANSLATED, Entry, Header, VideoContext, clock, one_line, quote
from prompting.language import all_languages, data_for
from prompting.speech import gaps
from prompting.text import content_words

MIN_SILENCE = 2.0          # seconds without speech that count as a silence
APPEARANCE_GAP = 2.0       # a class unseen for longer starts a new appearance
RESTATED_WORDS = 2         # a question restates a spoken sentence holding this many of its words ...
RESTATED_SHARE = 0.5       # ... and this share of them


def polarity(text: str) -> str | None:
    """"yes" or "no" when ``text`` opens with the yes or no word of any language's data file, followed by a
    punctuation mark ("No." or "No," is an answer, "No speech ..." is not)."""
    head = text.strip().casefold()
    for d in all_languages():
        for word, value in ((d.yes, "yes"), (d.no, "no")):
            stem = word.casefold().rstrip(".。")
            if stem and re.match(rf"\W*{re.escape(stem)}(?:[.,!;:。、！，]|$)", head):
                return value
    return None


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
    """Stretches of at least ``min_silence`` seconds without speech, from the start to ``duration``."""
    return gaps(speech_spans(entries), duration, min_silence)


def label_matches(label: str, wanted: str) -> bool:
    """Whether a detector ``label`` is what the question's ``wanted`` words name ("people", "Personen", "人"
    -> person), by the ``class_words`` of every language."""
    lab = label.casefold()
    words = set(wanted.casefold().split())
    known = {w.casefold() for d in all_languages() for w in d.class_words.get(lab, ())}
    if lab in words or content_words(lab) & content_words(wanted) or words & known:
        return True
    return any(w in wanted.casefold() for w in known if not w.isascii())   # CJK words are not spaced


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


def spoken(entries: list[Entry]) -> list[Entry]:
    """Speech entries as heard (not translations)."""
    return [e for e in entries if e.kind == "speech" and e.said and e.tag != TRANSLATED]


def topic_words(question: Question) -> set[str]:
    """The normalised words of the question's topic, and of their English gloss."""
    from answer.evidence import glossed

    english, rest = glossed(question, question.topic)
    return content_words(rest) | content_words(english)


def best_said(question: Question, entries: list[Entry], scores: dict[int, float]) -> Entry | None:
    """The speech entry on the question's topic: the highest-ranked one sharing a topic word, else None."""
    topic = topic_words(question)
    said = [e for e in spoken(entries) if topic & content_words(e.said)]
    return max(said, key=lambda e: (len(topic & content_words(e.said)), scores.get(id(e), 0.0)), default=None)


def restated(question: Question, entries: list[Entry], min_words: int = RESTATED_WORDS,
             min_share: float = RESTATED_SHARE) -> Entry | None:
    """The spoken sentence holding at least ``min_words`` and ``min_share`` of the question's words (the
    question restates it: "Where do the engineers meet?" and "... the engineers meet in Oslo"); the one
    holding most, the earliest on a tie. None when no sentence does."""
    from answer.evidence import glossed

    english, rest = glossed(question)
    asked = content_words(rest) | content_words(english)   # a glossed word counts once, in English
    best, most = None, 0
    for e in spoken(entries):
        shared = len(asked & content_words(e.said))
        if shared > most:
            best, most = e, shared
    return best if asked and most >= min_words and most >= min_share * len(asked) else None


def read_aloud(entries: list[Entry], min_words: int = 3, min_share: float = 0.5) -> tuple[Entry, Entry] | None:
    """The speech that reads on-screen text out (a title read from a cover or a slide) and that text: the
    speech entry sharing the most words with a text entry (at least ``min_words``, and ``min_share`` of the
    shorter of the two: a title read inside a longer sentence counts as read out)."""
    texts = [(e, content_words(said_text(e))) for e in entries if e.kind == "text"]
    best, most = None, 0
    for speech in spoken(entries):
        said = content_words(speech.said)
        for text, written in texts:
            shared = len(said & written)
            if shared > most and shared >= min_words and shared >= min_share * min(len(said), len(written)):
                best, most = (speech, text), shared
    return best


def _spans_text(spans: list[TimeSpan]) -> str:
    return ", ".join("at " + clock(s.start) if s.point else span_text(s.start, s.end) for s in spans)


def _inside(entries: list[Entry], kind: str, spans: list[TimeSpan]) -> list[Entry]:
    return [e for e in entries if e.kind == kind and (not spans or any(s.overlaps(e.start, e.end, 0.5)
                                                                        for s in spans))]


class _Drafting:
    """Collects facts and draft sentences; counts the sentences that only quote speech, and whether the facts
    that look for something (speech at a time, a silence, text, a class) found it."""

    def __init__(self, question: Question):
        self.question = question
        self.facts: list[Fact] = []
        self.parts: list[str] = []
        self.quotes = 0
        self.found: list[bool] = []

    def add(self, fact: Fact, sentence: str | None = None, quote_only: bool = False, found: bool | None = None
            ) -> None:
        self.facts.append(fact)
        if sentence:
            self.parts.append(sentence)
            self.quotes += quote_only
            if found is not None:
                self.found.append(found)

    def draft(self) -> Draft:
        """The draft; a yes/no question answered by whether a fact found what it asks about gets yes or no first
        ("Is anything said at 0:30?", "Hay una pausa?")."""
        text = " ".join(self.parts) or None
        if text and self.question.yes_no and self.found and not polarity(text):
            words = data_for(self.question.language)
            text = f"{words.yes if any(self.found) else words.no} {text}"
        return Draft(tuple(self.facts), text, bool(self.parts) and self.quotes == len(self.parts))


def _quote_speech(d: _Drafting, e: Entry) -> None:
    at = span_text(e.start, e.end)
    d.add(Fact("speech", f"Said {at}: {quote(e.said)}", e.start, e.end),
          f"At {at} the speech says: {quote(e.said)}", quote_only=True)


def draft_answer(question: Question, context: VideoContext, evidence: Evidence) -> Draft:
    """Step 3: the facts that answer ``question`` and a draft made of them (see the module docstring)."""
    header, entries, scores = context.header, context.entries, evidence.scores
    duration = duration_of(context)
    spans = resolve_spans(question, duration)
    where = _spans_text(spans)
    heard = ran(header, "asr") and header.video.has_audio
    d = _Drafting(question)
    if question.wants("silence") and heard:
        quiet = [(a, b) for a, b in silences(entries, duration) if not spans or any(s.overlaps(a, b) for s in spans)]
        text = ("No speech " + ", ".join(span_text(a, b) for a, b in quiet) if quiet
                else "There is no pause in the speech" if speech_spans(entries) else "Nothing is said in the video")
        d.add(Fact("silence", text), text + ".", found=bool(quiet))
    reading = read_aloud(entries) if question.wants("read") and heard else None
    topical = best_said(question, entries, scores) if heard else None
    if spans and heard and not question.asks & {"written", "count", "silence"}:
        said = _inside(entries, "speech", spans)
        if said:
            text = f"Said {where}: " + " ".join(quote(e.said) for e in said)
            d.add(Fact("speech", text, said[0].start, said[-1].end),
                  f"{where[0].upper()}{where[1:]} the speech says: " + " ".join(quote(e.said) for e in said) + "."
                  if question.wants("said") else None, found=True)
        elif question.wants("said"):
            d.add(Fact("speech", f"Nothing is said {where}"), f"Nothing is said {where}.", found=False)
    elif reading:
        speech, text = reading
        at, shown = span_text(speech.start, speech.end), span_text(text.start, text.end)
        d.add(Fact("speech", f"Read aloud {at}: {quote(speech.said)}, the on-screen text of {shown}: "
                             f"{quote(said_text(text))}", speech.start, speech.end),
              f"At {at} the speech reads out the on-screen text: {quote(speech.said)} "
              f"(on screen {shown}: {quote(said_text(text))}).", quote_only=True)
    elif heard and not question.yes_no and not question.asks & {"count", "silence", "shots", "written"}:
        quoted = topical if question.wants("said") else restated(question, entries)
        if quoted:
            _quote_speech(d, quoted)
    if question.wants("written"):
        written = _inside(entries, "text", spans)
        shown = written if spans or len(written) <= 3 else sorted(written, key=lambda e: -scores.get(id(e), 0.0))[:3]
        if shown:
            text = "On-screen text" + (f" {where}" if spans else "") + ": " + "; ".join(
                f"{quote(said_text(e))} ({span_text(e.start, e.end)})" for e in shown)
            d.add(Fact("text", text), text + ".", found=True)
        elif any(e.kind == "text" for e in entries) or ran(header, "ocr"):
            text = "No on-screen text was read" + (f" {where}" if spans else "")
            # a negative fact gives way to speech that bears on the question ("the sign ... represents ...")
            d.add(Fact("text", text), None if topical else text + ".", found=False)
            if topical:
                _quote_speech(d, topical)
    if question.counts_objects:
        _count(d, question, entries, spans, where, header)
    if question.wants("shots"):
        _shots(d, question, header)
    if not any(f.kind == "text" for f in d.facts):
        for i in standing_text(entries, duration)[:2]:
            e = entries[i]
            d.facts.append(Fact("text", f"On screen for most of the video ({span_text(e.start, e.end)}): "
                                        f"{quote(said_text(e))}", e.start, e.end))
    d.facts.extend(_matching_header_facts(question, header, {f.kind for f in d.facts}))
    return d.draft()


def _count(d: _Drafting, question: Question, entries: list[Entry], spans: list[TimeSpan], where: str,
           header: Header) -> None:
    found = [p for p in presence(entries, spans) if label_matches(p.label, question.count_of)]
    for p in found:
        seen = ", ".join(span_text(a, b) for a, b in p.spans[:6]) + (" ..." if len(p.spans) > 6 else "")
        times = "1 appearance" if len(p.spans) == 1 else f"{len(p.spans)} separate appearances"
        d.add(Fact("presence", f"{p.label}: up to {p.most} at once in one keyframe; visible {seen} ({times})"),
              f"Up to {p.most} {p.label}{'' if p.most == 1 else 's'} at once ({times}, visible {seen}).", found=True)
    if found:
        return
    if ran(header, "detector"):
        text = f"No {question.count_of} detected" + (f" {where}" if spans else "")
        d.add(Fact("presence", text), text + ".", found=False)
    else:
        d.add(Fact("presence", f"Object detection did not run: the number of {question.count_of} is unknown"))


def _shots(d: _Drafting, question: Question, header: Header) -> None:
    shots = [f for f in header_facts(header) if f.kind == "shots"]
    if not shots:   # the shots stage did not run (it always writes a fact when it did)
        d.add(Fact("shots", "Shot changes were not analysed: whether there are cuts is unknown"))
        return
    typed = [f for f in getattr(header, "facts", ()) or () if getattr(f, "kind", None) == "shots"]
    cuts = any(getattr(f, "cuts", ()) for f in typed)
    lead = ""
    if question.yes_no and question.asks & {"cuts", "one_shot"}:
        # "Are there cuts?" is answered by whether there are any, "Is it one unbroken take?" by whether there are none
        words = data_for(question.language)
        lead = (words.yes if cuts != question.wants("one_shot") else words.no) + " "
    for f in shots:
        d.add(f, lead + f.text + ".")


def _matching_header_facts(question: Question, header: Header, have: set[str], most: int = 3) -> list[Fact]:
    """Header facts of the kinds the question asks for, or sharing its words (at most ``most``)."""
    wanted = content_words(question.words or question.text)
    chosen = []
    for fact in header_facts(header):
        if fact.kind in have:
            continue
        by_kind = ((fact.kind == "presence" and question.counts_objects
                    and label_matches(fact.text.split()[0], question.count_of))
                   or (fact.kind == "speech" and question.wants("silence")))
        if by_kind or wanted & content_words(fact.text):
            chosen.append(fact)
    return chosen[:most]
