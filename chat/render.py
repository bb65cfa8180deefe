"""Rich rendering of perception results for the terminal."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from perceive.records import Perception, printable


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def print_perception(console: Console, result: Perception) -> None:
    """Print the models used, the notes and every observation as a table."""
    v = result.video
    console.print(f"[bold]{escape(printable(v.path))}[/]: {v.duration:.1f} s, {v.width}x{v.height}, "
                  f"{'audio' if v.has_audio else 'no audio'}, sampled at {result.fps_sampled:g} fps", highlight=False)
    for m in result.models:
        colour = "green" if m.weights == "real" else "yellow"
        console.print(f"  model {m.role}: {m.name} [{colour}]({m.weights} weights)[/]", highlight=False)
    for note in result.notes:
        console.print(f"  [yellow]note:[/] {escape(printable(note.render()))}", highlight=False)
    table = Table("time", "stage", "what", "score")
    for o in result.observations:
        span = _clock(o.start) + (f"-{_clock(o.end)}" if o.end is not None else "")
        table.add_row(span, o.stage, o.text, "" if o.score is None else f"{o.score:.2f}")
    console.print(table)
