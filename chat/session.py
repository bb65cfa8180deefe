"""A multi-turn chat about one video, grounded in its textual context.

Each question is sent as: the system prompt (``prompts/system.txt``, the
VideoChat-Text prompt) holding the video context, the earlier turns, then the
question (wrapped by ``prompts/question.txt``, which asks for a short answer
citing the time: small local models need that nudge). The answer follows the
language of the question (:func:`prompting.language.question_language`): a
language with its own templates (``system_zh.txt``, ``question_zh.txt``) gets
them; for any other non-English language the question ends with a line naming
it. Before each question the context is fitted to what is left of the
LLM's window (window - system prompt - history - answer reserve), so a long
video keeps the segments most relevant to that question; the history is kept
to at most half of the window and loses its oldest turns first. An answer that
names no time gets the time of the context line supporting it (:mod:`prompting.cite`).

**Evidence first** (:mod:`prompting.evidence`): with a window under
:data:`EVIDENCE_WINDOW` tokens (the default 4,096-token GGUF window, Ollama's
4,096) the system prompt is the short rule in ``prompts/evidence.txt`` and each
question comes with its own evidence block (``prompts/question_evidence.txt``):
the facts that answer it and the few entries that bear on it. Larger windows
(remote models) get the whole fitted context as before; ``evidence=True/False``
forces either. A question in a language the LLM declares it does not write (GGUF
``general.languages``: SmolLM2 declares English only) is answered without it:
its evidence quoted word for word, framed in the question's language
(:mod:`prompting.quoted`). When the evidence holds a fact-made draft answer (a time, a
count, speech, on-screen text), the LLM only phrases it: an answer that loses
the draft's content (or, for a yes/no question, its yes or no), or keeps it
among words the evidence does not hold, is replaced by the draft, except that a short answer drawn from a draft that only quotes
speech stays, with the quote after it as its source; without a draft, an answer whose content words are mostly not in
the evidence (:func:`prompting.guard.strays`) gives way to the entry that bears
on the question most, quoted. Answers lose a preamble about
"the context" and end at the first blank line (:mod:`chat.answer`), and an
answer that borrows words of the file name that nothing seen or heard holds is
replaced: the file name is not evidence.

When the context says that something could not be seen (a stage did not run:
its header has ``unknown`` facts), the answer is held back until it is
complete and checked by :func:`prompting.guard.guard`: an answer whose content
words neither the context nor the question supports becomes "I cannot tell:
the analysed video does not show that." with the reasons. Otherwise it streams.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

import prompts
from chat.answer import AnswerStream
from chat.llm import ChatLLM, explain_failure
from perceive.records import Perception
from prompting.cite import cite
from prompting.context import VideoContext
from prompting.language import language_name, question_language
from prompting.guard import cannot_tell, guard as guard_answer, strays
from prompting.evidence import (EVIDENCE_TOKENS, QUOTED_KINDS, Evidence, borrows_file_name, draws_on, is_meta, keeps_facts, plain_answer,
                                roots, said_text, select_evidence)
from prompting.quoted import quoted_answer
from prompting.retrieve import TextEmbedder
from prompting.window import fit_context

MESSAGE_OVERHEAD = 8   # chat-template tokens around each message, plus the assistant cue
EVIDENCE_WINDOW = 8192  # LLM windows below this many tokens get evidence first (see the module docstring)
NOT_SHOWN = "The video does not show that."


class ChatSession:
    """Answer questions about one video's context, remembering the conversation."""

    def __init__(self, llm: ChatLLM, context: VideoContext, embedder: TextEmbedder | None = None,
                 template: str = "system", question_template: str = "question", cite: bool = True,
                 perception: Perception | None = None, evidence: bool | None = None, one_paragraph: bool = True,
                 guard: bool = True):
        """``cite`` appends the time of the supporting context entry when the answer names none;
        ``perception`` is what ``context`` was built from (the session's timeline report draws it);
        ``evidence`` None chooses evidence-first by the window size; ``one_paragraph`` ends answers at a blank line;
        ``guard`` replaces an unsupported answer when the context says something could not be seen."""
        self.llm = llm
        self.evidence_first = evidence if evidence is not None else llm.n_ctx < EVIDENCE_WINDOW
        self.one_paragraph = one_paragraph
        self.evidence_template = prompts.load("evidence")
        self.evidence_question = prompts.load("question_evidence")
        self.last_evidence: Evidence | None = None
        self.first_token_at: float | None = None   # perf_counter() of the last answer's first token
        self.first_shown_at: float | None = None   # ... and of its first piece the user saw
        self.last_text = ""   # the context text sent with the last question (the evidence block, or the context)
        self.cite = cite
        self.guard = guard
        self.context = context
        self.perception = perception
        self.fps = context.header.fps_sampled
        self.embedder = embedder
        self.template_name = template
        self.question_template_name = question_template
        self.template = prompts.load(template)
        self.question_template = prompts.load(question_template)
        self.language = "en"
        self.language_rule = ""
        self.history: list[BaseMessage] = []
        self.last_messages: list[BaseMessage] = []
        self.last_context: VideoContext | None = None   # the context fitted to the last question
        self.last_guard = None   # the guard's verdict on the last answer (None: not checked)

    def use_language(self, language: str) -> None:
        """Use the templates (or the rule line) for questions in ``language`` (an ISO 639-1 code)."""
        self.language = language
        self.template, own = prompts.load_for(self.template_name, language)
        self.question_template, _ = prompts.load_for(self.question_template_name, language)
        name = language_name(language)
        self.language_rule = f"\nThe question is in {name}: answer in {name}." if language != "en" else ""
        if not own:   # the system prompt's rule, named for this question
            self.question_template += self.language_rule

    def system_prompt(self, context_text: str) -> str:
        """The system message with the (fitted) context and the sampling rate filled in."""
        return self.template.format(context=context_text, fps=f"{self.fps:g}")

    def tokens(self, messages: list[BaseMessage]) -> int:
        """Tokens ``messages`` take in the window, chat-template overhead included."""
        return sum(self.llm.count_tokens(str(m.content)) + MESSAGE_OVERHEAD for m in messages) + MESSAGE_OVERHEAD

    def messages_for(self, question: str) -> list[BaseMessage]:
        """The messages to send for ``question``: fitted system prompt (in its language), kept history, question."""
        self.use_language(question_language(question))
        if self.evidence_first:
            return self._evidence_messages(question)
        self.last_evidence = None
        asked = HumanMessage(self.question_template.format(question=question))
        fixed = self.tokens([SystemMessage(self.system_prompt("")), asked])
        available = self.llm.n_ctx - self.llm.max_tokens - fixed
        if available <= 0:
            raise ValueError(f"the question does not fit the LLM's {self.llm.n_ctx} token window")
        self._trim_history(available // 2)
        budget = available - (self.tokens(self.history) - MESSAGE_OVERHEAD if self.history else 0)
        self.last_context = fit_context(self.context, question, budget, self.llm.count_tokens,
                                        embedder=self.embedder)
        self.last_text = self.last_context.render()
        return [SystemMessage(self.system_prompt(self.last_text)), *self.history, asked]

    def _evidence_messages(self, question: str) -> list[BaseMessage]:
        """The short rule as system prompt, kept history, then the question's evidence block and the question."""
        system = SystemMessage(self.evidence_template)
        fixed = self.tokens([system, HumanMessage(self.evidence_question.format(evidence="", question=question))])
        available = self.llm.n_ctx - self.llm.max_tokens - fixed
        if available <= 0:
            raise ValueError(f"the question does not fit the LLM's {self.llm.n_ctx} token window")
        self._trim_history(available // 2)
        budget = available - (self.tokens(self.history) - MESSAGE_OVERHEAD if self.history else 0)
        evidence = select_evidence(self.context, question, self.embedder, min(EVIDENCE_TOKENS, budget),
                                   self.llm.count_tokens)
        self.last_evidence = evidence
        self.last_context = evidence.context(self.context.header)
        self.last_text = evidence.render()
        asked = HumanMessage(self.evidence_question.format(evidence=self.last_text, question=question)
                             + self.language_rule)
        return [system, *self.history, asked]

    def _trim_history(self, budget: int) -> None:
        while self.history and self.tokens(self.history) - MESSAGE_OVERHEAD > budget:
            del self.history[:2]   # the oldest question and its answer

    def ask(self, question: str, on_token: Callable[[str], None] | None = None,
            on_context: Callable[[str], None] | None = None) -> str:
        """Answer ``question``, streaming each piece to ``on_token``; the turn joins the history.

        ``on_context`` sees the fitted context's text before the answer starts. If the
        stream is interrupted (Ctrl-C) the turn is dropped and the exception propagates.
        """
        on_token = self._timed(on_token)
        messages = self.messages_for(question)
        self.last_messages = messages
        if on_context:
            on_context(self.last_text)
        quoted = self._quoted_answer(question)
        if quoted:
            return self._answer_without_llm(quoted, question, on_token)
        if self.last_evidence is not None and self.last_evidence.empty:
            unknown = bool(self.context.header.unknown())   # then say what could not be seen, and why
            return self._answer_without_llm(cannot_tell(self.context, question) if unknown else NOT_SHOWN,
                                            question, on_token)
        draft = self.last_evidence.draft if self.last_evidence else None
        # the guard checks full-context answers; evidence first declines without the LLM when nothing bears
        # on the question, and a draft or the best entry replaces an answer that strays from the evidence
        guarded = self.guard and not self.last_evidence and bool(self.context.header.unknown())
        # a draft, the best entry (evidence first) or the guard may replace the answer: hold it back until checked
        held = bool(draft or self.last_evidence or guarded)
        stream = AnswerStream(None if held else on_token, self.one_paragraph)
        self.first_token_at = None
        stop = ["\n\n"] if self.one_paragraph else None
        chunks = self.llm.model.stream(messages, stop=stop)
        try:
            for chunk in chunks:
                piece = str(chunk.content)
                if piece:
                    if self.first_token_at is None:
                        self.first_token_at = time.perf_counter()
                    if not stream.feed(piece):
                        break
        except Exception as exc:
            failure = explain_failure(exc, self.llm)
            if failure:
                raise failure from exc
            raise
        finally:
            # close the stream now, not when the garbage collector finds it: its clean-up (the engine stops,
            # the prompt cache is saved) must not run later, in the middle of another answer, where an
            # exception such as Ctrl-C's KeyboardInterrupt would be swallowed as "ignored"
            getattr(chunks, "close", lambda: None)()
        answer = stream.close()
        shown = bool(stream.text) and not held
        ours = self._evidence_answer(answer, draft, question)   # None: the LLM's answer stands
        seen = "\n".join(e.line() for e in self.last_context.entries)   # not the header: it names the file
        seen += "\n" + (self.context.header.speech_line() or "")           # but the language spoken is evidence
        if self.last_evidence:
            seen += "\n" + "\n".join(f.text for f in self.last_evidence.facts)
        # only the LLM's own words can borrow the file name (ours quote the evidence and the header's notes)
        borrowed = ours is None and borrows_file_name(answer, self.context.header, seen, question)
        answer = ours or answer
        self.last_guard = guard_answer(answer, self.context, question) if guarded and not borrowed else None
        replaced = borrowed or (self.last_guard is not None and self.last_guard.replaced)
        if borrowed:
            answer = f"{NOT_SHOWN} (The file name is not evidence of what the video shows.)"
        elif replaced:
            answer = self.last_guard.answer
        if not shown or replaced:
            on_token(("\n" if shown else "") + answer)
        citation = cite(answer, self.last_context) if self.cite and not replaced else ""
        if citation:
            on_token(citation)
        answer += citation
        plain = HumanMessage(self.question_template.format(question=question)) if self.evidence_first else messages[-1]
        self.history += [plain, AIMessage(answer)]
        return answer

    def _evidence_answer(self, answer: str, draft: str | None, question: str) -> str | None:
        """What replaces the LLM's ``answer`` on the evidence-first path, or None to keep it: the draft when
        the answer loses its facts or strays from the evidence around them (an answer drawn from a draft that
        only quotes speech stays, the quote after it); the best entry when the answer is about the notes or
        strays from the evidence. That entry is "closest evidence" after "I cannot tell" (or "The video does
        not show that") when it is a quotation sharing no word with the question, or a detection line while
        the context says what could not be seen (a detection line does not say what someone wears)."""
        if draft:
            if keeps_facts(answer, draft) and not strays(answer, self.last_text, question):
                return None
            if self.last_evidence.quoting and draws_on(answer, draft, question):
                return f"{answer.rstrip()} ({draft.rstrip('.')})"   # the short answer, then what it rests on
            return draft
        best = self.last_evidence.best if self.last_evidence else None
        if best is None or not (is_meta(answer, self.last_evidence.content())
                                or strays(answer, self.last_text, question)):
            return None
        asked, unknown = roots(self.last_evidence.question.topic), self.context.header.unknown()
        quotation = best.kind in QUOTED_KINDS
        if (quotation and asked and not asked & roots(said_text(best))) or (not quotation and unknown):
            lead = cannot_tell(self.context, question) if unknown else NOT_SHOWN
            return f"{lead} Closest evidence: {best.line()}"
        return plain_answer(best)

    def writes(self, language: str) -> bool:
        """Whether the LLM writes ``language``: it declares it, or declares no language at all (unknown)."""
        return not self.llm.languages or language in self.llm.languages

    def _quoted_answer(self, question: str) -> str | None:
        """For a question in a language the LLM does not write: its evidence quoted, framed in that language
        (:mod:`prompting.quoted`); None when the LLM writes it or ``prompts/`` has no phrases for it."""
        if self.writes(self.language):
            return None
        evidence = self.last_evidence or select_evidence(self.context, question, self.embedder,
                                                         count_tokens=self.llm.count_tokens)
        return quoted_answer(evidence, self.language)

    def _timed(self, on_token: Callable[[str], None] | None) -> Callable[[str], None]:
        """``on_token`` (or nothing) that also notes when the user first sees a piece (:attr:`first_shown_at`):
        an answer held back until checked shows nothing before it is complete."""
        self.first_shown_at = None

        def show(piece: str) -> None:
            if self.first_shown_at is None:
                self.first_shown_at = time.perf_counter()
            if on_token:
                on_token(piece)

        return show

    def _answer_without_llm(self, answer: str, question: str, on_token) -> str:
        """Answer with ``answer``, not the LLM's (it would only invent, or cannot write the question's language)."""
        self.first_token_at = time.perf_counter()
        on_token(answer)
        self.history += [HumanMessage(self.question_template.format(question=question)), AIMessage(answer)]
        return answer

    def reset(self) -> None:
        """Forget the conversation (the video context stays)."""
        self.history.clear()
        self.last_messages = []
        self.last_context = None
        self.last_evidence = None
