"""``python -m bench.window``: how long a video context the local LLM can still answer from.

A needle-in-a-haystack test through the real chat path (``ChatSession`` with the
whole context, the system prompt of ``prompts/``): synthetic timelines of
``--tokens`` lengths (speech lines of everyday filler sentences and detection
lines) hide one spoken fact in the middle; the LLM is asked about it. An answer
counts when it names the fact's key word. The table shows, per context length,
how many needles were found and the first answer, so the length where the model
starts to lose the thread or write token soup can be read off. The needles and
fillers are written for this bench (nothing from ``dev_questions.jsonl``).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

NEEDLES = [
    ("The spare key is hidden under the green flowerpot by the door.", "Where is the spare key hidden?",
     ("flowerpot", "flower pot")),
    ("Our train to the coast leaves from platform eleven.", "Which platform does the train to the coast leave from?",
     ("eleven", "11")),
    ("My sister named her new puppy Biscuit.", "What did the sister name her new puppy?", ("biscuit",)),
]
"""(spoken sentence, question about it, words one of which a right answer names)."""

FILLERS = [
    "Let me check the list again before we go.", "It has been raining all morning here.",
    "I think we should start with the easy part.", "Can you pass me the other one, please?",
    "That looks about right to me.", "We talked about this last week as well.",
    "The light is better on this side of the room.", "Give me a second, I will be right back.",
    "Everyone seems to be ready now.", "I was not sure about the colour at first.",
    "This part always takes a little longer.", "We can finish the rest tomorrow afternoon.",
]
OBJECTS = ["1 person (center)", "2 persons (left, right)", "1 person (left), 1 cup (center)",
           "1 chair (right)", "1 person (center), 1 laptop (bottom center)"]


def haystack(needle: str, tokens: int, count_tokens):
    """A perception whose context is about ``tokens`` tokens, with ``needle`` said near the middle."""
    from perceive.records import ModelInfo, Observation, Perception, VideoInfo
    from prompting.context import video_context

    def build(seconds: int) -> Perception:
        observations = []
        for t in range(seconds):
            if t % 6 == 0:
                text = needle if t == (seconds // 12) * 6 else FILLERS[(t // 6) % len(FILLERS)]
                observations.append(Observation(stage="asr", start=t + 0.5, end=t + 4.0, text=text))
            if t % 3 == 0:
                observations.append(Observation(stage="detection", start=t, end=t, text=OBJECTS[(t // 3) % 5]))
        models = [ModelInfo(role=r, name="bench", source="path", weights="real") for r in ("asr", "detector")]
        return Perception(video=VideoInfo(path="bench.mp4", duration=float(seconds), width=640, height=360, fps=25,
                                          has_audio=True), fps_sampled=1.0, models=models, observations=observations)

    low, high = 12, 12
    while count_tokens(video_context(build(high)).render()) < tokens:
        low, high = high, high * 2
    while high - low > 6:                                   # the shortest timeline of at least ``tokens`` tokens
        mid = (low + high) // 2
        if count_tokens(video_context(build(mid)).render()) < tokens:
            low = mid
        else:
            high = mid
    return video_context(build(high))


@app.command()
def main(
    tokens: Annotated[str, typer.Option("--tokens", help="Context lengths in tokens, comma-separated.")] = "500,1000,2000,3000,3800",
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")] = 40,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="llm model (default: the registry's).")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the results as JSON.")] = None,
):
    """Find the context length where the local LLM stops answering from a long video context."""
    from chat.llm import LLMSettings, load_llm
    from chat.session import ChatSession
    from perceive.models import set_offline

    set_offline(True)
    lengths = [int(t) for t in tokens.split(",") if t.strip()]
    llm = load_llm({"llm": model} if model else {}, LLMSettings(n_ctx=8192, max_tokens=max_tokens, prompt_cache=False))
    console = Console(width=None if Console().is_terminal else 200)
    rows = []
    for length in lengths:
        for needle, question, keys in NEEDLES:
            context = haystack(needle, length, llm.count_tokens)
            session = ChatSession(llm, context, evidence=False, cite=False, guard=False)
            start = time.perf_counter()
            answer = session.ask(question)
            found = any(k in answer.lower() for k in keys)
            rows.append({"tokens": llm.count_tokens(context.render()), "target": length, "question": question,
                         "found": found, "seconds": round(time.perf_counter() - start, 2), "answer": answer.strip()})
            console.print(f"  {length} tokens: {'found' if found else 'missed'}: {answer.strip()[:90]!r}",
                          highlight=False)
    table = Table(title=f"{llm.describe()}: the needle in the middle of a synthetic video context")
    for column in ("context tokens", "found", "seconds per question", "first answer"):
        table.add_column(column, justify="left" if column == "first answer" else "right")
    for length in lengths:
        mine = [r for r in rows if r["target"] == length]
        table.add_row(str(round(sum(r["tokens"] for r in mine) / len(mine))), f"{sum(r['found'] for r in mine)}/{len(mine)}",
                      f"{sum(r['seconds'] for r in mine) / len(mine):.1f}", mine[0]["answer"][:70])
    console.print(table)
    if json_out:
        json_out.write_text(json.dumps({"model": llm.describe(), "runs": rows}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    app()
