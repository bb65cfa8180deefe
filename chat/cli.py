"""The ``videochat`` command line: perceive, context, ask, chat, textualize, models."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

# Model libraries talk a lot on stderr; the CLI draws its own progress bars.
for _var, _value in (("TRANSFORMERS_VERBOSITY", "error"), ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
                     ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_var, _value)

app = typer.Typer(
    help="Ask questions about a video. Perception models (Whisper, YOLO, BLIP, VideoMAE) turn it into a "
         "timestamped textual context; a local or remote LLM answers from that text.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

# Options shared by every command that runs perception.
Offline = Annotated[bool, typer.Option("--offline", help="Never touch the network; fail clearly if a model is missing (or VIDEOCHAT_OFFLINE=1).")]
Device = Annotated[Optional[str], typer.Option("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available, else cpu).")]
Models = Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Override a model: ROLE=PATH_OR_ID, e.g. -m detector=./yolo.pt. Roles: asr detector captioner action cleanup llm embedder.")]
Fps = Annotated[float, typer.Option("--fps", help="Keyframes sampled per second.")]
Stages = Annotated[Optional[str], typer.Option("--stages", help="Comma-separated stages to run: asr,detection,caption,dense_caption,action (default: all).")]
Scene = Annotated[Optional[float], typer.Option("--scene", help="Also take keyframes at scene changes above this score (0-1), e.g. 0.3.")]


@contextmanager
def one_line_errors():
    """Turn the errors a user can cause into one red line and exit status 1, without a traceback."""
    from perceive.models import ModelUnavailable
    from perceive.video import VideoError

    try:
        yield
    except (VideoError, ModelUnavailable, ValueError, FileNotFoundError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        raise typer.Exit(130)


def perception_settings(offline: bool, device: Optional[str], models: Optional[list[str]], fps: float,
                        stages: Optional[str], scene: Optional[float]):
    """Build :class:`PerceptionSettings` from the shared CLI options (and switch offline mode on)."""
    from perceive.models import STAGES, parse_overrides, set_offline
    from perceive.pipeline import PerceptionSettings

    if offline:
        set_offline(True)
    chosen = tuple(s.strip() for s in stages.split(",") if s.strip()) if stages else tuple(STAGES)
    return PerceptionSettings(fps=fps, stages=chosen, device=device, models=parse_overrides(models),
                              scene_threshold=scene)


def run_perception(video: Path, settings, use_cache: bool = True):
    """Perceive one video with a rich progress bar, using the perception cache."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from perceive.cache import perceive_cached

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[pos]}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(f"perceiving {video.name}", total=1.0, pos="")

        def progress(label: str, done: float, total: float) -> None:
            bar.update(task, description=f"{video.name}: {label}", completed=done / total if total else 0,
                       pos=f"{done:.0f}/{total:.0f}s")

        return perceive_cached(video, settings, progress=progress, use_cache=use_cache)


@app.command()
def perceive(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the observations as JSON.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and overwrite the perception cache.")] = False,
    offline: Offline = False, device: Device = None, model: Models = None, fps: Fps = 1.0,
    stages: Stages = None, scene: Scene = None,
):
    """Run the perception models on VIDEO and print what each stage saw."""
    with one_line_errors():
        settings = perception_settings(offline, device, model, fps, stages, scene)
        result = run_perception(video, settings, use_cache=not no_cache)
    if json_out:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    from chat.render import print_perception

    print_perception(console, result)


