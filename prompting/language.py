"""Which language a question is written in, without a model: script first, then common words.

Chinese, Japanese, Korean and other non-Latin scripts are told apart by their
Unicode blocks (kana makes Han text Japanese). Latin-script text is scored by
how many of its words are frequent function words of English, German, French,
Spanish, Italian, Portuguese or Dutch, plus letters only one of them uses
(``ß``, ``ñ``, ``ã``); English wins ties and text with no clue at all.
"""
from __future__ import annotations

import re
import unicodedata

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

_WORDS = {
    "en": """the a an is are was were what who whom where when why how which does do did in on of to and this that
             there it you he she they say said says video happen happens happened shown show see can""",
    "de": """der die das den dem des ist sind war was wer wo wann warum wie welche welcher welches im und ein eine
             einen einem nicht mit auf zu es gibt man sie er sagt gesagt passiert wird wurde hat ich kann sieht""",
    "fr": """le la les est sont était que qui quoi où quand pourquoi comment quel quelle quels quelles dans du des
             une un et ce cette il elle on dit passe voit qu c d l au aux y a-t-il est-ce""",
    "es": """el la los las es son era qué quién dónde cuándo por cómo cuál cuáles en del una un y este esta hay
             dice dijo pasa se ve lo""",
    "it": """il lo la gli le è sono era che chi dove quando perché come quale quali nel nella del della una un e
             dice detto cosa succede si vede c""",
    "pt": """o a os as é são era que quem onde quando porque por como qual quais no na do da uma um e diz disse
             acontece se vê""",
    "nl": """de het een is zijn was wat wie waar wanneer waarom hoe welke in van en zegt gezegd er niet met op
             gebeurt zie je""",
}
_SETS = {lang: frozenset(words.split()) for lang, words in _WORDS.items()}
_LETTERS = {"de": "ßäöü", "fr": "çèêëîïôœùûÿ", "es": "ñ¿¡", "pt": "ãõ", "it": "ìò"}
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
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _SETS.items()}
    for lang, letters in _LETTERS.items():
        scores[lang] += sum(2 for ch in lowered if ch in letters)
    best = max(scores.values())
    if best == 0 or scores["en"] == best:
        return "en"
    return max(scores, key=lambda lang: scores[lang])   # dict order breaks ties among the others


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
