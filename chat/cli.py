"""The ``videochat`` command line: perceive, context, ask, chat, report, textualize, index, search, mcp, models."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from chat.options import Models, Offline, Options, options
from perceive.callbacks import PipelineCallbacks

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



def shown(value) -> str:
    """``value`` as text safe to print and free of rich markup: a file name that is not UTF-8 gets U+FFFD
    for its undecodable bytes (see :func:`perceive.records.printable`)."""
    from rich.markup import escape

    from perceive.records import printable

    return escape(printable(str(value)))


@contextmanager
def one_line_errors():
    """Turn the errors a user can cause into one red line and exit status 1, without a traceback."""
    from perceive.models import ModelUnavailable
    from perceive.video import VideoError

    try:
        yield
    except (VideoError, ModelUnavailable, ValueError, FileNotFoundError) as exc:
        err_console.print(f"[bold red]error:[/] {shown(exc)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        raise typer.Exit(130)


class Terminal(PipelineCallbacks):
    """The front door's callbacks for a terminal: a progress bar on stderr, notes in yellow, info dimmed.

    The bar appears with the first progress report (an LLM that fails to load
    fails before it) and goes away on :meth:`close`.
    """

    def __init__(self, video: Path):
        self.video, self.bar, self.task = shown(video.name), None, None

    def on_progress(self, label: str, done: float, total: float) -> None:
        if label == "done":   # perception is over: nothing may draw over the answer
            self.close()
            return
        if self.bar is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[pos]}"),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err_console,
                                transient=True)
            self.task = self.bar.add_task(f"perceiving {self.video}", total=1.0, pos="")
            self.bar.start()
        self.bar.update(self.task, description=f"{self.video}: {label}", completed=done / total if total else 0,
                        pos=f"{done:.0f}/{total:.0f}s")

    def on_note(self, text: str, kind: str = "note") -> None:
        self.close()
        if kind == "note":
            err_console.print(f"[yellow]note:[/] {shown(text)}", highlight=False, soft_wrap=True)
        else:
            err_console.print(f"[dim]{shown(text)}[/]", highlight=False, soft_wrap=True)

    def close(self) -> None:
        """Take the progress bar off the screen."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


@contextmanager
def terminal(video: Path):
    """:class:`Terminal` callbacks for perceiving ``video``; the bar is gone when the block ends."""
    hooks = Terminal(video)
    try:
        yield hooks
    finally:
        hooks.close()


@app.command()
@options("perception")
def perceive(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the observations as JSON.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and overwrite the perception cache.")] = False,
    *, opts: Options,
):
    """Run the perception models on VIDEO and print what each stage saw."""
    from chat import api

    with one_line_errors(), terminal(video) as hooks:
        result = api.perceive(video, opts.settings(), use_cache=not no_cache, callbacks=hooks)
    if json_out:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    from chat.render import print_perception

    print_perception(console, result)


@app.command()
def models(
    action: Annotated[Optional[str], typer.Argument(help="'pull': download every default model into the cache, so later runs work offline.")] = None,
    make_tiny: Annotated[Optional[Path], typer.Option("--make-tiny", help="Build tiny random-weight models for every role into this folder (offline demos and tests).")] = None,
    offline: Offline = False, model: Models = None,
):
    """Show which model each role resolves to (and whether its weights are real) and, for a role with several
    defaults, each default and whether it is here; or download them (pull), or build tiny ones."""
    from rich.table import Table

    from perceive.models import (ROLES, ModelUnavailable, configured_value, default_states, parse_overrides, resolve,
                                 set_offline)

    if offline:
        set_offline(True)
    if action is not None:
        if action != "pull":
            err_console.print(f"[bold red]error:[/] unknown action '{action}' (the one action is: pull)", highlight=False)
            raise typer.Exit(1)
        with one_line_errors():
            pull_models()
        return
    if make_tiny:
        from perceive.testing import make_tiny_models

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
    for role, spec in ROLES.items():
        if len(spec.defaults) > 1 and not configured_value(role, overrides):
            states = " > ".join(f"{value} ({state})" for value, state in default_states(role))
            console.print(f"{role} defaults, first usable wins: {states}", highlight=False, soft_wrap=True)


