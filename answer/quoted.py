"""An answer made of the evidence quoted, framed in the asker's language, for an LLM that cannot write it.

The default LLM (SmolLM2-135M) declares English as its only language: asked in
German, it writes German-looking words that answer nothing. What it would have
answered from is known without it: the question's :class:`~answer.records.Evidence`.
:func:`quoted_answer` gives that evidence back, word for word, under one line
saying why, with the frame words ("spoken", "written on screen") taken from
``prompts/quoted_LANG.txt``. Speech and on-screen text are quoted in the
language they were said or written in; other entries keep their context line.
Languages without such a file get None (the LLM answers as usual). A yes or no
that the facts state ("Gibt es Schnitte?" and the shots fact) comes first, in
the asker's language.
"""
from __future__ import annotations

from dataclasses import dataclass

import prompts
from prompting.context import TRANSLATED
from prompting.format import quote
from answer.facts import polarity
from answer.records import QUOTED_KINDS, Evidence, said_text, span_text
from prompting.language import data_for, language_name

MAX_QUOTES = 3   # entries quoted at most, the one that bears most on the question first


@dataclass(frozen=True)
class QuotedPhrases:
    """The frame words of a quoted answer in one language (``prompts/quoted_LANG.txt``, ``key = template``)."""

    intro: str      # why the answer is a quotation
    said: str       # one speech entry: {at} {text}
    written: str    # one on-screen text entry: {at} {text}
    entry: str      # any other entry: {line}
    none: str       # nothing bears on the question
    unmatched: str  # the question matched nothing in the speech's other language: {language}

    @classmethod
    def for_language(cls, language: str) -> QuotedPhrases | None:
        """The phrases of ``language`` (ISO 639-1), or None when ``prompts/`` has none for it
        (``quoted.txt`` itself is the English one)."""
        text, own = prompts.load_for("quoted", language)
        if not own and language != "en":
            return None
        fields = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
        return cls(**{name: fields[name] for name in cls.__dataclass_fields__})


def quoted_lines(evidence: Evidence, phrases: QuotedPhrases, most: int = MAX_QUOTES) -> list[str]:
    """One line per quoted entry: the best one first, then the others in time order; translations only where
    no original is quoted."""
    chosen = [e for e in evidence.entries if e.tag != TRANSLATED] or list(evidence.entries)
    if evidence.best in chosen:
        chosen.remove(evidence.best)
        chosen.insert(0, evidence.best)
    lines = []
    for e in chosen[:most]:
        said = said_text(e) if e.kind in QUOTED_KINDS else ""
        if said:
            template = phrases.said if e.kind == "speech" else phrases.written
            lines.append(template.format(at=span_text(e.start, e.end), text=quote(said)))
        else:
            lines.append(phrases.entry.format(line=e.line()))
    return lines


def quoted_answer(evidence: Evidence, language: str) -> str | None:
    """The evidence for one question quoted under a line in ``language`` saying why (None: no phrases for it)."""
    phrases = QuotedPhrases.for_language(language)
    if phrases is None:
        return None
    if evidence.empty:
        return phrases.none
    lines = quoted_lines(evidence, phrases) or [phrases.entry.format(line=f.text) for f in evidence.facts
                                                if f.kind != "unknown"]
    said = polarity(evidence.draft) if evidence.draft else None   # a yes/no the facts state comes first
    computed = evidence.draft if evidence.draft and not evidence.quoting else None   # a count, the shots, ...
    if computed:
        body = computed.split(None, 1)[1] if said and " " in computed else computed
        lines = [phrases.entry.format(line=body), *(line for line in lines if body.rstrip(".") not in line)]
    if not lines:
        return phrases.none
    intro = (phrases.unmatched.format(language=language_name(evidence.unmatched_language))
             if evidence.unmatched_language and not computed else phrases.intro)
    words = data_for(language)
    lead = [words.yes if said == "yes" else words.no] if said else []
    return "\n".join([*lead, intro, *(f"- {line}" for line in lines)])
