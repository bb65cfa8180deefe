"""A multi-turn chat about one video: the history, the LLM's window and the streaming.

Each question goes to the answer pipeline (:mod:`answer.pipeline`) with the
kept history and the tokens the window leaves for the context: window - the
prompt's fixed part - history - answer reserve. The history is kept to at most
half of that and loses its oldest turns first. With a window under
:data:`EVIDENCE_WINDOW` tokens (the default 4,096-token GGUF window, Ollama's
4,096) each question comes with its own evidence block (evidence first); larger
windows (remote models) get the whole fitted context; ``evidence=True/False``
forces either. What the answer is made of, and the checks it passes, is the
pipeline's business; the session keeps the turn (question, answer) and when
the user first saw a piece of it (:attr:`ChatSession.first_shown_at`).
"""
from __future__ import annotations

import time
from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

import prompts
from answer.pipeline import AnswerPipeline, Turn
from answer.records import Answer
from chat.llm import ChatLLM, explain_failure
from perceive.records import Perception
from prompting.context import VideoContext
from prompting.retrieve import TextEmbedder

MESSAGE_OVERHEAD = 8   # chat-template tokens around each message, plus the assistant cue
EVIDENCE_WINDOW = 8192  # LLM windows below this many tokens get evidence first (see the module docstring)


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
        self.perception = perception
        self.embedder = embedder
        self.evidence_first = evidence if evidence is not None else llm.n_ctx < EVIDENCE_WINDOW
        self.pipeline = AnswerPipeline(llm, context, embedder, cite=cite, guard=guard, one_paragraph=one_paragraph,
                                       system=template, question=question_template)
        self.question_template = prompts.load(question_template)
        self.history: list[BaseMessage] = []
        self.last_turn: Turn | None = None
        self.first_token_at: float | None = None   # perf_counter() of the last answer's first token
        self.first_shown_at: float | None = None   # ... and of its first piece the user saw

    @property
    def context(self) -> VideoContext:
        """The video context questions are answered from (the answer pipeline's)."""
        return self.pipeline.context

    @context.setter
    def context(self, context: VideoContext) -> None:
        """Replace the context (a re-look adds entries); the next question is answered from it."""
        self.pipeline.context = context

    @property
    def last_answer(self) -> Answer | None:
        """The typed record of the last answer (its source, entries and the checks that fired)."""
        return self.last_turn.answer if self.last_turn else None

    @property
    def last_evidence(self):
        """The last question's evidence (None for a whole-context answer)."""
        return self.last_turn.evidence if self.last_turn else None

    @property
    def last_context(self) -> VideoContext | None:
        """The context fitted to the last question (its evidence entries, evidence first)."""
        return self.last_turn.context if self.last_turn else None

    @property
    def last_text(self) -> str:
        """The context text sent with the last question (the evidence block, or the fitted context)."""
        return self.last_turn.text if self.last_turn else ""

    @property
    def last_messages(self) -> list[BaseMessage]:
        """The messages sent for the last question."""
        return self.last_turn.messages if self.last_turn else []

    @property
    def last_guard(self):
        """The guard's verdict on the last whole-context answer (None: not checked)."""
        return self.last_turn.guard if self.last_turn else None

    def tokens(self, messages: list[BaseMessage]) -> int:
        """Tokens ``messages`` take in the window, chat-template overhead included."""
        return sum(self.llm.count_tokens(str(m.content)) + MESSAGE_OVERHEAD for m in messages) + MESSAGE_OVERHEAD

    def _prepare(self, question: str) -> Turn:
        """The turn for ``question``: the history trimmed to the window, the rest of it for the context."""
        fixed = self.tokens(self.pipeline.messages(question, "", [], self.evidence_first))
        available = self.llm.n_ctx - self.llm.max_tokens - fixed
        if available <= 0:
            raise ValueError(f"the question does not fit the LLM's {self.llm.n_ctx} token window")
        while self.history and self.tokens(self.history) - MESSAGE_OVERHEAD > available // 2:
            del self.history[:2]   # the oldest question and its answer
        budget = available - (self.tokens(self.history) - MESSAGE_OVERHEAD if self.history else 0)
        self.last_turn = self.pipeline.prepare(question, list(self.history), budget, self.evidence_first)
        return self.last_turn

    def messages_for(self, question: str) -> list[BaseMessage]:
        """The messages that would be sent for ``question`` now."""
        return self._prepare(question).messages

    def ask(self, question: str, on_token: Callable[[str], None] | None = None,
            on_context: Callable[[str], None] | None = None) -> str:
        """Answer ``question``, streaming each piece to ``on_token``; the turn joins the history.

        ``on_context`` sees the fitted context's text before the answer starts. If the
        stream is interrupted (Ctrl-C) the turn is dropped and the exception propagates.
        """
        shown = self._timed(on_token)
        turn = self._prepare(question)
        if on_context:
            on_context(turn.text)
        self.first_token_at = None
        try:
            turn = self.pipeline.respond(turn, shown)
        except Exception as exc:
            failure = explain_failure(exc, self.llm)
            if failure:
                raise failure from exc
            raise
        self.first_token_at = turn.first_token_at
        self.history += [HumanMessage(self.question_template.format(question=question)), AIMessage(turn.answer.text)]
        return turn.answer.text

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

    def reset(self) -> None:
        """Forget the conversation (the video context stays)."""
        self.history.clear()
        self.last_turn = None
