"""``python -m bench.whisper``: the whole offline stack against plain faster-whisper on the same clip.

Both run as whole processes, one after the other in the same run (``--repeat``
alternates them), each with an empty perception cache:

* *whisper*: faster-whisper ``base`` as its own README shows it (int8, ``--threads``
  CPU threads, Silero VAD, word timestamps, its default beam of 5), on the model
  the registry's ``asr`` role resolves to;
* *stack*: ``videochat context CLIP --offline`` with the default stages.

Printed: wall and CPU seconds and peak RSS of each (medians), and the ratio
stack / whisper, the target being at most 1.0. CPU seconds (every thread, user
and system) move less than wall time on a busy machine.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from bench.runner import CLIPS, ROOT, child_env

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

MEASURED = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(json.dumps({'wall_s': time.perf_counter() - t, 'cpu_s': u.ru_utime + u.ru_stime, "
            "'rss_mb': u.ru_maxrss / 1024}))")
"""Run a command; print its wall and CPU seconds and peak RSS (its own process tree's)."""

PLAIN = ("import sys; from faster_whisper import WhisperModel; "
         "model = WhisperModel(sys.argv[1], device='cpu', compute_type='int8', cpu_threads=int(sys.argv[3])); "
         "segments, _ = model.transcribe(sys.argv[2], vad_filter=True, word_timestamps=True); "
         "print(sum(len(s.words) for s in segments), 'words')")
"""Plain faster-whisper: load the model, transcribe the clip, read every segment."""


def measure(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall, CPU seconds and peak RSS (MiB) of ``command`` run as a whole process."""
    done = subprocess.run([sys.executable, "-c", MEASURED, *command], env=env, cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def whisper_command(video: Path, threads: int) -> list[str]:
    """Plain faster-whisper on ``video`` with the registry's ASR model."""
    from perceive.models import resolve

    return [sys.executable, "-c", PLAIN, resolve("asr").location, str(video), str(threads)]


def stack_command(video: Path) -> list[str]:
    """The whole offline stack on ``video``: ``videochat context`` with the default stages."""
    return [sys.executable, "-m", "chat.cli", "context", str(video), "--offline"]


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


@app.command()
def main(
    clip: Annotated[str, typer.Argument(help="A clip path, or a name in ../shared/clips.")] = "videogrep_manifesto.mp4",
    threads: Annotated[int, typer.Option("--threads", help="faster-whisper's CPU threads.")] = 2,
    repeat: Annotated[int, typer.Option("--repeat", help="Runs of each, alternated; medians are shown.")] = 1,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write every run as JSON to this file.")] = None,
):
    """Time the whole offline stack against plain faster-whisper on one clip; print the ratio."""
    from perceive.models import set_offline

    set_offline(True)
    video = Path(clip) if Path(clip).is_file() else CLIPS / clip
    if not video.is_file():
        raise typer.BadParameter(f"{clip}: no such clip", param_hint="CLIP")
    console = Console()
    runs: dict[str, list[dict[str, float]]] = {"whisper": [], "stack": []}
    for _ in range(repeat):
        for name in runs:
            with tempfile.TemporaryDirectory() as tmp:   # an empty perception cache each time
                env = child_env(Path(tmp) / "cache", offline=True)
                command = whisper_command(video, threads) if name == "whisper" else stack_command(video)
                with console.status(f"{name} on {video.name}"):
                    runs[name].append(measure(command, env))
    table = Table("run", "wall s", "cpu s", "peak RSS MB", title=f"{video.name}: the stack against faster-whisper")
    for name, measured in runs.items():
        table.add_row(name, f"{median(measured, 'wall_s'):.1f}", f"{median(measured, 'cpu_s'):.1f}",
                      f"{median(measured, 'rss_mb'):.0f}")
    wall = median(runs["stack"], "wall_s") / median(runs["whisper"], "wall_s")
    cpu = median(runs["stack"], "cpu_s") / median(runs["whisper"], "cpu_s")
    table.add_row("stack / whisper", f"{wall:.2f} ({'ok' if wall <= 1.0 else 'MISSED'})", f"{cpu:.2f}", "")
    console.print(table)
    if json_out:
        json_out.write_text(json.dumps({"clip": video.name, "threads": threads, "runs": runs,
                                        "ratio_wall": wall, "ratio_cpu": cpu}, indent=1))


if __name__ == "__main__":
    app()
