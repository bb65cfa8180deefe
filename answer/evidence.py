"""Step 2: the few context entries that bear on one question, and what was and was not analysed.

1. **Entries**: those inside the spans the question names, then the most
   relevant by retrieval (:func:`prompting.retrieve.entry_scores`: embeddings or
   BM25, plus a boost for named times), the kinds the question asks for (speech
   for "say", ``text`` for "written", entries naming someone for "who") first; at
   most ``max_entries``, within a token budget, in time order. A question of stop
   words only ("What is this video about?") gets entries spread over the whole
   video instead (:func:`overview`).
2. **Across languages**: a question in another language than the context is
   matched with its words glossed into English (``gloss`` in
   ``prompts/lang/LANG.json``) besides its own. When nothing bears on it even so
   and the speech is in another language, the evidence is an overview and says
   that the question could not be matched (:attr:`Evidence.unmatched_language`),
   never that the video holds nothing on it.
3. **Status**: the duration, the language spoken and what was not analysed (no
   file name: it is not evidence of the content).
"""
from __future__ import annotations

import math
import re
from collections import defaultdict

from answer.question import Question, resolve_spans
from answer.records import QUOTED_KINDS, Evidence
from prompting.context import TRANSLATED, Entry, Header, VideoContext, clock, one_line
from prompting.language import all_languages
from prompting.retrieve import TextEmbedder, entry_scores
from prompting.text import CJK, content_words
from prompting.tokens import TokenCounter, approx_tokens

MAX_ENTRIES = 6
EVIDENCE_TOKENS = 700
RELATIVE_SCORE = 0.6       # retrieved entries must score at least this share of the best one
MIN_RELEVANCE = 0.25       # below this best score (cosine or normalized BM25), with no word in common, nothing bears
CLOSE_MEANING = 0.35       # a cosine this high bears on the question without a shared word ("fruits" / "apples")
KIND_BONUS = 0.3           # added to the score of an entry of a kind the question asks for
MIN_SHARED = 2             # asked words an entry must share for the count to rank it before the score
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'-]+")


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
    # no "Model ..." lines: a small LLM answers about the models instead of the video
    lines += [line for line in [header.speech_line()] if line]   # the language spoken is evidence too
    skipped: dict[str, list[str]] = defaultdict(list)
    for note in header.notes:
        if note.stage:
            skipped[one_line(note.reason)].append(note.stage)
        else:
            lines.append(f"Note: {one_line(note.render(fix=False))}")
    lines += [f"Not analysed ({why}): {', '.join(stages)}" for why, stages in skipped.items()]
    return lines


def names(text: str) -> set[str]:
    """Capitalised words that do not open a sentence: the names a text holds ("Karl Marx", "London")."""
    return {m.group(0) for m in _NAME.finditer(text)} - {"I"}


def preferred_kinds(question: Question) -> set[str]:
    """The entry kinds the question asks for ("say" -> speech, "written" -> text, "wearing" or "colour" ->
    looks)."""
    kinds = set()
    if question.asks & {"said", "silence", "read"}:
        kinds.add("speech")
    if question.wants("written"):
        kinds |= {"text", "dense"}
    if question.asks & {"colour", "wearing"}:   # how someone or something looks: the Looks and region lines
        kinds |= {"looks", "dense"}
    return kinds


def glossed(question: Question, text: str | None = None) -> tuple[str, str]:
    """The question's words (or ``text``, a part of them) glossed into English (``gloss`` in the data files,
    its own language's first, then the others': telling languages apart on a few words is not sure), and
    those words less the glossed ones; ("", the words) for English."""
    rest = (text if text is not None else question.words or question.text).lower()
    if question.language == "en":
        return "", rest
    english = []
    for data in sorted(all_languages(), key=lambda d: d.code != question.language):
        for word, meaning in sorted(data.gloss.items(), key=lambda kv: -len(kv[0])):
            pattern = re.escape(word.lower()) if re.match(rf"[{CJK}]", word) else rf"(?<!\w){re.escape(word.lower())}(?!\w)"
            if re.search(pattern, rest):
                english.append(meaning)
                rest = re.sub(pattern, " ", rest)
    return " ".join(english), rest


def spoken_language(context: VideoContext) -> str | None:
    """The language of the speech heard (its first original speech entry's), or None without speech."""
    for e in context.entries:
        if e.kind == "speech" and e.tag != TRANSLATED:
            for o in e.observations:
                if o.language:
                    return o.language
    return "en" if any(e.kind == "speech" for e in context.entries) else None


def without_needless_translations(entries: list[Entry], question: Question) -> list[Entry]:
    """``entries`` less the English translations of speech said in the question's own language.

    A German question about German speech reads the German original; its translation would only pull
    the answer towards English. Translations of speech in any other language stay.
    """
    asker = question.language
    if asker == "en":
        return entries
    originals = [e for e in entries if e.kind == "speech" and e.tag != TRANSLATED
                 and any(o.language == asker for o in e.observations)]

    def needless(e: Entry) -> bool:
        return e.tag == TRANSLATED and any(o.start < (e.end or e.start) and e.start < (o.end or o.start)
                                           for o in originals)

    return [e for e in entries if not needless(e)]


