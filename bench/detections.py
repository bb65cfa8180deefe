"""``python -m bench.detections``: false and missed objects of the detector per shared clip, before and after the
track filter (:class:`perceive.detect.TrackGate`).

Each clip of ``bench/expected_objects.toml`` (COCO classes written by hand from
MANIFEST.tsv) is perceived with the detection stage alone and the filter off
(cached like any perception); the filter is then replayed on those detections,
exactly as the stage applies it (the tracker runs before it and does not see it).
A detected class the clip does not show is a false object, a class it shows that
is never detected a missed one; ``unsure`` classes count as neither.

``--sweep`` prints, per class, the best score of each of its tracks that counts
as false and as true: where a class's minimum score can go
(``perceive/data/detection_filter.toml``).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from bench.quality import SHARED_DETECTOR
from bench.runner import CLIPS
from perceive.detect import TrackGate, TrackRule, default_rule
from perceive.records import Observation, Perception

EXPECTED = Path(__file__).resolve().parent / "expected_objects.toml"
UNFILTERED = {"min_track": 1, "class_scores": {}}
"""Detection stage options that keep every box (the filter off)."""


@dataclass(frozen=True)
class Expected:
    """The COCO classes one clip shows (``present``) and may show (``unsure``)."""

    present: frozenset[str]
    unsure: frozenset[str]


def expected_objects(path: Path = EXPECTED) -> dict[str, Expected]:
    """Clip file name -> its expected objects."""
    clips = tomllib.loads(path.read_text(encoding="utf-8"))["clips"]
    return {name: Expected(frozenset(c["present"]), frozenset(c["unsure"])) for name, c in clips.items()}


def replay(detections: list[Observation], rule: TrackRule) -> list[Observation]:
    """The detections a :class:`TrackGate` with ``rule`` lets through, fed in time order."""
    gate = TrackGate(rule)
    return [kept for o in sorted(detections, key=lambda o: o.start) for kept in gate.add(o)]


@dataclass(frozen=True)
class ClipScore:
    """One clip's false and missed classes."""

    false: tuple[str, ...]
    missed: tuple[str, ...]


def score(detections: list[Observation], expected: Expected) -> ClipScore:
    """False classes (detected, not shown) and missed ones (shown, never detected)."""
    seen = {o.label for o in detections if o.label}
    return ClipScore(tuple(sorted(seen - expected.present - expected.unsure)), tuple(sorted(expected.present - seen)))


def unfiltered(clip: Path, detector: str) -> list[Observation]:
    """The clip's detections with the filter off (from the perception cache when it is there)."""
    from chat.api import perceive
    from perceive.pipeline import PerceptionSettings

    settings = PerceptionSettings(stages=("detection",), models={"detector": detector},
                                  stage_options={"detection": UNFILTERED})
    return perceive(clip, settings).by_stage("detection")


def table(rows: list[tuple[str, ClipScore, ClipScore]]) -> str:
    """The before/after table in Markdown, with totals."""
    def names(items: tuple[str, ...]) -> str:
        return f"{len(items)}" + (f" ({', '.join(items)})" if items else "")

    lines = ["| clip | false before | false after | missed before | missed after |", "|---|---|---|---|---|"]
    for name, before, after in rows:
        if before.false or before.missed or after.false or after.missed:
            lines.append(f"| {name} | {names(before.false)} | {names(after.false)} | {names(before.missed)} | "
                         f"{names(after.missed)} |")
    total = [sum(len(getattr(r[i], k)) for r in rows) for i, k in ((1, "false"), (2, "false"), (1, "missed"),
                                                                    (2, "missed"))]
    lines.append(f"| **all {len(rows)} clips** | **{total[0]}** | **{total[1]}** | **{total[2]}** | **{total[3]}** |")
    return "\n".join(lines)


def sweep(runs: dict[str, list[Observation]], expected: dict[str, Expected]) -> str:
    """Per class: the best score of each track, split into false (class not shown) and true tracks."""
    found: dict[str, tuple[list[float], list[float]]] = {}
    for name, detections in runs.items():
        best: dict[tuple, float] = {}
        for o in detections:
            key = (o.label, o.track_id if o.track_id is not None else f"once {o.start}")
            best[key] = max(best.get(key, 0.0), o.score or 0.0)
        for (label, _), top in best.items():
            false, true = found.setdefault(label, ([], []))
            if label in expected[name].present:
                true.append(top)
            elif label not in expected[name].unsure:
                false.append(top)
    lines = []
    for label, (false, true) in sorted(found.items()):
        lines.append(f"{label}: false {sorted(false, reverse=True)[:8]} true {sorted(true)[:8]}")
    return "\n".join(lines)


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    detector: Annotated[Path, typer.Option("--detector", help="Detector model (default: ../shared/models' YOLO11n INT8 TFLite).")] = SHARED_DETECTOR,
    sweep_scores: Annotated[bool, typer.Option("--sweep", help="Also print each class's best track scores, false and true.")] = False,
    clips: Annotated[Optional[str], typer.Option("--clips", help="Comma-separated clip names (default: all in expected_objects.toml).")] = None,
):
    """Print the before/after table of false and missed objects per clip."""
    from perceive.models import set_offline

    set_offline()
    expected = expected_objects()
    names = [c.strip() for c in clips.split(",")] if clips else sorted(expected)
    runs = {name: unfiltered(CLIPS / name, str(detector)) for name in names if (CLIPS / name).exists()}
    rule = default_rule()
    rows = [(name, score(d, expected[name]), score(replay(d, rule), expected[name])) for name, d in runs.items()]
    print(f"Filter: min_track {rule.min_track}, class scores {rule.class_scores}")
    print(table(rows))
    if sweep_scores:
        print(sweep(runs, expected))


if __name__ == "__main__":
    app()
