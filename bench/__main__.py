"""``python -m bench``: how fast each stage textualizes real clips, and how fast ``ask`` answers.

Each clip runs in its own process with an empty perception cache (so its peak
RSS is its own): every stage's model is loaded and timed, the clip is perceived
and its context built, then two questions are asked in that process. A second
new process then asks the last question again, now that the video is cached.
Tables go to the terminal, the same numbers to ``--json``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from bench.runner import MODEL_DIR

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    clips: Annotated[Optional[list[str]], typer.Option("--clips", help="Clip paths or names in ../shared/clips (comma-separated or repeated). Default: a 10 s clip with speech, a 10 s clip without audio, a GRID clip; without the shared clips, samples/*.mp4.")] = None,
    models: Annotated[str, typer.Option("--models", help="real-arch: default architectures with random weights for the visual stages and cleanup (real ASR and LLM); tiny: perceive.testing tiny models; configured: the registry's models as they are.")] = "real-arch",
    model_dir: Annotated[Path, typer.Option("--model-dir", help="Where the random-weight models are built (once).")] = MODEL_DIR,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the results as JSON to this file.")] = None,
    fps: Annotated[float, typer.Option("--fps", help="Keyframes sampled per second.")] = 1.0,
    stages: Annotated[Optional[str], typer.Option("--stages", help="Comma-separated stages (default: all but the optional tags).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="cpu, cuda, ... (default: cuda if available).")] = None,
    questions: Annotated[Optional[int], typer.Option("--questions", help="Questions asked per clip (0: no ask; default 2, 0 with --device cuda: the GPU bench times the perception stages).")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")] = 64,
    no_cleanup: Annotated[bool, typer.Option("--no-cleanup", help="Build the ask context without the cleanup model.")] = False,
    online: Annotated[bool, typer.Option("--online", help="Allow downloads (default: offline).")] = False,
    profile: Annotated[Optional[str], typer.Option("--profile", help="Speed profile (perceive/profiles.py): default or fast.")] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", help="Keyframes per batch (default: by device).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Draw the tables as Markdown pipe tables.")] = False,
):
    """Benchmark textualizing and asking about video clips; prints a table per clip."""
    from bench.clip import ClipSpec
    from bench.records import BenchRun
    from bench.report import ask_table, heading, stage_table, summary_table
    from bench.runner import MODEL_SETS, bench_clip, default_clips, find_clips, model_overrides, questions_for
    from perceive.models import set_offline

    console = Console(width=None if Console().is_terminal else 200)
    if questions is None:
        questions = 0 if (device or "").startswith("cuda") else 2
    if models not in MODEL_SETS:
        raise typer.BadParameter(f"choose from {', '.join(MODEL_SETS)}", param_hint="--models")
    if not online:
        set_offline(True)
    paths = find_clips(clips) if clips else default_clips()
    if not paths:
        raise typer.BadParameter("no clips: pass --clips (no ../shared/clips and no samples/*.mp4)")
    with console.status(f"building the {models} models in {model_dir} (once)"):
        overrides = model_overrides(models, model_dir)
    run = BenchRun(models=models, models_note=MODEL_SETS[models], fps=fps, profile=profile or "default",
                   device=device or "auto")
    console.print(heading(run), highlight=False)
    for path in paths:
        spec = ClipSpec(models=overrides, fps=fps, device=device, max_tokens=max_tokens, cleanup=not no_cleanup,
                        stages=stages.split(",") if stages else None, questions=questions_for(path, questions),
                        profile=profile, batch_size=batch_size)
        with console.status(f"benchmarking {path.name}"):
            clip = bench_clip(path, spec, offline=not online)
        run.clips.append(clip)
        if clip.error:
            console.print(f"[red]{path.name} failed:[/] {clip.error}", highlight=False)
            continue
        console.print(stage_table(clip, markdown))
        table = ask_table(clip, markdown)
        if table is not None:
            console.print(table)
        for note in clip.notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
    run.load_average_end = os.getloadavg()[0]
    console.print(summary_table(run, markdown))
    console.print(heading(run), highlight=False)
    if json_out:
        json_out.write_text(run.model_dump_json(indent=1))
        console.print(f"results in {json_out}", highlight=False)


if __name__ == "__main__":
    app()
