"""A multi-turn chat about one video, grounded in its textual context.

Each question is sent as: the system prompt (``prompts/system.txt``, the
VideoChat-Text prompt) holding the video context, the earlier turns, then the
question (wrapped by ``prompts/question.txt``, which asks for a short answer
citing the time: small local models need that nudge). Before each question the context is fitted to what is left of the
LLM's window (window - system prompt - history - answer reserve), so a long
video keeps the segments most relevant to that question; the history is kept
to at most half of the window and loses its oldest turns first. An answer that
names no time gets the time of the context line supporting it (:mod:`prompting.cite`).

When the context says that something could not be seen (a stage did not run:
its header has ``unknown`` facts), the answer is held back until it is
complete and checked by :func:`prompting.guard.guard`: an answer whose content
words neither the context nor the question supports becomes "I cannot tell:
the analysed video does not show that." with the reasons. Otherwise it streams.
"""
from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

import prompts
from chat.llm import ChatLLM, explain_failure
from prompting.cite import cite
from prompting.context import VideoContext
from prompting.guard import guard as guard_answer
from prompting.retrieve import TextEmbedder
from prompting.window import fit_context

MESSAGE_OVERHEAD = 8   # chat-template tokens around each message, plus the assistant cue


class ChatSession:
    """Answer questions about one video's context, remembering the conversation."""

    def __init__(self, llm: ChatLLM, context: VideoContext, embedder: TextEmbedder | None = None,
                 template: str = "system", question_template: str = "question", cite: bool = True,
                 guard: bool = True):
        """``cite`` appends the time of the supporting context entry when the answer names none; ``guard``
        replaces an unsupported answer when the context says something could not be seen."""
        self.llm = llm
        self.cite = cite
        self.guard = guard
        self.context = context
        self.fps = context.header.fps_sampled
        self.embedder = embedder
        self.template = prompts.load(template)
        self.question_template = prompts.load(question_template)
        self.history: list[BaseMessage] = []
        self.last_messages: list[BaseMessage] = []
        self.last_context: VideoContext | None = None   # the context fitted to the last question
        self.last_guard = None   # the guard's verdict on the last answer (None: not checked)

    def system_prompt(self, context_text: str) -> str:
        """The system message with the (fitted) context and the sampling rate filled in."""
        return self.template.format(context=context_text, fps=f"{self.fps:g}")

    def tokens(self, messages: list[BaseMessage]) -> int:
        """Tokens ``messages`` take in the window, chat-template overhead included."""
        return sum(self.llm.count_tokens(str(m.content)) + MESSAGE_OVERHEAD for m in messages) + MESSAGE_OVERHEAD

    def messages_for(self, question: str) -> list[BaseMessage]:
        """The messages to send for ``question``: fitted system prompt, kept history, question."""
        asked = HumanMessage(self.question_template.format(question=question))
        fixed = self.tokens([SystemMessage(self.system_prompt("")), asked])
        available = self.llm.n_ctx - self.llm.max_tokens - fixed
        if available <= 0:
            raise ValueError(f"the question does not fit the LLM's {self.llm.n_ctx} token window")
        self._trim_history(available // 2)
        budget = available - (self.tokens(self.history) - MESSAGE_OVERHEAD if self.history else 0)
        self.last_context = fit_context(self.context, question, budget, self.llm.count_tokens,
                                        embedder=self.embedder)
        return [SystemMessage(self.system_prompt(self.last_context.render())), *self.history, asked]

    def _trim_history(self, budget: int) -> None:
        while self.history and self.tokens(self.history) - MESSAGE_OVERHEAD > budget:
            del self.history[:2]   # the oldest question and its answer

    def ask(self, question: str, on_token: Callable[[str], None] | None = None,
            on_context: Callable[[str], None] | None = None) -> str:
        """Answer ``question``, streaming each piece to ``on_token``; the turn joins the history.

        ``on_context`` sees the fitted context's text before the answer starts. If the
        stream is interrupted (Ctrl-C) the turn is dropped and the exception propagates.
        """
        messages = self.messages_for(question)
        self.last_messages = messages
        if on_context:
            on_context(self.last_context.render())
        held = self.guard and bool(self.context.header.unknown())   # check the whole answer before showing it
        pieces = []
        try:
            for chunk in self.llm.model.stream(messages):
                piece = str(chunk.content)
                if piece:
                    pieces.append(piece)
                    if on_token and not held:
                        on_token(piece)
        except Exception as exc:
            failure = explain_failure(exc, self.llm)
            if failure:
                raise failure from exc
            raise
        answer = "".join(pieces).strip()
        self.last_guard = guard_answer(answer, self.context, question) if held else None
        if self.last_guard is not None and self.last_guard.replaced:
            answer, citation = self.last_guard.answer, ""
        else:
            citation = cite(answer, self.last_context) if self.cite else ""
        shown = answer + citation if held else citation   # a streamed answer only lacks its citation
        if shown and on_token:
            on_token(shown)
        answer += citation
        self.history += [messages[-1], AIMessage(answer)]
        return answer

    def reset(self) -> None:
        """Forget the conversation (the video context stays)."""
        self.history.clear()
        self.last_messages = []
        self.last_context = None
