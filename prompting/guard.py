"""Catch answers the context does not support, before the user reads them.

A 135M-parameter LLM asked about colours or clothes in a video whose context
has no image captions tends to invent them. :func:`guard` compares the
answer's content words (lightly stemmed) with the words of the context and of
the question: when most of them appear nowhere, the answer is replaced by one
that says the analysed video does not show it, with the header's ``unknown``
facts (:mod:`prompting.facts`) that explain why. Pure functions over the typed
:class:`~prompting.context.VideoContext`; :class:`~chat.session.ChatSession`
calls :func:`guard` on every answer.
"""
from __future__ import annotations

from dataclasses import dataclass

from prompting.cite import content_words
from prompting.context import VideoContext

CANNOT_TELL = "I cannot tell: the analysed video does not show that."


def stem(word: str) -> str:
    """A crude stem, enough to match "reads"/"reading"/"read" and "colours"/"colour"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def stems(text: str) -> set[str]:
    """Stemmed content words of ``text``."""
    return {stem(w) for w in content_words(text)}


@dataclass(frozen=True)
class Guarded:
    """The answer to show, whether the original was replaced, and the words nothing supported."""

    answer: str
    replaced: bool
    unsupported: tuple[str, ...]


def unsupported_words(answer: str, known: str, question: str = "") -> list[str]:
    """Content words of ``answer`` found (stemmed) neither in the ``known`` text nor in ``question``."""
    seen = stems(known) | stems(question)
    return sorted(w for w in content_words(answer) if stem(w) not in seen and not w.isdigit())


def strays(answer: str, known: str, question: str = "", max_unsupported: float = 0.5, min_words: int = 2) -> bool:
    """Whether more than ``max_unsupported`` of ``answer``'s content words (and at least ``min_words``)
    appear neither in ``known`` (what the LLM was given) nor in ``question``."""
    return _too_many(unsupported_words(answer, known, question), answer, max_unsupported, min_words)


def _too_many(missing: list[str], answer: str, max_unsupported: float, min_words: int) -> bool:
    return len(missing) >= min_words and len(missing) > max_unsupported * len(content_words(answer))


def cannot_tell(context: VideoContext, question: str = "") -> str:
    """The "cannot tell" answer, with what the context says could not be seen (the reasons that share a word
    with ``question``, else all of them)."""
    reasons = context.header.unknown()
    asked = stems(question)
    reasons = [r for r in reasons if stems(r) & asked] or reasons
    return CANNOT_TELL + (" " + " ".join(r.rstrip(".") + "." for r in reasons) if reasons else "")


def guard(answer: str, context: VideoContext, question: str = "", max_unsupported: float = 0.5,
          min_words: int = 2) -> Guarded:
    """``answer``, or a "cannot tell" answer when more than ``max_unsupported`` of its content words
    (and at least ``min_words`` of them) are supported by no line of ``context`` nor by ``question``."""
    missing = unsupported_words(answer, context.render(), question)
    if not _too_many(missing, answer, max_unsupported, min_words):
        return Guarded(answer, False, tuple(missing))
    return Guarded(cannot_tell(context, question), True, tuple(missing))
