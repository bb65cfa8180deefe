"""Clean up a streamed answer for the user: no preamble about "the video context", one paragraph.

Small LLMs open with "Based on the video context, ..." or "The video context is
a classic example of ...", and ramble on after the answer. :class:`AnswerStream`
sits between the LLM's stream and the user: it holds the first words back until
it can tell whether they are such a preamble (and drops it), then passes pieces
on as they come, and stops at the first blank line when ``one_paragraph``.
:func:`strip_preamble` is the same rule on a whole text.
"""
from __future__ import annotations

import re
from collections.abc import Callable

_ABOUT = r"(?:the\s+)?(?:given\s+|provided\s+|above\s+)?(?:video(?:'s)?\s+)?(?:context|evidence|transcript|information|facts|data|text|video)"
# an opening clause that only says where the answer comes from
_LEAD = re.compile(
    rf"^\s*(?:(?:sure|certainly|of course|okay|ok)[!,.]\s*)?"
    rf"(?:(?:based\s+on|according\s+to|from|in|given|using)\s+{_ABOUT}(?:\s+(?:provided|given|above))?\s*[,:]\s*)?",
    re.I)
# a first sentence that is about the context rather than the video
_META = re.compile(rf"^\s*(?:{_ABOUT})\s+(?:is|does|provides|describes|shows|states|says|mentions|contains|"
                   rf"suggests|indicates)\b[^.!?\n]*(?:a|an|the)\s+(?:classic|good|great|perfect|clear)?\s*"
                   rf"(?:example|description|overview|summary)\b[^.!?\n]*[.!?]\s*", re.I)
# a hedge the small model puts before an answer it then gives anyway
_HEDGE = re.compile(r"^\s*(?:the\s+(?:video|notes?|evidence)\s+(?:does|do)\s+not\s+(?:show|say|answer)[^.!?\n]*[.!?])"
                    r"(?=\s*\S)", re.I)
HOLD_CHARS = 160     # how much of the start is held back to spot a preamble
MAX_SENTENCES = 3    # a factual answer is one short paragraph
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def strip_preamble(text: str) -> str:
    """``text`` without an opening "Based on the video context," clause or a sentence about the context."""
    out = _HEDGE.sub("", text, count=1)
    out = _META.sub("", out, count=1)
    out = _LEAD.sub("", out, count=1)
    if out and out != text and out[0].islower():
        out = out[0].upper() + out[1:]
    return out


def end_of_paragraph(text: str, max_sentences: int = MAX_SENTENCES) -> int | None:
    """Where a one-paragraph answer ends in ``text``: a blank line, the end of its last allowed sentence, or
    a sentence that repeats an earlier one; None while it may go on."""
    cuts = [m.start() for m in _SENTENCE_END.finditer(text)]
    seen, start = set(), 0
    for n, cut in enumerate(cuts, 1):
        sentence = " ".join(text[start:cut].lower().split())
        if sentence in seen:
            return start
        seen.add(sentence)
        if n >= max_sentences:
            return cut
        start = cut
    blank = text.find("\n\n")
    return blank if blank >= 0 else None


class AnswerStream:
    """Filters the pieces of a streamed answer; :attr:`text` is what was let through."""

    def __init__(self, emit: Callable[[str], None] | None = None, one_paragraph: bool = True):
        self.emit = emit or (lambda piece: None)
        self.one_paragraph = one_paragraph
        self.held = ""
        self.started = False
        self.done = False
        self.text = ""

    def _out(self, piece: str) -> None:
        if self.one_paragraph:
            whole = (self.text + piece).lstrip()
            cut = end_of_paragraph(whole)
            if cut is not None:
                piece = whole[:cut][len(self.text.lstrip()):]
                self.done = True
        if piece:
            self.text += piece
            self.emit(piece)

    def feed(self, piece: str) -> bool:
        """Take one piece; False once the answer is complete (the caller may stop generating)."""
        if self.done:
            return False
        if self.started:
            self._out(piece)
            return not self.done
        self.held += piece
        if len(self.held) >= HOLD_CHARS or "\n\n" in self.held.lstrip():
            self._release()
        return not self.done

    def _release(self) -> None:
        self.started = True
        text = strip_preamble(self.held).lstrip()
        self.held = ""
        self._out(text)

    def close(self) -> str:
        """Flush what is held back; the whole answer let through, stripped."""
        if not self.started and not self.done:
            self._release()
        return self.text.strip()