def standing_text(entries: list[Entry], duration: float, share: float = 0.5) -> list[int]:
    """Indices of on-screen text shown for at least ``share`` of the video (a title, cover or caption bar),
    longest first: such text says what the whole video is."""
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


def bearing_most(picked: list[Entry], within: set[int], asked: set[str], scores: dict[int, float]) -> Entry | None:
    """The entry of ``picked`` that bears most on the question: one inside the spans it names (``within``: their
    ids) first, then the one sharing most of its topic words (``asked``; at least :data:`MIN_SHARED`), then the
    best scored. Shared words before the score: a long run-on sentence that holds three of the words asked
    about answers better than a short one holding one, whatever a vector diluted by the rest of it says."""

    def shared(e: Entry) -> int:   # one shared word ("doing") is no sign of bearing: the score decides then
        n = len(asked & content_words(e.search or e.text))
        return n if n >= MIN_SHARED else 0

    return max(picked, key=lambda e: (id(e) in within, shared(e), scores.get(id(e), 0.0)), default=None)


def select_evidence(question: Question, context: VideoContext, embedder: TextEmbedder | None = None,
                    budget_tokens: int = EVIDENCE_TOKENS, count_tokens: TokenCounter = approx_tokens,
                    max_entries: int = MAX_ENTRIES) -> Evidence:
    """Step 2: the :class:`Evidence` of ``question`` (entries, scores, status; facts come in step 3)."""
    context = context.during(resolve_spans(question, duration_of(context)))   # a changing text: its values then
    status = status_lines(context.header)
    budget = max(budget_tokens - count_tokens("\n".join(status)), 0)
    entries = without_needless_translations([e for e in context.entries if e.kind != "summary"], question)
    if not entries:
        return Evidence(question, status, matched=False)
    english, _ = glossed(question)
    asked_text = f"{question.words or question.text} {english}".strip()
    raw = entry_scores(question.text + (f" ({english})" if english else ""), entries, embedder)
    kinds = preferred_kinds(question)
    wants_name = bool(question.asks & {"who", "where"})
    bonus = [KIND_BONUS * ((e.kind in kinds) + (wants_name and e.kind in QUOTED_KINDS and bool(names(e.text))))
             for e in entries]
    scores = [float(s) + b for s, b in zip(raw, bonus)]
    spans = resolve_spans(question, duration_of(context))
    inside = [i for i, e in enumerate(entries) if spans and any(s.overlaps(e.start, e.end, 0.5) for s in spans)]
    within = {id(entries[i]) for i in inside}   # before the kinds asked for join ``inside``
    named = [i for i, e in enumerate(entries) if wants_name and e.kind in QUOTED_KINDS and names(e.text)]
    if kinds or named:   # the kinds asked for ("written" -> text, "who" -> names) next, best first, up to half
        asked_kind = sorted((i for i, e in enumerate(entries) if (e.kind in kinds or i in named) and i not in inside),
                            key=lambda i: -scores[i])
        inside += asked_kind[: max(1, max_entries // 2)]
    order = sorted(inside, key=lambda i: -scores[i])
    top = float(max(raw))   # the floor compares relevance alone; the kind bonus only orders
    floor = RELATIVE_SCORE * top if top > 0 else math.inf
    asked = content_words(question.topic + " " + english) or content_words(asked_text)
    matched, unmatched_language = True, None
    if not content_words(asked_text) and not inside:   # stop words only ("What is this video about?")
        order, floor = overview(entries, max_entries), math.inf
    elif top < MIN_RELEVANCE and not named and not any(asked & content_words(e.search or e.text) for e in entries):
        floor, matched = math.inf, False   # nothing is about the question
        spoken = spoken_language(context)
        if spoken and spoken != question.language and not inside:
            order, unmatched_language = overview(entries, max_entries), spoken
    order += [i for i in sorted(range(len(entries)), key=lambda i: -scores[i])
              if i not in order and raw[i] >= floor and raw[i] > 0]
    chosen, used = [], 0
    for i in order:
        cost = count_tokens(entries[i].line()) + 1
        if len(chosen) >= max_entries or used + cost > budget:
            break
        chosen.append(i)
        used += cost
    picked = [entries[i] for i in sorted(chosen)]
    by_id = {id(e): s for e, s in zip(entries, scores)}
    best = bearing_most(picked, within, asked, by_id) if not unmatched_language else None
    if unmatched_language:
        status.append(f"The question could not be matched with the speech (in {unmatched_language}); "
                      "an overview of the video follows.")
    return Evidence(question, status, entries=picked, best=best, matched=matched and bool(picked),
                    unmatched_language=unmatched_language, scores=by_id,
                    relevance={id(e): float(r) for e, r in zip(entries, raw)})
