"""Scoring text against references: word error rate for speech, answer match for questions.

Both sides are normalized the same way first: lower case, punctuation dropped,
letters split from digits (``F2`` -> ``f 2``) and numbers below 100 spelled out
(``2`` -> ``two``), since the GRID references spell them; British spellings
become American ones (``spectre`` -> ``specter``), as Whisper writes them.
"""
from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SRT_TIME = re.compile(r"^\d\d:\d\d:\d\d[,.]\d+\s*-->")

STOPWORDS = frozenset("""a an the and or but of in on at to for by with from as is are was were be been being it its
this that these those there here he she they we you i his her their our your my me him them us do does did done
has have had not no yes so than then into onto about over under up down out off one what which who whom whose when
where why how very just also only some any all each both few more most other such own same can could will would
should may might must shall""".split())


def number_words(n: int) -> str:
    """``n`` (0-99) in words: ``42`` -> ``forty two``; larger numbers stay digits."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    return str(n)


@lru_cache(maxsize=1)
def american_spellings() -> dict[str, str]:
    """British -> American spellings (``spectre`` -> ``specter``), from openai-whisper's normalizer data.

    The file is read without importing ``whisper`` (which imports torch); empty when it is missing.
    """
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(list(spec.submodule_search_locations)[0]) / "normalizers" / "english.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def normalize(text: str) -> str:
    """Lower case, no punctuation, letters apart from digits, small numbers in words, American spelling."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    spelling = american_spellings()
    words = []
    for word in _TOKEN.findall(text):
        words.append(number_words(int(word)) if word.isdigit() and len(word) <= 2 else spelling.get(word, word))
    return " ".join(words)


def srt_text(srt: str) -> str:
    """The spoken text of an SRT file: cue numbers, time lines and tags removed, cues joined."""
    lines = []
    for line in srt.splitlines():
        line = line.strip()
        if not line or line.isdigit() or _SRT_TIME.match(line):
            continue
        lines.append(re.sub(r"<[^>]+>", "", line))
    return " ".join(lines)


@dataclass(frozen=True)
class WerScore:
    """Word error rate of a hypothesis against a reference, with its edit counts."""

    wer: float
    words: int
    substitutions: int
    deletions: int
    insertions: int


def word_error_rate(reference: str, hypothesis: str) -> WerScore:
    """WER of ``hypothesis`` against ``reference`` after :func:`normalize` (jiwer)."""
    import jiwer

    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        raise ValueError("the reference has no words")
    out = jiwer.process_words(ref, hyp if hyp else "")
    return WerScore(out.wer, out.substitutions + out.deletions + out.hits, out.substitutions, out.deletions,
                    out.insertions)


def _stem(word: str) -> str:
    """A crude stem so that plurals and -ing forms meet: ``bottles``, ``bottle`` -> ``bottl``."""
    stripped = True
    while stripped:
        stripped = False
        for suffix in ("ing", "es", "s", "e"):
            if len(word) > len(suffix) + 3 and word.endswith(suffix):
                word, stripped = word[: -len(suffix)], True
                break
    return word


def content_words(text: str) -> set[str]:
    """The stemmed words of ``text`` that carry content (no stopwords)."""
    return {_stem(w) for w in normalize(text).split() if w not in STOPWORDS}


def core(reference: str) -> str:
    """A reference answer without its parenthesized asides: ``"Arm wrestling (0.8)"`` -> ``"Arm wrestling"``."""
    return " ".join(re.sub(r"\([^)]*\)", " ", reference).split())


@dataclass(frozen=True)
class AnswerScore:
    """How an answer matches a reference: exact (normalized) match, content-word recall, verdict."""

    exact: bool
    recall: float
    correct: bool
    rule: str


def _polarity(text: str) -> str | None:
    words = normalize(text).split()
    return words[0] if words and words[0] in ("yes", "no") else None


def score_answer(reference: str, answer: str, threshold: float = 0.5) -> AnswerScore:
    """Score ``answer`` against ``reference``.

    A reference that starts with *yes* or *no* is a yes/no question: the answer
    is correct when it starts with the same word. Otherwise it is correct when
    the normalized reference (without asides) appears in the normalized answer,
    or when at least ``threshold`` of the reference's content words do.
    """
    ref = core(reference)
    polarity = _polarity(ref)
    if polarity:
        said = _polarity(answer)
        return AnswerScore(said == polarity, 1.0 if said == polarity else 0.0, said == polarity, "yes/no")
    exact = bool(normalize(ref)) and f" {normalize(ref)} " in f" {normalize(answer)} "
    wanted = content_words(ref)
    recall = len(wanted & content_words(answer)) / len(wanted) if wanted else float(exact)
    return AnswerScore(exact, round(recall, 3), exact or recall >= threshold, "exact" if exact else "recall")


CHARACTER_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "yue"})
"""Languages scored by character error rate: their words are not separated by spaces."""


@lru_cache(maxsize=1)
def _to_simplified():
    """OpenCC's traditional -> simplified Chinese converter, or ``None`` when ``opencc`` is not installed."""
    try:
        import opencc
    except ImportError:
        return None
    return opencc.OpenCC("t2s")


def normalize_any(text: str, language: str) -> str:
    """Lower case, punctuation dropped, for any language; Chinese in simplified characters.

    Whisper writes Mandarin in traditional or simplified characters at random;
    both sides are converted to simplified (with OpenCC, when installed) so the
    script is not counted as errors.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    if language in ("zh", "yue") and _to_simplified() is not None:
        text = _to_simplified().convert(text)
    return " ".join(re.findall(r"[^\W_]+(?:'[^\W_]+)*", text))


def error_rate(reference: str, hypothesis: str, language: str) -> WerScore:
    """Character error rate for :data:`CHARACTER_LANGUAGES` (spaces ignored), else word error rate.

    ``WerScore.words`` counts the reference's characters or words.
    """
    import jiwer

    ref, hyp = normalize_any(reference, language), normalize_any(hypothesis, language)
    if language in CHARACTER_LANGUAGES:
        ref, hyp = " ".join(ref.replace(" ", "")), " ".join(hyp.replace(" ", ""))
    if not ref:
        raise ValueError("the reference has no words")
    out = jiwer.process_words(ref, hyp)
    return WerScore(out.wer, out.substitutions + out.deletions + out.hits, out.substitutions, out.deletions,
                    out.insertions)
