"""``python -m bench.llm``: prompt evaluation and generation speed of the local LLM.

The question the portability change had to answer: does the default GGUF read a
~1,300-token video context at least as fast as before? Each run asks one
question about a different synthetic context of about ``--tokens`` tokens (so
no prompt cache helps), and the engine's own timings give prompt tokens/s and
generated tokens/s. Prints a table; ``--json`` writes the numbers.
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


def synthetic_context(tokens: int, count_tokens, seed: int) -> str:
    """A timeline of plain ``Second N:`` lines, about ``tokens`` tokens long, different for each ``seed``."""
    lines = ["Video: bench.mp4", "Timeline (times in seconds from the start; speech spans in m:ss):"]
    colours = ["red", "blue", "green", "white", "black", "yellow"]
    t = 0
    while count_tokens("\n".join(lines)) < tokens:
        lines.append(f"Second {t}: a person in a {colours[(t + seed) % 6]} shirt walks past "
                     f"{(t * 7 + seed) % 9 + 1} parked bicycles; objects: 1 person (center).")
        t += 1
    return "\n".join(lines)


@app.command()
def main(
    tokens: Annotated[int, typer.Option("--tokens", help="Context length in tokens.")] = 1300,
    runs: Annotated[int, typer.Option("--runs", help="Questions, each about a fresh context.")] = 3,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Tokens generated per answer.")] = 48,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="llm model (default: the registry's).")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the results as JSON.")] = None,
):
    """Measure the local LLM's prompt tokens/s and generated tokens/s on video-sized contexts."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from chat.llm import LLMSettings, load_llm
    from perceive.models import set_offline

    set_offline(True)
    start = time.perf_counter()
    llm = load_llm({"llm": model} if model else {}, LLMSettings(max_tokens=max_tokens, prompt_cache=False))
    load_s = time.perf_counter() - start
    engine = getattr(llm.model, "engine", None)
    if engine is None:
        raise typer.BadParameter("bench.llm measures the local llama.cpp engine (a GGUF model)")
    results = []
    for seed in range(runs):
        context = synthetic_context(tokens, llm.count_tokens, seed)
        messages = [SystemMessage(context), HumanMessage("What colour is the shirt at second 3?")]
        answer = "".join(str(chunk.content) for chunk in llm.model.stream(messages))
        t = engine.last_timings
        results.append({"prompt_tokens": t["prompt_n"], "prompt_tok_s": round(t["prompt_per_second"], 1),
                        "generated": t["predicted_n"], "gen_tok_s": round(t["predicted_per_second"], 1),
                        "answer": answer.strip()})
    table = Table(title=f"{llm.describe()}; load {load_s:.2f} s")
    for column in ("run", "prompt tokens", "prompt tokens/s", "generated", "generated tokens/s"):
        table.add_column(column, justify="right")
    for i, r in enumerate(results, 1):
        table.add_row(str(i), str(r["prompt_tokens"]), f"{r['prompt_tok_s']:.1f}", str(r["generated"]),
                      f"{r['gen_tok_s']:.1f}")
    Console().print(table)
    if json_out:
        json_out.write_text(json.dumps({"model": llm.describe(), "load_s": load_s, "runs": results}, indent=2))


if __name__ == "__main__":
    app()
