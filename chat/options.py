"""The command line's shared options, declared once, and the decorator that adds them to a command.

A command decorated with ``@options("perception", "cleanup", "llm", "verbose")`` gets
those option groups appended to its parameters (so ``--help`` lists them) and
receives them as one :class:`Options` object, ``opts``, which builds the
front door's settings. Building happens in the command, inside its error
handling, so a bad ``--stages`` or ``--model`` is one ``error:`` line.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, fields
from typing import Annotated, Optional

import typer

Offline = Annotated[bool, typer.Option("--offline", help="Never touch the network; fail clearly if a model is missing (or VIDEOCHAT_OFFLINE=1).")]
Models = Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Override a model: ROLE=PATH_OR_ID, e.g. -m detector=./yolo.pt. Roles: asr asr_english detector ocr captioner action cleanup llm embedder.")]

GROUPS: dict[str, list[tuple[str, object, object]]] = {
    "report": [
        ("copy_video", Annotated[bool, typer.Option("--copy-video", help="Copy the video beside the HTML report (default: link it by a path relative to the report).")], False),
    ],
    "cleanup": [
        ("cleanup", Annotated[Optional[bool], typer.Option("--cleanup/--no-cleanup", help="Rewrite each second's tags into a sentence with the cleanup model (default: when that model is available).")], None),
    ],
    "llm": [
        ("base_url", Annotated[Optional[str], typer.Option("--base-url", help="Endpoint for -m llm=openai:MODEL (OpenAI-compatible; default $OPENAI_BASE_URL) or -m llm=ollama:MODEL.")], None),
        ("n_ctx", Annotated[Optional[int], typer.Option("--n-ctx", help="LLM context window in tokens (default: 4096 for GGUF files).")], None),
        ("max_tokens", Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")], 256),
        ("evidence", Annotated[Optional[bool], typer.Option("--evidence/--full-context", help="Give the LLM the few entries and facts that bear on each question (evidence first) or the whole fitted context (default: evidence first for windows under 8192 tokens).")], None),
    ],
    "verbose": [
        ("verbose", Annotated[bool, typer.Option("--verbose", "-v", help="Print every note in full (which model each skipped stage lacks and how to provide it) instead of one short line.")], False),
    ],
    "perception": [
        ("offline", Offline, False),
        ("device", Annotated[Optional[str], typer.Option("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available, else cpu).")], None),
        ("model", Models, None),
        ("profile", Annotated[Optional[str], typer.Option("--profile", help="Speed profile: default (full quality) or fast (CPU: fewer captions, lower caption resolution, ASR beside the visual stages; changes the output). Flags given explicitly win.")], None),
        ("fps", Annotated[Optional[float], typer.Option("--fps", help="Keyframes sampled per second (default 1).")], None),
        ("batch_size", Annotated[Optional[int], typer.Option("--batch-size", help="Keyframes per batch through the stages (default: 8 on CPU, 64 on CUDA); never changes the output.")], None),
        ("stages", Annotated[Optional[str], typer.Option("--stages", help="Comma-separated stages to run: asr,detection,ocr,subtitles,shots,caption,dense_caption,action (default: all of these), and the optional tags (ImageNet labels per shot), colours (pixel colours of each track), clothing (ImageNet clothing on person tracks), setting (ImageNet place classes per shot).")], None),
        ("scene", Annotated[Optional[float], typer.Option("--scene", help="Also take keyframes at scene changes above this score (0-1), e.g. 0.3.")], None),
        ("translate", Annotated[Optional[bool], typer.Option("--translate/--no-translate", help="Add Whisper's English translation beside non-English speech (needs a multilingual ASR model; default: when the LLM is English-only, as the default SmolLM2 is).")], None),
        ("max_seconds", Annotated[Optional[float], typer.Option("--max-seconds", help="Perceive only the first this many seconds of the video (a long one: bounds the time; the context says so).")], None),
        ("subtitles", Annotated[Optional[str], typer.Option("--subtitles", help="A subtitle file (.srt, .vtt, .ass) to read with the video (default: NAME.srt, NAME.vtt, NAME.LANG.srt ... beside NAME.mp4, and the video's own text subtitle streams).")], None),
        ("ocr_interval", Annotated[Optional[float], typer.Option("--ocr-interval", help="Seconds between on-screen text reads: a whole changed keyframe at most, a text row on screen at least this often (default 2; a clock is read on every keyframe it moves).")], None),
    ],
}


@dataclass
class Options:
    """The shared option values of one command run (a group the command lacks keeps its defaults)."""

    offline: bool = False
    device: Optional[str] = None
    model: Optional[list[str]] = None
    profile: Optional[str] = None
    fps: Optional[float] = None
    batch_size: Optional[int] = None
    stages: Optional[str] = None
    scene: Optional[float] = None
    translate: Optional[bool] = None     # None: when the LLM declares English only (ask, chat, describe)
    max_seconds: Optional[float] = None
    ocr_interval: Optional[float] = None
    subtitles: Optional[str] = None
    cleanup: Optional[bool] = None
    base_url: Optional[str] = None
    n_ctx: Optional[int] = None
    max_tokens: int = 256
    copy_video: bool = False
    evidence: Optional[bool] = None
    verbose: bool = False

    def settings(self):
        """The :class:`~perceive.pipeline.PerceptionSettings` these options ask for (``--offline`` takes effect now).

        The ``--profile``'s settings come first; every flag given explicitly overrides them.
        """
        from chat.api import perception_settings
        from perceive.models import parse_overrides, set_offline

        if self.offline:
            set_offline(True)
        chosen = tuple(s.strip() for s in self.stages.split(",") if s.strip()) if self.stages else None   # None: all
        return perception_settings(profile=self.profile, fps=self.fps, stages=chosen, device=self.device,
                                   models=parse_overrides(self.model), scene=self.scene, batch_size=self.batch_size,
                                   translate=bool(self.translate), max_seconds=self.max_seconds,
                                   ocr_interval=self.ocr_interval, subtitles=self.subtitles)

    def llm_settings(self):
        """The :class:`~chat.llm.LLMSettings` these options ask for."""
        from chat.llm import LLMSettings

        return LLMSettings(n_ctx=self.n_ctx, max_tokens=self.max_tokens, base_url=self.base_url)


def options(*groups: str):
    """Append the option ``groups`` to a command whose last parameter is ``opts``; it receives an :class:`Options`."""
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
             for group in ("report", "cleanup", "llm", "verbose", "perception") if group in groups for name, kind, default in GROUPS[group]]
    names = {p.name for p in added}
    assert names <= {f.name for f in fields(Options)}

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "opts"]

        @functools.wraps(command)
        def run(*args, **kwargs):
            opts = Options(**{name: kwargs.pop(name) for name in names})
            return command(*args, opts=opts, **kwargs)

        run.__signature__ = signature.replace(parameters=own + added)
        run.__annotations__ = {p.name: p.annotation for p in own + added}
        return run

    return decorate
