"""Per-language word data (``prompts/lang/LANG.json``) and which language a text is written in.

The data files hold, for each language, what the answer pipeline must know
about its words: stop words, light suffixes, number words, time units and
relation words, the words that mark what a question asks for (a count, a time,
a person, a place, a colour, yes or no, speech, on-screen text, silence, shots),
detector class words, colour and clothing words (``looks``, keyed by their English word, so that "blau"
and "蓝色" are both "blue") and a small gloss into English for matching questions
against English speech. No language is special in code; English is one file
among the others.

:func:`question_language` needs no model: Chinese, Japanese, Korean and other
non-Latin scripts are told apart by their Unicode blocks (kana makes Han text
Japanese); Latin-script text is scored by how many of its words are stop words
of each language's file, plus letters only one of them uses (``ß``, ``ñ``, ``ã``);
English wins ties and text with no clue at all.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

LANG_DIR = Path(__file__).resolve().parents[1] / "prompts" / "lang"
DEFAULT = "en"


@dataclass(frozen=True)
class LanguageData:
    """The word data of one language (``prompts/lang/LANG.json``); every part may be empty."""

    code: str
    name: str
    stop_words: frozenset[str] = frozenset()
    not_stop_words: frozenset[str] = frozenset()   # this language's content words that another lists as stop words
    suffixes: tuple[str, ...] = ()
    number_words: dict[str, float] = field(default_factory=dict)
    units: dict[str, float] = field(default_factory=dict)
    time: dict[str, tuple[str, ...]] = field(default_factory=dict)
    asks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    count_end: tuple[str, ...] = ()
    class_words: dict[str, frozenset[str]] = field(default_factory=dict)
    gloss: dict[str, str] = field(default_factory=dict)
    looks: dict[str, tuple[str, ...]] = field(default_factory=dict)   # colour and clothing words, by English key
    place_words: tuple[str, ...] = ()   # the words before a place's name ("in London", "aus Berlin")
    letters: str = ""
    capitalised_nouns: bool = False   # German: a capital letter inside a sentence does not mark a name
    yes: str = "Yes."
    no: str = "No."


@cache
def language_data(code: str) -> LanguageData | None:
    """The data of language ``code`` (ISO 639-1), or None when ``prompts/lang`` has no file for it."""
    path = LANG_DIR / f"{code}.json"
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return LanguageData(
        code=code, name=raw.get("name", code), stop_words=frozenset(raw.get("stop_words", "").split()),
        not_stop_words=frozenset(raw.get("not_stop_words", ())),
        suffixes=tuple(raw.get("suffixes", ())), number_words=dict(raw.get("number_words", {})),
        units=dict(raw.get("units", {})), time={k: tuple(v) for k, v in raw.get("time", {}).items()},
        asks={k: tuple(v) for k, v in raw.get("asks", {}).items()}, count_end=tuple(raw.get("count_end", ())),
        class_words={k: frozenset(v) for k, v in raw.get("class_words", {}).items()},
        gloss=dict(raw.get("gloss", {})), looks={k: tuple(v) for k, v in raw.get("looks", {}).items()},
        place_words=tuple(raw.get("place_words", ())), letters=raw.get("letters", ""),
        capitalised_nouns=bool(raw.get("capitalised_nouns", False)), yes=raw.get("yes", "Yes."),
        no=raw.get("no", "No."))


@cache
def all_languages() -> tuple[LanguageData, ...]:
    """Every language with a data file, English first."""
    codes = sorted(p.stem for p in LANG_DIR.glob("*.json"))
    codes.sort(key=lambda c: c != DEFAULT)
    return tuple(language_data(c) for c in codes)


def data_for(code: str | None) -> LanguageData:
    """The data of ``code``, else English's (a language without a file reads as English)."""
    return language_data(code or DEFAULT) or language_data(DEFAULT)


_SCRIPTS = [  # (language, ranges of code points)
    ("ko", ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))),
    ("ja", ((0x3040, 0x30FF), (0x31F0, 0x31FF))),
    ("zh", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF))),
    ("ru", ((0x0400, 0x04FF),)),
    ("el", ((0x0370, 0x03FF),)),
    ("he", ((0x0590, 0x05FF),)),
    ("ar", ((0x0600, 0x06FF),)),
    ("hi", ((0x0900, 0x097F),)),
    ("th", ((0x0E00, 0x0E7F),)),
]
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _script(text: str) -> str | None:
    counts: dict[str, int] = {}
    for ch in text:
        cp = ord(ch)
        for lang, ranges in _SCRIPTS:
            if any(lo <= cp <= hi for lo, hi in ranges):
                counts[lang] = counts.get(lang, 0) + 1
                break
    if not counts:
        return None
    if counts.get("ja"):                      # kana: Japanese even when most characters are Han
        return "ja"
    letters = sum(1 for ch in text if unicodedata.category(ch).startswith("L"))
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    return lang if n * 4 >= letters else None  # a few foreign characters in Latin text do not count


def question_language(text: str) -> str:
    """ISO 639-1 code of the language ``text`` is most likely written in (``"en"`` when unsure)."""
    script = _script(text)
    if script:
        return script
    lowered = text.lower().replace("’", "'")
    words = _WORD.findall(lowered.replace("'", " "))
    words += [part for w in words if "-" in w for part in w.split("-")]   # "parle-t-elle": "elle" counts too
    latin = [d for d in all_languages() if not _script(" ".join(d.stop_words))]
    scores = {d.code: sum(w in d.stop_words for w in words) + sum(2 for ch in lowered if ch in d.letters)
              for d in latin}
    best = max(scores.values(), default=0)
    if best == 0 or scores.get(DEFAULT) == best:
        return DEFAULT
    return max(scores, key=lambda lang: scores[lang])


LANGUAGES = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian", "ko": "Korean",
    "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish", "pl": "Polish", "ca": "Catalan",
    "nl": "Dutch", "ar": "Arabic", "sv": "Swedish", "it": "Italian", "id": "Indonesian", "hi": "Hindi",
    "fi": "Finnish", "vi": "Vietnamese", "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay",
    "cs": "Czech", "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian", "la": "Latin",
    "fa": "Persian", "sk": "Slovak", "yue": "Cantonese", "bn": "Bengali", "sr": "Serbian", "tl": "Tagalog",
}


def language_name(code: str | None) -> str:
    """English name of an ISO 639-1 code (``"de"`` -> ``"German"``); the code itself when unknown."""
    return LANGUAGES.get(code or "", code or "unknown language")
