"""Facts about the whole timeline, computed deterministically from the observations.

A small LLM cannot count over a hundred near-identical ``Second`` lines, nor
notice that a line never appears. These pure functions state it for it, each
fact as a typed record with one line of text:

* :func:`presence_facts`: per detected class, the spans it is visible in, the
  number of separate appearances (absent for more than ``gap`` seconds in
  between) and the most seen at once -- "person visible 0:08-0:18, 0:24-0:42:
  2 separate appearances, never more than 1 at once";
* :func:`shot_facts`: the cuts of the ``shots`` stage -- "one continuous shot
  (no cut); the picture stays the same throughout" (a still image) or "5 shots,
  cuts at about 0.5, 2.5, 4.5, 6.5 s";
* :func:`unknown_facts`: what could not be seen because a stage did not run --
  "No image captions: clothes, colours and setting are unknown".
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Literal

from pydantic import BaseModel

from perceive.records import Observation, Perception
from prompting.format import clock, one_line, secs

FactKind = Literal["presence", "shots", "unknown"]


class Fact(BaseModel):
    """One fact about the whole video and its one-line text."""

    kind: FactKind
    text: str


class PresenceFact(Fact):
    """When one object class is visible, in how many separate appearances, and how many at once."""

    kind: FactKind = "presence"
    label: str
    spans: list[tuple[float, float]]
    max_count: int

    @property
    def appearances(self) -> int:
        return len(self.spans)


class ShotFact(Fact):
    """The cuts between shots (none: one continuous shot)."""

    kind: FactKind = "shots"
    cuts: list[float]
    still: bool = False   # one shot whose picture never changed (the ``shots`` stage's ``still shot``)


class UnknownFact(Fact):
    """A stage that did not run, and what is therefore unknown."""

    kind: FactKind = "unknown"
    stage: str


def span_text(start: float, end: float, inward: bool = False) -> str:
    """``m:ss-m:ss`` (start rounded down, end up; ``inward``: the other way), or one ``m:ss``."""
    a, b = (clock(start, up=True), clock(end)) if inward else (clock(start), clock(end, up=True))
    return a if a == b else f"{a}-{b}"


def _spans(times: list[float], gap: float) -> list[tuple[float, float]]:
    """Group sorted times into spans, a new one after more than ``gap`` seconds without a time."""
    spans: list[list[float]] = []
    for t in times:
        if spans and t - spans[-1][1] <= gap:
            spans[-1][1] = t
        else:
            spans.append([t, t])
    return [(a, b) for a, b in spans]


def presence_facts(observations: list[Observation], gap: float = 2.0, interval: float = 1.0,
                   max_spans: int = 8) -> list[PresenceFact]:
    """Per detected class: visible spans, separate appearances and the most at once, most seen first.

    Two sightings belong to one appearance when at most ``gap`` seconds (and at
    least 1.5 keyframe ``interval``\\ s, so one missed keyframe does not split it)
    lie between them. At most ``max_spans`` spans are written out.
    """
    per_frame: dict[str, Counter] = defaultdict(Counter)
    for o in observations:
        if o.stage == "detection":
            per_frame[one_line(o.label or o.text)][o.start] += 1
    facts = []
    for label, counts in per_frame.items():
        spans = _spans(sorted(counts), max(gap, 1.5 * interval))
        most = max(counts.values())
        listed = _listed([span_text(a, b) for a, b in spans], max_spans)
        times = "1 appearance" if len(spans) == 1 else f"{len(spans)} separate appearances"
        at_once = "never more than 1 at once" if most == 1 else f"up to {most} at once"
        facts.append(PresenceFact(label=label, spans=spans, max_count=most,
                                  text=f"{label} visible {listed}: {times}, {at_once}"))
    return sorted(facts, key=lambda f: (-sum(b - a for a, b in f.spans), f.label))


def shot_facts(observations: list[Observation]) -> list[ShotFact]:
    """One fact from the ``shot`` observations (none when the shots stage did not run)."""
    shots = sorted((o for o in observations if o.stage == "shot"), key=lambda o: o.start)
    if not shots:
        return []
    cuts = [o.start for o in shots[1:]]
    if not cuts:
        shot = shots[0]
        still = shot.label == "still shot"
        text = "Shots: one continuous shot (no cut)"
        if shot.score is not None:   # two keyframes or more: whether the picture changed is known
            text += "; the picture stays the same throughout" if still else "; the picture changes within it"
        return [ShotFact(cuts=[], still=still, text=text)]
    listed = ", ".join(secs(c) for c in cuts)
    return [ShotFact(cuts=cuts, text=f"Shots: {len(shots)} shots, cuts at about {listed} s")]


def _listed(spans: list[str], most: int) -> str:
    return ", ".join(spans[:most]) + (f" and {len(spans) - most} more" if len(spans) > most else "")


# stage -> (the model role that shows it ran, what is unknown without it)
UNKNOWN_WITHOUT = {
    "caption": ("captioner", "No image captions: clothes, colours and setting are unknown"),
    "detection": ("detector", "No object detection: which objects are shown and how many people are unknown"),
    "ocr": ("ocr", "No text reading: on-screen text is unknown"),
    "action": ("action", "No action recognition: activities are unknown unless said or written on screen"),
    "asr": ("asr", "No speech recognition: what is said is unknown"),
}


LOOKS_WITHOUT_CAPTIONS = ("No image captions: how things look is known only from the Looks lines (pixel colours, "
                          "ImageNet clothing guesses) and ImageNet setting guesses")
LOOKS_STAGES = ("colour", "clothing", "setting")


def unknown_facts(perception: Perception) -> list[UnknownFact]:
    """What is unknown because a stage did not run (no model, or not selected), or the video has no audio.

    Without captions but with colours, clothing or setting (:data:`LOOKS_STAGES`), the caption fact says
    where what is known of the looks comes from instead of calling it unknown.
    """
    roles = {m.role for m in perception.models}
    seen = {o.stage for o in perception.observations}
    out = []
    for stage, (role, text) in UNKNOWN_WITHOUT.items():
        if stage == "asr" and not perception.video.has_audio:
            out.append(UnknownFact(stage=stage, text="No audio track: nothing could be heard"))
        elif stage == "caption" and role not in roles and stage not in seen and seen & set(LOOKS_STAGES):
            out.append(UnknownFact(stage=stage, text=LOOKS_WITHOUT_CAPTIONS))
        elif role not in roles and stage not in seen:
            out.append(UnknownFact(stage=stage, text=text))
    return out


def timeline_facts(perception: Perception, gap: float = 2.0) -> list[Fact]:
    """Every fact about ``perception``: presence, shots, then what is unknown.

    Speech and silence are not repeated here: the ``Speech:`` header line and the
    ``Speech``/``No speech`` entries (:mod:`prompting.speech`) already state them.
    """
    obs = perception.observations
    interval = 1.0 / perception.fps_sampled if perception.fps_sampled else 1.0
    return [*presence_facts(obs, gap, interval), *shot_facts(obs),
            *unknown_facts(perception)]
