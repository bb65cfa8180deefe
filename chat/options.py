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
Models = Annotated[Optional[list[str]], typer.Option("--model", "-m", help="Override a model: ROLE=PATH_OR_ID, e.g. -m detector=./yolo.pt. Roles: asr detector ocr captioner action cleanup llm embedder.")]

GROUPS: dict[str, list[tuple[str, object, object]]] = {
    "cleanup": [
        ("cleanup", Annotated[Optional[bool], typer.Option("--cleanup/--no-cleanup", help="Rewrite each second's tags into a sentence with the cleanup model (default: when that model is available).")], None),
    ],
    "llm": [
        ("base_url", Annotated[Optional[str], typer.Option("--base-url", help="Endpoint for -m llm=openai:MODEL (OpenAI-compatible; default $OPENAI_BASE_URL) or -m llm=ollama:MODEL.")], None),
        ("n_ctx", Annotated[Optional[int], typer.Option("--n-ctx", help="LLM context window in tokens (default: 4096 for GGUF files).")], None),
        ("max_tokens", Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")], 256),
    ],
    "verbose": [
        ("verbose", Annotated[bool, typer.Option("--verbose", "-v", help="Print every note in full (which model each skipped stage lacks and how to provide it) instead of one short line.")], False),
    ],
    "perception": [
        ("offline", Offline, False),
        ("device", Annotated[Optional[str], typer.Option("--device", help="cpu, cuda, cuda:1 ... (default: cuda if available, else cpu).")], None),
        ("model", Models, None),
        ("fps", Annotated[float, typer.Option("--fps", help="Keyframes sampled per second.")], 1.0),
        ("stages", Annotated[Optional[str], typer.Option("--stages", help="Comma-separated stages to run: asr,detection,ocr,shots,caption,dense_caption,action (default: all).")], None),
        ("scene", Annotated[Optional[float], typer.Option("--scene", help="Also take keyframes at scene changes above this score (0-1), e.g. 0.3.")], None),
    ],
}


@dataclass
class Options:
    """The shared option values of one command run (a group the command lacks keeps its defaults)."""

    offline: bool = False
    device: Optional[str] = None
    model: Optional[list[str]] = None
    fps: float = 1.0
    stages: Optional[str] = None
    scene: Optional[float] = None
    cleanup: Optional[bool] = None
    base_url: Optional[str] = None
    n_ctx: Optional[int] = None
    max_tokens: int = 256
    verbose: bool = False

    def settings(self):
        """The :class:`~perceive.pipeline.PerceptionSettings` these options ask for (``--offline`` takes effect now)."""
        from perceive.models import STAGES, parse_overrides, set_offline
        from perceive.pipeline import PerceptionSettings

        if self.offline:
            set_offline(True)
        chosen = tuple(s.strip() for s in self.stages.split(",") if s.strip()) if self.stages else tuple(STAGES)
        return PerceptionSettings(fps=self.fps, stages=chosen, device=self.device,
                                  models=parse_overrides(self.model), scene_threshold=self.scene)

    def llm_settings(self):
        """The :class:`~chat.llm.LLMSettings` these options ask for."""
        from chat.llm import LLMSettings

        return LLMSettings(n_ctx=self.n_ctx, max_tokens=self.max_tokens, base_url=self.base_url)


def options(*groups: str):
    """Append the option ``groups`` to a command whose last parameter is ``opts``; it receives an :class:`Options`."""
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
             for group in ("cleanup", "llm", "verbose", "perception") if group in groups for name, kind, default in GROUPS[group]]
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
