"""The answer pipeline: one question about one video's context to a typed :class:`~answer.records.Answer`.

Like transformers' ``preprocess -> _forward -> postprocess``, each step is a
small function, testable alone, and the pipeline only calls them in order:

1. :func:`answer.question.parse_question`: the question's language, times and what it asks for;
2. :func:`answer.evidence.select_evidence`: the entries that bear on it (or, for a
   large window, :func:`prompting.window.fit_context`: the whole context fitted);
3. :func:`answer.facts.draft_answer`: facts and a plain draft answer computed from them;
4. :func:`generate`: the LLM, streamed through :class:`answer.stream.AnswerStream`
   (held back until checked whenever a check may replace it);
5. :func:`answer.checks.run_checks`: the named checks, in order (a whole-context answer: the file name,
   then the guard's stray words, the names, numbers, times and looks the context lacks, and a yes or no
   that the facts' draft contradicts, which give way, as in an evidence-first answer, to the facts' draft
   or the entry bearing most).

Two answers need no LLM: nothing bears on the question (``decline``), or the
question's language is one the LLM declares it does not write (its evidence
quoted, framed in that language: :mod:`answer.quoted`). Reading from
:func:`chat.api.ask` down, the path never climbs back: the session passes its
history and the window's budget in and gets the :class:`Turn` back.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

import prompts
from answer.checks import (NOT_SHOWN, Checking, Guarded, best_entry, borrows_file_name, cannot_tell, guard,
                           run_checks, unsupported_in)
from answer.evidence import EVIDENCE_TOKENS, select_evidence
from answer.facts import draft_answer, polarity
from answer.question import Question, parse_question
from answer.quoted import quoted_answer
from answer.records import Answer, Evidence, Source
from answer.stream import AnswerStream
from prompting.cite import cite
from prompting.context import VideoContext
from prompting.language import language_name
from prompting.retrieve import TextEmbedder
from prompting.tokens import TokenCounter, approx_tokens
from prompting.window import fit_context

Pieces = Callable[[str], None]


def gather(context: VideoContext, question: str | Question, embedder: TextEmbedder | None = None,
           budget_tokens: int = EVIDENCE_TOKENS, count_tokens: TokenCounter = approx_tokens) -> Evidence:
    """Steps 1-3: the question parsed, its evidence selected and its draft computed, within ``budget_tokens``."""
    asked = question if isinstance(question, Question) else parse_question(question)
    evidence = select_evidence(asked, context, embedder, budget_tokens, count_tokens)
    draft = draft_answer(asked, context, evidence)
    evidence = replace(evidence, facts=list(draft.facts), draft=draft.text, quoting=draft.quoting)
    while evidence.entries and count_tokens(evidence.render()) > budget_tokens:
        evidence = replace(evidence, entries=evidence.entries[:-1])
    return evidence


@dataclass
class Generated:
    """Step 4's output: the LLM's cleaned answer, whether it was shown as it came, and its first token's time."""

    text: str
    shown: bool
    first_token_at: float | None


def generate(llm, messages: list[BaseMessage], on_token: Pieces | None, one_paragraph: bool = True) -> Generated:
    """Step 4: stream the LLM's answer to ``messages`` (to ``on_token``; None holds it back), preamble dropped.

    An engine's error propagates as it is (the session says what it means for the user)."""
    stream = AnswerStream(on_token, one_paragraph)
    first = None
    chunks = llm.model.stream(messages, stop=["\n\n"] if one_paragraph else None)
    try:
        for chunk in chunks:
            piece = str(chunk.content)
            if piece:
                first = first or time.perf_counter()
                if not stream.feed(piece):
                    break
    finally:
        # close the stream now, not when the garbage collector finds it: its clean-up (the engine stops, the
        # prompt cache is saved) must not run later, while another answer streams
        getattr(chunks, "close", lambda: None)()
    text = stream.close()
    return Generated(text, bool(stream.text) and on_token is not None, first)