def pull_models(hub=None) -> None:
    """Download every default model that is not available here, with sizes and a progress bar."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from perceive.pull import check_online, human, plan, pull

    check_online()
    items, ready = plan(hub)
    for line in ready:
        console.print(line, highlight=False)
    for item in items:
        console.print(f"{item.role}: {item.source} ({human(item.size)}, {len(item.files)} files)", highlight=False)
    if not items:
        console.print("every default model is available offline", highlight=False)
        return
    total = sum(item.size for item in items)
    with Progress("[bold]downloading", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("models", total=total or None)
        pull(items, hub, progress=lambda n: bar.update(task, advance=n))
    console.print(f"downloaded {human(total)}; later runs work offline (--offline)", highlight=False)


def chat_options(opts: Options, hooks: Terminal) -> dict:
    """The front door's chat keywords from the command's options."""
    return dict(cleanup=opts.cleanup, llm_settings=opts.llm_settings(), callbacks=hooks, evidence=opts.evidence,
                verbose=opts.verbose, auto_translate=opts.translate is None)


def print_piece(piece: str) -> None:
    """Print one streamed piece of an answer as it arrives."""
    console.print(piece, end="", markup=False, highlight=False, soft_wrap=True)


def print_context(text: str, title: str) -> None:
    """Print a context block, dimmed, under a title."""
    console.print(f"[bold]{title}[/]", highlight=False)
    console.print(text, markup=False, highlight=False, soft_wrap=True, style="dim")


@app.command()
@options("perception", "cleanup", "llm", "report", "verbose")
def ask(
    video: Annotated[str, typer.Argument(help="Video file, http(s) URL (fetched once into the cache), or a library: its file (videochat index) or a folder of videos.")],
    question: Annotated[str, typer.Argument(help="The question, e.g. \"What happens at 0:05?\"")],
    show_context: Annotated[bool, typer.Option("--show-context", help="Print the context sent to the LLM first.")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", help="Also write an HTML timeline report with the question and answer.")] = None,
    *, opts: Options,
):
    """Answer one QUESTION about VIDEO (or across a library's videos, citing (video, m:ss)); the answer streams to stdout."""
    from chat import api

    show = (lambda text: print_context(text, "context sent to the LLM:")) if show_context else None
    with one_line_errors(), terminal(Path(video)) as hooks:
        if api.is_library(video):
            api.ask_library(video, question, opts.settings(), on_token=print_piece, cleanup=opts.cleanup,
                            llm_settings=opts.llm_settings(), callbacks=hooks, evidence=opts.evidence)
        else:
            api.ask(video, question, opts.settings(), on_token=print_piece, on_context=show, report=report,
                    copy_video=opts.copy_video, **chat_options(opts, hooks))
    console.print()
    if report:
        err_console.print(f"report written to {report}", highlight=False, soft_wrap=True)


@app.command()
@options("perception", "cleanup", "llm", "verbose")
def describe(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    *, opts: Options,
):
    """Describe VIDEO in a paragraph (the VideoChat-Text description prompt); streams to stdout."""
    from chat import api

    with one_line_errors(), terminal(video) as hooks:
        api.describe(video, opts.settings(), on_token=print_piece, **chat_options(opts, hooks))
    console.print()


@app.command()
@options("perception", "cleanup", "llm", "report", "verbose")
def chat(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    *, opts: Options,
):
    """Chat about VIDEO in the terminal: /context, /report [FILE], /reset, /quit (or Ctrl-D); Ctrl-C stops an answer."""
    from chat import api
    from perceive.models import ModelUnavailable

    with one_line_errors(), terminal(video) as hooks:
        settings = opts.settings()
        session = api.open_chat(video, settings, **chat_options(opts, hooks))
    turns: list[tuple[str, str]] = []
    console.print("[dim]Ask about the video. /context shows the context, /report [FILE] writes an HTML timeline "
                  "report with the answers so far, /reset forgets the conversation, /quit or Ctrl-D exits, "
                  "Ctrl-C stops an answer.[/]")
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
                print_context(session.context.render(), "video context:")
            else:
                print_context(session.last_text, "context sent with the last question:")
        elif line == "/report" or line.startswith("/report "):
            target = Path(line[len("/report"):].strip() or f"{video.stem}.report.html")
            try:
                api.report_chat(session, target, turns, settings, copy_video=opts.copy_video)
                err_console.print(f"report written to {target}", highlight=False, soft_wrap=True)
            except ValueError as exc:   # the chat goes on
                err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        elif line.startswith("/"):
            console.print(f"[yellow]unknown command {line}[/] (/context, /report, /reset, /quit)", highlight=False)
        else:
            console.print("[bold green]videochat>[/] ", end="")
            try:
                turns.append((line, session.ask(line, on_token=print_piece)))
                console.print()
            except KeyboardInterrupt:
                console.print(" [yellow](stopped)[/]")
            except (ModelUnavailable, ValueError) as exc:
                err_console.print(f"\n[bold red]error:[/] {shown(exc)}", highlight=False, soft_wrap=True)


@app.command()
@options("perception", "cleanup", "verbose")
def context(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    formats: Annotated[Optional[str], typer.Option("--format", "-f", help="Write files instead of printing: txt, json (the typed records), srt, vtt (speech and on-screen text), md (notes), comma-separated, or all.")] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Folder for the --format files, named VIDEO_NAME.FORMAT.")] = Path("."),
    *, opts: Options,
):
    """Print the timestamped textual context that the LLM sees for VIDEO (or write it in whisper's formats)."""
    from chat import api

    if formats is not None:
        from library.exports import formats_of

        with one_line_errors(), terminal(video) as hooks:
            written = api.export_context(video, formats_of(formats), output_dir, opts.settings(), cleanup=opts.cleanup,
                                         callbacks=hooks, verbose=opts.verbose)
        for path in written:
            console.print(shown(path), highlight=False, soft_wrap=True)
        return
    with one_line_errors(), terminal(video) as hooks:
        text = api.build_context(video, opts.settings(), cleanup=opts.cleanup, callbacks=hooks,
                                 verbose=opts.verbose).render()
    sys.stdout.write(text + "\n")


@app.command()
@options("perception", "cleanup", "report")
def report(
    video: Annotated[Path, typer.Argument(help="Video file.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="HTML file to write (default: VIDEO_NAME.report.html here).")] = None,
    open_it: Annotated[bool, typer.Option("--open", help="Open the report in the web browser.")] = False,
    *, opts: Options,
):
    """Write an HTML timeline report of what each model saw in VIDEO (same perception and context as ask)."""
    from chat import api

    target = output or Path(f"{video.stem}.report.html")
    with one_line_errors(), terminal(video) as hooks:
        api.report(video, target, opts.settings(), cleanup=opts.cleanup, copy_video=opts.copy_video, callbacks=hooks)
    console.print(f"report written to {target}", highlight=False, soft_wrap=True)
    if open_it:
        from chat.reports import open_report

        open_report(target)


@app.command()
@options("perception", "cleanup")
def textualize(
    paths: Annotated[list[str], typer.Argument(help="Video files, folders (searched recursively) or path lists (@list.txt or any .txt file).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file: one record per video is appended; rerun to resume.")],
    engine: Annotated[str, typer.Option("--engine", help="local (process pool on this machine) or ray.")] = "local",
    workers: Annotated[Optional[int], typer.Option("--workers", "-j", help="Worker processes / Ray actors, each with its own models (default: one per core; Ray with GPUs: one per GPU).")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="Ray cluster to join (default: $RAY_ADDRESS, else a local Ray).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and overwrite the perception cache.")] = False,
    report_dir: Annotated[Optional[Path], typer.Option("--report-dir", help="Also write one HTML timeline report per video here, plus index.html.")] = None,
    *, opts: Options,
):
    """Turn many videos into one JSON line each (observations + textual context); safe to kill and rerun."""
    from chat import api

    with one_line_errors():
        summary = api.textualize(paths, out, opts.settings(), cleanup=opts.cleanup, use_cache=not no_cache, engine=engine,
                                 workers=workers, ray_address=ray_address, console=err_console, report_dir=report_dir)
    console.print(summary.table())
    console.print(f"records in {shown(out)}", highlight=False)
    if report_dir:
        console.print(f"reports in {shown(report_dir / 'index.html')}", highlight=False)


@app.command()
@options("perception", "cleanup")
def index(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Video files, folders (searched recursively) or path lists.")] = None,
    db: Annotated[Path, typer.Option("--db", help="The library file (SQLite), made when missing.")] = Path("videochat.db"),
    from_jsonl: Annotated[Optional[Path], typer.Option("--from-jsonl", help="Also index the records of a textualize JSONL file (e.g. a --engine ray run).")] = None,
    *, opts: Options,
):
    """Index videos into one library file: new or changed videos are perceived (cache first); safe to kill and rerun."""
    from chat import api

    def progress(path: str, status: str) -> None:
        err_console.print(f"[dim]{shown(Path(path).name)}: {shown(status)}[/]", highlight=False, soft_wrap=True)

    if not paths and from_jsonl is None:
        err_console.print("[bold red]error:[/] name videos or folders to index, or --from-jsonl FILE", highlight=False)
        raise typer.Exit(1)
    with one_line_errors():
        summary = api.index(paths or [], db, opts.settings(), cleanup=opts.cleanup, from_jsonl=from_jsonl,
                            callbacks=Terminal(db), on_video=progress)
    for path, why in summary.failed:
        err_console.print(f"[yellow]failed:[/] {shown(path)}: {shown(why)}", highlight=False, soft_wrap=True)
    console.print(f"{summary.line()}; library {shown(db)}", highlight=False, soft_wrap=True)


@app.command()
@options("perception")
def search(
    db: Annotated[Path, typer.Argument(help="The library file (videochat index).")],
    query: Annotated[str, typer.Argument(help="Words or a question, e.g. \"central bank\".")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many moments.")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="Print the hits as JSON lines.")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", help="Also write one HTML page of the hits: thumbnails, links that seek each video's report.")] = None,
    *, opts: Options,
):
    """The top moments of a library for QUERY: video, m:ss-m:ss, kind, line, score (words and meaning ranked together)."""
    from chat import api

    with one_line_errors():
        settings = opts.settings()
        hits = api.search(db, query, settings, limit=limit)
        if report:
            api.search_report(db, query, report, settings, hits=hits)
    for hit in hits:
        if json_out:
            sys.stdout.write(hit.model_dump_json() + "\n")
        else:
            console.print(f"{shown(hit.name)}  {hit.span()}  {hit.kind}  {shown(hit.line)}  {hit.score:.4f}",
                          highlight=False, soft_wrap=True)
    if not hits and not json_out:
        err_console.print("no moment matches", highlight=False)
    if report:
        err_console.print(f"search page written to {shown(report)}", highlight=False, soft_wrap=True)


@app.command()
def mcp():
    """Serve videochat to other programs over the Model Context Protocol (stdio): tools context, ask, search, report."""
    from chat.mcp_server import serve

    serve()


def main() -> None:  # pragma: no cover - entry point for python -m chat.cli
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
