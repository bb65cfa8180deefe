"""The ``videochat`` command line: perceive, context, ask, chat, textualize, models."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

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
        console.print(f"use them with: " + " ".join(f"-m {r}={p}" for r, p in paths.items()), highlight=False)
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


def main() -> None:  # pragma: no cover - entry point for python -m chat.cli
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