@dataclass
class Turn:
    """What one question went through: the evidence (None for a whole-context answer), the context text sent,
    the messages, the answer, and the first token's and the guard's record."""

    question: Question
    evidence: Evidence | None
    context: VideoContext
    text: str
    messages: list[BaseMessage]
    answer: Answer
    first_token_at: float | None = None
    guard: Guarded | None = None
    quoting: Evidence | None = None   # the evidence to quote when the LLM does not write the question's language


class Prompts:
    """The prompt templates of one question language (``prompts/NAME_LANG.txt`` when there is one)."""

    def __init__(self, language: str, system: str = "system", question: str = "question"):
        self.language = language
        self.system, own = prompts.load_for(system, language)
        self.question, _ = prompts.load_for(question, language)
        self.evidence_system = prompts.load("evidence")
        self.evidence_question = prompts.load("question_evidence")
        name = language_name(language)
        self.rule = f"\nThe question is in {name}: answer in {name}." if language != "en" else ""
        if not own:   # the system prompt's rule, named for this question
            self.question += self.rule


class AnswerPipeline:
    """Answers questions about one video's context with one LLM (see the module docstring)."""

    def __init__(self, llm, context: VideoContext, embedder: TextEmbedder | None = None, *, cite: bool = True,
                 guard: bool = True, one_paragraph: bool = True, system: str = "system", question: str = "question"):
        self.llm, self.context, self.embedder = llm, context, embedder
        self.cite, self.guard, self.one_paragraph = cite, guard, one_paragraph
        self.templates = (system, question)

    def prompts(self, language: str) -> Prompts:
        """The templates for a question in ``language``."""
        return Prompts(language, *self.templates)

    def messages(self, question: str, text: str, history: list[BaseMessage], evidence_first: bool
                 ) -> list[BaseMessage]:
        """The messages for ``question`` with ``text`` (its evidence block, or the fitted context)."""
        p = self.prompts(parse_question(question).language)
        if evidence_first:
            return [SystemMessage(p.evidence_system), *history,
                    HumanMessage(p.evidence_question.format(evidence=text, question=question) + p.rule)]
        system = p.system.format(context=text, fps=f"{self.context.header.fps_sampled:g}")
        return [SystemMessage(system), *history, HumanMessage(p.question.format(question=question))]

    def writes(self, language: str) -> bool:
        """Whether the LLM writes ``language``: it declares it, or declares no language at all (unknown)."""
        return not self.llm.languages or language in self.llm.languages

    def prepare(self, text: str, history: list[BaseMessage], budget: int, evidence_first: bool) -> Turn:
        """Steps 1-3 for ``text`` within ``budget`` context tokens after ``history``: the turn, not yet answered."""
        question = parse_question(text)                                            # 1
        evidence = None
        if evidence_first or not self.writes(question.language):
            evidence = gather(self.context, question, self.embedder, min(EVIDENCE_TOKENS, budget),
                              self.llm.count_tokens)                               # 2, 3
            fitted, shown_text = evidence.context(self.context.header), evidence.render()
        else:
            fitted = fit_context(self.context, text, budget, self.llm.count_tokens, embedder=self.embedder)
            shown_text = fitted.render()
        messages = self.messages(text, shown_text, history, evidence_first)
        return Turn(question, evidence if evidence_first else None, fitted, shown_text, messages,
                    Answer("", "decline"), quoting=evidence if not self.writes(question.language) else None)

    def respond(self, turn: Turn, on_token: Pieces) -> Turn:
        """Steps 4-5 for a prepared ``turn``, streaming to ``on_token``; ``turn`` with its answer."""
        text = turn.question.text
        if turn.quoting is not None:
            quoted = quoted_answer(turn.quoting, turn.question.language)
            if quoted:
                return self._without_llm(turn, quoted, "decline" if turn.quoting.empty else "quote", on_token)
        if turn.evidence is not None and turn.evidence.empty:
            unknown = bool(self.context.header.unknown())   # then say what could not be seen, and why
            return self._without_llm(turn, cannot_tell(self.context, text) if unknown else NOT_SHOWN, "decline",
                                     on_token)
        guarded = self.guard and turn.evidence is None and bool(self.context.header.unknown())
        held = turn.evidence is not None or guarded   # a check may replace the answer: hold it back until checked
        generated = generate(self.llm, turn.messages, None if held else on_token, self.one_paragraph)   # 4
        turn.first_token_at = generated.first_token_at
        answer = self._checked(turn, generated.text, text, guarded)                # 5
        if not generated.shown or answer.text != generated.text:
            on_token(("\n" if generated.shown else "") + answer.text)
        citation = cite(answer.text, turn.context) if self.cite and answer.source == "llm" else ""
        if citation:
            on_token(citation)
        turn.answer = replace(answer, text=answer.text + citation)
        return turn

    def _checked(self, turn: Turn, raw: str, question: str, guarded: bool) -> Answer:
        """The checked answer: the evidence-first checks, or :meth:`_whole_context_checked`'s."""
        seen = "\n".join(e.line() for e in turn.context.entries)      # not the header: it names the file
        seen += "\n" + (self.context.header.speech_line() or "")       # but the language spoken is evidence
        ev = turn.evidence
        if ev is not None:
            seen += "\n" + "\n".join(f.text for f in ev.facts)
            checking = Checking(raw, ev, self.context, seen)
            text, source, fired = run_checks(checking)
            return Answer(text, source, tuple(ev.entries), fired, raw, checking.unsupported)
        return self._whole_context_checked(turn, raw, question, guarded, seen)

    def _whole_context_checked(self, turn: Turn, raw: str, question: str, guarded: bool, seen: str) -> Answer:
        """A whole-context answer checked: the file name, the guard, details the context lacks, a contradicted
        yes or no (see the module docstring)."""
        if borrows_file_name(raw, self.context.header, seen, question):
            return Answer(f"{NOT_SHOWN} (The file name is not evidence of what the video shows.)", "decline",
                          tuple(turn.context.entries), ("file_name",), raw)
        turn.guard = guard(raw, self.context, question) if guarded else None
        stray = turn.guard is not None and turn.guard.replaced
        whole = Evidence(turn.question, entries=list(turn.context.entries))
        invented = unsupported_in(raw, whole, seen) if self.guard else ()
        ev = None
        if stray or invented or turn.question.yes_no:
            ev = gather(self.context, turn.question, self.embedder, EVIDENCE_TOKENS, self.llm.count_tokens)
        said = polarity(ev.draft) if ev is not None and ev.draft else None
        contradicts = bool(said) and polarity(raw) != said   # a yes/no fact: the answer's yes or no must agree
        if stray or invented or contradicts:
            # as an evidence-first answer would: the facts' draft, else the entry bearing most, quoted, else
            # "cannot tell" when none does
            text, source = ((ev.draft, "quote" if ev.quoting else "fact_draft") if ev.draft
                            else best_entry(Checking(raw, ev, self.context, seen)))
            unsupported = (turn.guard.unsupported if stray else ()) + invented
            fired = "guard" if stray else "details" if invented else "draft"
            return Answer(text, source, tuple(ev.entries) if source != "decline" else (), (fired,), raw,
                          tuple(dict.fromkeys(unsupported)))
        return Answer(raw, "llm", tuple(turn.context.entries), (), raw)

    def _without_llm(self, turn: Turn, text: str, source: Source, on_token: Pieces) -> Turn:
        """``turn`` answered with ``text`` (the LLM would only invent, or cannot write the question's language)."""
        turn.first_token_at = time.perf_counter()
        on_token(text)
        evidence = turn.evidence or turn.quoting
        entries = tuple(evidence.entries) if evidence else ()
        turn.answer = Answer(text, source, entries if source != "decline" else ())
        return turn
