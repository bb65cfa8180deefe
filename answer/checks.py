"""Step 5: the ordered, named checks an LLM answer passes before the user reads it.

:data:`CHECKS` runs in order on a :class:`Checking`; the first check that
replaces the answer ends the run, and its name goes into
:attr:`answer.records.Answer.checks`:

1. ``file_name``: the answer borrows words of the file name that nothing seen or
   heard holds (the file name is not evidence) -> declined.
2. ``draft``: with a fact-made draft, the answer must keep the draft's content
   words and numbers, a yes/no draft's yes or no first, and add nothing the
   evidence lacks; a short answer drawn from a draft that only quotes speech
   stays with the quote after it; else the draft replaces it.
3. ``details``: every name (a capitalised word inside a sentence), number,
   clock time, colour and piece of clothing in the answer must be in the
   evidence or the question ("born in 1890" is not, nor "a blue shirt" when no
   line names blue or a shirt; a time must fall near an evidence entry).
4. ``meta``: the answer talks about the notes rather than the video.
5. ``strays``: most of its content words are in neither the evidence nor the
   question (only compared within one language: a Chinese or German answer to
   English evidence is not "stray" for that).
6. ``sentences``: of an answer of several sentences, those that stray (as in 5)
   are dropped, the others kept.
7. ``names``: a who or where question whose answer names none of the people or
   places of the entry bearing most (for "where", the names after a place word:
   "in London") keeps the answer and adds that entry, quoted, after it.
Checks 3-5 give way to the entry that bears most on the question, quoted, or,
when that entry shares no word with the question and is no close paraphrase of
it either (cosine under :data:`answer.evidence.CLOSE_MEANING`), to "cannot
tell" with it as closest evidence. :func:`guard` is the same idea for a whole-context answer.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from answer.evidence import CLOSE_MEANING, names
from answer.facts import polarity, topic_words
from answer.question import Question, marker_pattern, parse_question
from answer.records import QUOTED_KINDS, Evidence, Source, plain_answer, said_text
from prompting.context import Header, VideoContext
from prompting.language import all_languages, data_for, question_language
from prompting.text import CJK, content_words, stop_words

CANNOT_TELL = "I cannot tell: the analysed video does not show that."
NOT_SHOWN = "The video does not show that."
_META_WORDS = {"notes", "note", "context", "evidence", "transcript", "models", "perception"}
_NUMBER = re.compile(r"(?<![\d:.])\d+(?:[.,]\d+)?(?![\d:])")
_CLOCK = re.compile(r"\b\d+:\d\d(?::\d\d)?\b")


def _cjk(text: str) -> bool:
    return bool(re.search(rf"[{CJK}]", text))


def _in_script_of(answer: str, words: set[str]) -> set[str]:
    """Those of ``words`` written in the script of ``answer`` (CJK or not): what the answer can be compared with."""
    cjk = _cjk(answer)
    return {w for w in words if _cjk(w) == cjk}


def unsupported_words(answer: str, known: str, question: str = "") -> list[str]:
    """Words of ``answer`` (as written) whose normalised form is neither in ``known`` nor in ``question``
    (digits aside)."""
    seen = content_words(known) | content_words(question)
    return sorted({w for w in re.findall(r"[^\W\d_]+", answer.lower()) if content_words(w) - seen})


def languages_of(entries) -> frozenset[str]:
    """The languages lines of ``entries`` are written in: their speech's (and subtitles') and English, the
    language of every other line."""
    return frozenset({"en"} | {o.language for e in entries for o in e.observations if o.language})


def strays(answer: str, known: str, question: str = "", max_unsupported: float = 0.5, min_words: int = 2,
           languages: Iterable[str] | None = None) -> bool:
    """Whether more than ``max_unsupported`` of ``answer``'s content words (and at least ``min_words``)
    appear neither in ``known`` (what the LLM was given) nor in ``question``; never across scripts, nor for an
    answer in none of the ``languages`` that ``known`` is written in (a German answer to English speech)."""
    if not _in_script_of(answer, content_words(known + question)):   # a Chinese answer to English evidence
        return False
    if languages is not None and question_language(answer) not in languages:
        return False
    missing = unsupported_words(answer, known, question)
    return len(missing) >= min_words and len(missing) > max_unsupported * len(content_words(answer))


def _number_words() -> dict[str, float]:
    return {w: v for d in all_languages() for w, v in d.number_words.items() if v >= 2}


def numbers_in(text: str) -> set[str]:
    """The numbers ``text`` names, in digits ("two" and "zwei" count as 2), clock times left out."""
    text = _CLOCK.sub(" ", text)
    out = {n.replace(",", ".").rstrip("0").rstrip(".") if "." in n or "," in n else n for n in _NUMBER.findall(text)}
    words = _number_words()
    out |= {str(int(words[w])) for w in re.findall(r"[^\W\d_]+", text.casefold()) if w in words}
    return out


def unsupported_details(answer: str, known: str, question: str = "") -> tuple[str, ...]:
    """Names and numbers of ``answer`` that neither ``known`` nor ``question`` holds (no names for an answer in a
    language that capitalises its nouns: there a capital letter does not tell a name)."""
    given = known + "\n" + question
    have_numbers, have_words = numbers_in(given), content_words(given) | {w.casefold() for w in names(given)}
    missing = [n for n in sorted(numbers_in(answer)) if n not in have_numbers]
    nouns_capitalised = data_for(question_language(answer)).capitalised_nouns
    for name in sorted(names(answer) if not nouns_capitalised else ()):
        words = content_words(name) or {name.casefold()}
        if not words & have_words and name.casefold() not in given.casefold():
            missing.append(name)
    return tuple(missing)


@cache
def _looks(code: str) -> dict[str, re.Pattern]:
    return {key: marker_pattern(words) for key, words in data_for(code).looks.items()}


def looks_named(text: str, languages: Iterable[str]) -> dict[str, set[str]]:
    """The colours and clothes ``text`` names in the words of ``languages``: English key -> the words as
    written ("a blaue Jacke" -> {"blue": {"blaue"}, "jacket": {"Jacke"}})."""
    out: dict[str, set[str]] = {}
    for code in languages:
        for key, pattern in _looks(code).items():
            found = {m.group(0) for m in pattern.finditer(text)}
            if found:
                out.setdefault(key, set()).update(found)
    return out


def unsupported_looks(answer: str, known: str, question: Question) -> tuple[str, ...]:
    """Colour and clothing words of ``answer`` (in its language or the question's) that neither ``known`` nor
    the question holds, in any language ("a blue shirt" when no line says blue, or shirt: invented)."""
    given = known + "\n" + question.text
    have = looks_named(given, [d.code for d in all_languages()])
    words = content_words(given)
    said = looks_named(answer, {question_language(answer), question.language})
    return tuple(sorted(w for key, found in said.items() if key not in have for w in found
                        if not content_words(w) <= words))


def keeps_facts(answer: str, draft: str, share: float = 0.5, question: str = "") -> bool:
    """Whether ``answer`` keeps at least ``share`` of the draft's content words beyond the ``question``'s and
    every number in it (times aside: citing them is :mod:`prompting.cite`'s job), and a yes/no draft's yes or
    no first. Words the question already holds prove nothing: "Europe is haunted" keeps no fact of "A spectre
    is haunting Europe" for a question about what haunts Europe."""
    # compared in the answer's script: a draft quoting "抱歉中士 Sorry, Sarge." is compared on its English words
    # with an English answer, on its Chinese ones with a Chinese answer, and on its numbers alone with neither
    drafted = _in_script_of(answer, content_words(_CLOCK.sub(" ", draft)))
    wanted, got = (drafted - content_words(question)) or drafted, content_words(answer)
    said = polarity(draft)
    if said and polarity(answer) != said:
        return False
    return (not wanted or len(wanted & got) >= share * len(wanted)) and numbers_in(draft) <= numbers_in(answer)


def draws_on(answer: str, quoted: str, question: str, languages: Iterable[str] | None = None) -> bool:
    """Whether ``answer`` is drawn from the ``quoted`` speech: it takes a word from it that the question does
    not hold, and does not stray from it."""
    return bool(content_words(answer) & content_words(quoted) - content_words(question)) and not strays(
        answer, quoted, question, languages=languages)


def is_meta(answer: str, evidence_text: str) -> bool:
    """Whether ``answer`` talks about the notes rather than the video: it names them and shares fewer than two
    other content words with the evidence (or is empty)."""
    words, meta = content_words(answer), content_words(" ".join(_META_WORDS))
    if not words:
        return not answer.strip()
    shared = (words - meta) & content_words(evidence_text)
    return bool(words & meta) and len(shared) < 2


def file_name_words(header: Header) -> set[str]:
    """Content words of the video's file name (split at ``_ - .`` and case changes), 4 letters or more."""
    parts = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", Path(header.video.path).stem)
    return {p.lower() for p in parts if len(p) >= 4 and p.isalpha()}


def borrows_file_name(answer: str, header: Header, evidence_text: str, question: str) -> set[str]:
    """File-name words ``answer`` uses (or misspells) that neither the evidence nor the question holds."""
    known = content_words(evidence_text) | content_words(question)
    name = {w for w in file_name_words(header) if not content_words(w) & known}
    said = {w for w in re.findall(r"[^\W\d_]+", answer.casefold()) if len(w) >= 4 and w not in stop_words()}
    return {w for w in name for s in said if SequenceMatcher(None, w, s).ratio() >= 0.8}


def cannot_tell(context: VideoContext, question: str = "") -> str:
    """The "cannot tell" answer, with what the context says could not be seen (the reasons that share a word
    with ``question``, else all of them)."""
    reasons = context.header.unknown()
    asked = content_words(question)
    reasons = [r for r in reasons if content_words(r) & asked] or reasons
    return CANNOT_TELL + (" " + " ".join(r.rstrip(".") + "." for r in reasons) if reasons else "")


@dataclass(frozen=True)
class Guarded:
    """The answer to show, whether the original was replaced, and the words nothing supported."""

    answer: str
    replaced: bool
    unsupported: tuple[str, ...]


def guard(answer: str, context: VideoContext, question: str = "", max_unsupported: float = 0.5,
          min_words: int = 2) -> Guarded:
    """``answer``, or a "cannot tell" answer when more than ``max_unsupported`` of its content words
    (and at least ``min_words`` of them) are supported by no line of ``context`` nor by ``question``, or when
    it names a colour or piece of clothing that none of them does."""
    known = context.render()
    missing = unsupported_words(answer, known, question)
    invented = unsupported_looks(answer, known, parse_question(question))
    if not invented and not strays(answer, known, question, max_unsupported, min_words,
                                   languages_of(context.entries)):
        return Guarded(answer, False, tuple(missing))
    return Guarded(cannot_tell(context, question), True, tuple(dict.fromkeys(missing + list(invented))))


@dataclass
class Checking:
    """What the checks read: the LLM's answer, the question's evidence and the whole context."""

    answer: str
    evidence: Evidence
    context: VideoContext
    seen: str                       # what the LLM was given (entries, facts, the language spoken)
    unsupported: tuple[str, ...] = field(default=())

    @property
    def languages(self) -> frozenset[str]:
        """The languages of what the LLM was given (:func:`languages_of` its evidence)."""
        return languages_of(self.evidence.entries)


Verdict = tuple[str, Source] | None
"""A check's replacement answer and its source, or None: the answer passes."""


def best_entry(c: Checking) -> tuple[str, Source]:
    """The entry bearing most on the question quoted, or "cannot tell ... Closest evidence" when it is a
    quotation that shares no word with the question (or a detection line while something is unknown)."""
    ev, best = c.evidence, c.evidence.best
    unknown = c.context.header.unknown()
    lead = cannot_tell(c.context, ev.question.text) if unknown else NOT_SHOWN
    if best is None:
        return lead, "decline"
    quotation = best.kind in QUOTED_KINDS
    asked = topic_words(ev.question)
    named = bool(ev.question.asks & {"who", "where"} and names(best.text))   # a name answers "who", "where"
    close = ev.relevance.get(id(best), 0.0) >= CLOSE_MEANING   # a paraphrase: "fruits" and "apples, pears"
    if (quotation and asked and not named and not close and not asked & content_words(said_text(best))) or (
            not quotation and unknown):
        return f"{lead} Closest evidence: {best.line()}", "decline"
    return plain_answer(best), "quote"


def check_file_name(c: Checking) -> Verdict:
    """Declined when the answer borrows the file name."""
    if borrows_file_name(c.answer, c.context.header, c.seen, c.evidence.question.text):
        return f"{NOT_SHOWN} (The file name is not evidence of what the video shows.)", "decline"
    return None


def check_draft(c: Checking) -> Verdict:
    """The draft, unless the answer keeps its facts and adds nothing (see the module docstring)."""
    ev = c.evidence
    draft = ev.draft
    if not draft:
        return None
    question = ev.question.text
    kept = keeps_facts(c.answer, draft, question=question)
    if kept and not strays(c.answer, c.seen, question, languages=c.languages) and not c.unsupported:
        return None
    if ev.quoting and draws_on(c.answer, draft, question, c.languages) and not c.unsupported:
        return f"{c.answer.rstrip()} ({draft.rstrip('.')})", "llm"   # the short answer, then what it rests on
    return draft, "quote" if ev.quoting else "fact_draft"


def check_details(c: Checking) -> Verdict:
    """The best entry when the answer names people, places or numbers that the evidence does not hold."""
    return best_entry(c) if c.unsupported else None


def check_meta(c: Checking) -> Verdict:
    """The best entry when the answer is about the notes."""
    return best_entry(c) if is_meta(c.answer, c.evidence.content()) else None


def check_strays(c: Checking) -> Verdict:
    """The best entry when the answer's words are mostly not in the evidence."""
    return best_entry(c) if strays(c.answer, c.seen, c.evidence.question.text, languages=c.languages) else None


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def check_sentences(c: Checking) -> Verdict:
    """An answer of several sentences keeps those that stay with the evidence: a sentence most of whose words
    (and at least two) nothing given holds is dropped ("... not available due to copyright restrictions")."""
    sentences = [x for x in _SENTENCE_END.split(c.answer.strip()) if x.strip()]
    if len(sentences) < 2:
        return None
    kept = [x for x in sentences if not strays(x, c.seen, c.evidence.question.text, languages=c.languages)]
    if not kept or len(kept) == len(sentences):
        return None
    joiner = "" if _cjk(c.answer) else " "
    return joiner.join(kept), "llm"


@cache
def _place_words() -> re.Pattern:
    return marker_pattern({w for d in all_languages() for w in d.place_words})


def wanted_names(question: Question, entry_text: str) -> set[str]:
    """The names in ``entry_text`` that would answer a who or where ``question`` (none the question names
    itself); for "where", those after a place word of any language ("in London", "aus Berlin") when there are
    any."""
    if not question.asks & {"who", "where"}:
        return set()
    asked = {n.casefold() for n in names(question.text)}
    found = {n for n in names(entry_text) if n.casefold() not in asked}
    if "where" in question.asks:
        before = _place_words().pattern
        places = {n for n in found if re.search(rf"{before}\s+{re.escape(n)}\b", entry_text, re.I)}
        found = places or found
    return found


def check_names(c: Checking) -> Verdict:
    """For a who or where question: the answer names none of the people or places of the entry bearing most,
    which follows it, quoted ("She grew up by the sea." then 'the speech says: "I grew up in Lisbon"')."""
    best = c.evidence.best
    if best is None or best.kind not in QUOTED_KINDS:
        return None
    wanted = wanted_names(c.evidence.question, said_text(best))
    if not wanted or any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", c.answer, re.I) for n in wanted):
        return None
    return f"{c.answer.rstrip()} ({plain_answer(best).rstrip('.')})", "llm"


CHECKS: tuple[tuple[str, Callable[[Checking], Verdict]], ...] = (
    ("file_name", check_file_name), ("draft", check_draft), ("details", check_details), ("meta", check_meta),
    ("strays", check_strays), ("sentences", check_sentences), ("names", check_names))
"""The checks, in the order they run."""

AMENDING = frozenset({"sentences"})
"""Checks that amend the answer (it stays the LLM's) and let the later checks read the amended one."""


def unsupported_times(answer: str, evidence: Evidence, known: str, slack: float = 2.0) -> tuple[str, ...]:
    """Clock times of ``answer`` ("0:45") that ``known`` does not hold and that fall within ``slack`` seconds of
    no evidence entry's or fact's span."""
    spans = [(e.start, e.end if e.end is not None else e.start) for e in evidence.entries]
    spans += [(f.start, f.end if f.end is not None else f.start) for f in evidence.facts if f.start is not None]
    out = []
    for t in _CLOCK.findall(answer):
        parts = [int(x) for x in t.split(":")]
        at = parts[-1] + 60 * parts[-2] + (3600 * parts[0] if len(parts) == 3 else 0)
        near = any(a - slack <= at <= b + slack for a, b in spans)
        if t not in known and not near:
            out.append(t)
    return tuple(out)


def unsupported_in(answer: str, evidence: Evidence, seen: str) -> tuple[str, ...]:
    """The names, numbers, clock times, colours and clothes of ``answer`` that neither ``seen`` (what the LLM
    was given) nor the question holds (times: nor near an entry or fact of ``evidence``), each once."""
    asked = evidence.question
    return tuple(dict.fromkeys(unsupported_details(answer, seen, asked.text)
                               + unsupported_times(answer, evidence, seen + "\n" + asked.text)
                               + unsupported_looks(answer, seen, asked)))


def run_checks(c: Checking) -> tuple[str, Source, tuple[str, ...]]:
    """The answer after :data:`CHECKS`: its text, its source and the names of the checks that changed it (a
    check in :data:`AMENDING` changes the answer and the run goes on with it; any other ends the run)."""
    c.unsupported = unsupported_in(c.answer, c.evidence, c.seen)
    fired: tuple[str, ...] = ()
    for name, check in CHECKS:
        verdict = check(c)
        if verdict is not None:
            text, source = verdict
            fired += (name,)
            if name not in AMENDING:
                return text, source, fired
            c.answer = text
    return c.answer, "llm", fired

