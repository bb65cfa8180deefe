"""The one text normaliser: the words retrieval, citation, cleanup and the answer checks compare.

:func:`terms` reads letters of any script: words are case-folded (accents
kept: "trägt" stays "trägt"), stop words of every language in ``prompts/lang``
left out, and the longest light suffix of any language's list dropped, the same
whatever language a text is in, so that both sides of a comparison agree
("reads", "reading" -> "read"; "Sprecher", "Sprechern" -> "sprech");
runs of Chinese, Japanese or Korean characters, written without spaces, become
overlapping character pairs (a lone character stays itself). Digits stay words.
:func:`content_words` is the set of them; :func:`terms` keeps their order and
repeats (what BM25 counts).
"""
from __future__ import annotations

import re
from functools import cache

from prompting.language import all_languages

# Chinese, Japanese and Korean characters: no spaces between words, so runs of them are read as character pairs
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TERM = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+(?:'[^\W_{CJK}]+)?")
_CJK_RUN = re.compile(rf"[{CJK}]")
MIN_STEM = 3   # a suffix is dropped only when this many letters stay


@cache
def stop_words() -> frozenset[str]:
    """The stop words of every language with a data file (Latin and other spaced scripts), less the words a
    language lists as its content words (German "man" and "hat" are stop words, English "man" and "hat" not:
    a question about a man in a hat must keep them)."""
    kept = frozenset().union(*(d.not_stop_words for d in all_languages()))
    return frozenset().union(*(d.stop_words for d in all_languages())) - kept


@cache
def _cjk_stops() -> frozenset[str]:
    return frozenset(w for w in stop_words() if _CJK_RUN.match(w))


def pairs(run: str) -> list[str]:
    """A run of CJK characters as overlapping character pairs, less pairs of stop characters."""
    if len(run) == 1:
        return [] if run in _cjk_stops() else [run]
    stops = _cjk_stops()
    return [run[i:i + 2] for i in range(len(run) - 1) if not (run[i] in stops and run[i + 1] in stops)]


@cache
def _suffixes() -> tuple[str, ...]:
    return tuple(sorted({x for d in all_languages() for x in d.suffixes}, key=len, reverse=True))


@cache
def stem(word: str) -> str:
    """``word`` less the longest suffix of any language's list that leaves :data:`MIN_STEM` letters."""
    for suffix in _suffixes():
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """The normalised words of ``text`` in order (see the module docstring)."""
    lowered = text.lower().replace("’", "'")
    out: list[str] = []
    stops = stop_words()
    for w in _TERM.findall(lowered):
        if _CJK_RUN.match(w):
            out += pairs(w)
        elif w.isdigit():
            out.append(w)
        elif len(w) > 1 and w not in stops and w.split("'")[0] not in stops:
            out.append(stem(w.split("'")[0] if w.endswith("'s") else w))
    return out


def content_words(text: str) -> set[str]:
    """The set of :func:`terms` of ``text``."""
    return set(terms(text))