@app.command()
def models(
    make_tiny: Annotated[Optional[Path], typer.Option("--make-tiny", help="Build tiny random-weight models for every role into this folder (offline demos and tests).")] = None,
    offline: Offline = False, model: Models = None,
):
    """Show which model each role resolves to (and whether its weights are real), or build tiny ones."""
    from rich.table import Table

    from perceive.models import ROLES, ModelUnavailable, parse_overrides, resolve, set_offline

    if offline:
        set_offline(True)
    if make_tiny:
        from perceive.tiny import make_tiny_models

        with one_line_errors():
            paths = make_tiny_models(make_tiny)
        for role, path in paths.items():
            console.print(f"{role}: {path}", highlight=False)
        console.print("use them with: " + " ".join(f"-m {r}={p}" for r, p in paths.items()), highlight=False,
                      soft_wrap=True)
        return
    with one_line_errors():
        overrides = parse_overrides(model)
    table = Table("role", "model", "source", "backend", "weights")
    for role in ROLES:
        try:
            spec = resolve(role, overrides)
            table.add_row(role, spec.info().name, f"{spec.source}: {spec.location}", spec.backend, spec.weights)
        except ModelUnavailable as exc:
            table.add_row(role, "[red]unavailable[/]", str(exc), "", "")
    console.print(table)


# Options of the commands that talk to the LLM.
Cleanup = Annotated[Optional[bool], typer.Option("--cleanup/--no-cleanup", help="Rewrite each second's tags into a sentence with the cleanup model (default: when that model is available).")]
BaseUrl = Annotated[Optional[str], typer.Option("--base-url", help="Endpoint for -m llm=openai:MODEL (OpenAI-compatible; default $OPENAI_BASE_URL) or -m llm=ollama:MODEL.")]
NCtx = Annotated[Optional[int], typer.Option("--n-ctx", help="LLM context window in tokens (default: 4096 for GGUF files).")]
MaxTokens = Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")]


def video_context(video: Path, settings, cleanup: Optional[bool]):
    """Perceive VIDEO (cached) and build its textual context; notes on skipped stages go to stderr."""
    from perceive.models import ModelUnavailable
    from prompting.cleanup import Cleanup as CleanupModel
    from prompting.context import build_context

    perception = run_perception(video, settings)
    notes = list(perception.notes)
    cleaner = None
    if cleanup is not False:
        try:
            cleaner = CleanupModel.from_registry(settings.models, settings.device or "cpu")
        except ModelUnavailable as exc:
            if cleanup:
                raise
            notes.append(f"cleanup skipped: model not available; {exc}")
    from perceive.pipeline import missing_models_line

    for note in missing_models_line(notes):
        err_console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    return perception, build_context(perception, cleanup=cleaner)


def start_session(video: Path, settings, cleanup: Optional[bool], base_url: Optional[str], n_ctx: Optional[int],
                  max_tokens: int):
    """Load the LLM (first, so a missing one fails fast), perceive VIDEO and open a chat session."""
    from chat.llm import LLMSettings, load_llm
    from chat.session import ChatSession
    from perceive.models import ModelUnavailable
    from prompting.retrieve import Embedder

    if not video.is_file():
        raise FileNotFoundError(f"{video}: no such file")
    llm = load_llm(settings.models, LLMSettings(n_ctx=n_ctx, max_tokens=max_tokens, base_url=base_url))
    err_console.print(f"[dim]{llm.describe()}[/]", highlight=False, soft_wrap=True)
    perception, text = video_context(video, settings, cleanup)
    try:
        embedder = Embedder.from_registry(settings.models, settings.device)
    except ModelUnavailable:
        embedder = None   # keyword retrieval (BM25) then picks what fits the window
    return ChatSession(llm, text, perception.fps_sampled, embedder=embedder)


def print_piece(piece: str) -> None:
    """Print one streamed piece of an answer as it arrives."""
    console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)


def print_context(text: str, title: str) -> None:
    """Print a context block, dimmed, under a title."""
    console.print(f"[bold]{title}[/]", highlight=False)
    console.print(text, markup=False, highlight=False, soft_wrap=True, style="dim")


@app.command()
def ask(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    question: Annotated[str, typer.Argument(help="The question, e.g. \"What happens at 0:05?\"")],
    show_context: Annotated[bool, typer.Option("--show-context", help="Print the context sent to the LLM first.")] = False,
    cleanup: Cleanup = None, base_url: BaseUrl = None, n_ctx: NCtx = None, max_tokens: MaxTokens = 256,
    offline: Offline = False, device: Device = None, model: Models = None, fps: Fps = 1.0,
    stages: Stages = None, scene: Scene = None,
):
    """Answer one QUESTION about VIDEO from its perceived context; the answer streams to stdout."""
    with one_line_errors():
        settings = perception_settings(offline, device, model, fps, stages, scene)
        session = start_session(video, settings, cleanup, base_url, n_ctx, max_tokens)
        show = (lambda text: print_context(text, "context sent to the LLM:")) if show_context else None
        session.ask(question, on_token=print_piece, on_context=show)
    console.print()


@app.command()
def chat(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    cleanup: Cleanup = None, base_url: BaseUrl = None, n_ctx: NCtx = None, max_tokens: MaxTokens = 256,
    offline: Offline = False, device: Device = None, model: Models = None, fps: Fps = 1.0,
    stages: Stages = None, scene: Scene = None,
):
    """Chat about VIDEO in the terminal: /context, /reset, /quit (or Ctrl-D); Ctrl-C stops an answer."""
    from perceive.models import ModelUnavailable

    with one_line_errors():
        settings = perception_settings(offline, device, model, fps, stages, scene)
        session = start_session(video, settings, cleanup, base_url, n_ctx, max_tokens)
    console.print("[dim]Ask about the video. /context shows the context, /reset forgets the conversation, "
                  "/quit or Ctrl-D exits, Ctrl-C stops an answer.[/]")
    while True:
        try:
            line = console.input("[bold cyan]you>[/] ").strip()
        except EOFError:
            console.print()
            return
        except KeyboardInterrupt:
            console.print("\n[dim](/quit or Ctrl-D exits)[/]")
            continue
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            return
        if line == "/reset":
            session.reset()
            console.print("[dim]conversation forgotten[/]")
        elif line == "/context":
            if session.last_context is None:
                print_context(session.context, "video context:")
            else:
                print_context(session.last_context, "context sent with the last question:")
        elif line.startswith("/"):
            console.print(f"[yellow]unknown command {line}[/] (/context, /reset, /quit)", highlight=False)
        else:
            console.print("[bold green]videochat>[/] ", end="")
            try:
                session.ask(line, on_token=print_piece)
                console.print()
            except KeyboardInterrupt:
                console.print(" [yellow](stopped)[/]")
            except (ModelUnavailable, ValueError) as exc:
                err_console.print(f"\n[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)


@app.command()
def context(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    cleanup: Cleanup = None,
    offline: Offline = False, device: Device = None, model: Models = None, fps: Fps = 1.0,
    stages: Stages = None, scene: Scene = None,
):
    """Print the timestamped textual context that the LLM sees for VIDEO."""
    with one_line_errors():
        settings = perception_settings(offline, device, model, fps, stages, scene)
        _, text = video_context(video, settings, cleanup)
    sys.stdout.write(text + "\n")


@app.command()
def textualize(
    paths: Annotated[list[str], typer.Argument(help="Video files, folders (searched recursively) or path lists (@list.txt or any .txt file).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file: one record per video is appended; rerun to resume.")],
    engine: Annotated[str, typer.Option("--engine", help="local (process pool on this machine) or ray.")] = "local",
    workers: Annotated[Optional[int], typer.Option("--workers", "-j", help="Worker processes / Ray actors, each with its own models (default: one per core; Ray with GPUs: one per GPU).")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="Ray cluster to join (default: $RAY_ADDRESS, else a local Ray).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and overwrite the perception cache.")] = False,
    offline: Offline = False, device: Device = None, model: Models = None, fps: Fps = 1.0,
    stages: Stages = None, scene: Scene = None,
):
    """Turn many videos into one JSON line each (observations + textual context); safe to kill and rerun."""
    from chat.batch import textualize_batch

    with one_line_errors():
        settings = perception_settings(offline, device, model, fps, stages, scene)
        summary = textualize_batch(paths, out, settings, engine=engine, workers=workers, ray_address=ray_address,
                                   use_cache=not no_cache, console=err_console)
    console.print(summary.table())
    console.print(f"records in {out}", highlight=False)


def main() -> None:  # pragma: no cover - entry point for python -m chat.cli
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
