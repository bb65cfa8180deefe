"""Fuse a video's observations into the textual video context the LLM reads.

The context follows VideoChat-Text (its Table 1): a few header lines, then one
timeline in time order. Every line is one of these kinds::

    Video: clip.mp4
    Duration: 12.0 s (640x360, 25 fps video, with audio)
    Keyframes: sampled at 1 per second
    Model detector: yolo11n.pt (ultralytics), real weights
    Note: dense_caption ran on detected regions only
    Fact: person visible 0:03-0:10: 1 appearance, up to 2 at once
    Fact: No image captions: clothes, colours and setting are unknown
    Timeline (times in seconds from the start; speech spans in m:ss):
    Second 3: a man riding a bike; objects: 2 person (left, center), 1 car (right); person #3 enters.
    Seconds 4-6: objects: 1 person (center).
    Dense captions at second 5: person (left): "a man in a red shirt"; car (right): "a parked car"
    Action 0-4 s: riding a bike (0.82), skateboarding (0.05)
    Text 0:03-0:08 (top center): "Anyone know what this pocket is for?"
    Speech 0:03-0:06: "Watch this!"
    Note at second 7: scene change

``Second N`` lines cover the keyframes in ``[N, N+1)`` s: their caption(s)
(several separated by `` / ``), the detections of the frame that saw the most
of each label with a count and position words (left to right), and tracked
objects that enter or leave; consecutive seconds with the same text merge into
one ``Seconds A-B`` line. ``Fact`` lines (:mod:`prompting.facts`) sum up the
whole timeline and say what a stage that did not run leaves unknown (they
replace the notes of stages skipped for want of a model). ``Text`` lines are
on-screen text spans (``m:ss``) with a position word. ``Dense captions`` are region captions, about
every 5 s. Spans of ``Action`` windows are seconds; ``Speech`` spans are
``m:ss`` (start rounded down, end rounded up). At equal times the order is:
second, dense captions, action, text, speech, note.

Speech, on-screen text and region captions are untrusted text from the video, so they are
written as JSON string literals: quotes and backslashes are escaped, and any
line break (``\\n``, ``\\r``, ``\\u2028`` ...) is collapsed to a space, so a
transcript can never start a line of its own. Every other piece of model text
is collapsed to one line as well. A cleanup model (``Cleanup.clean``) may
rewrite the per-second lines' text; it never sees or changes their prefix.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from perceive.records import Box, Observation, Perception

TIMELINE_TITLE = "Timeline (times in seconds from the start; speech spans in m:ss):"
KIND_ORDER = {"second": 0, "dense": 1, "action": 2, "text": 3, "speech": 4, "note": 5, "summary": 6}


class Cleaner(Protocol):
    """Anything that rewrites a batch of tag lines (e.g. :class:`prompting.cleanup.Cleanup`)."""

    def clean(self, lines: list[str]) -> list[str]: ...


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, line breaks included, collapsed to one space."""
    return " ".join(str(text).split())


def quote(text: str) -> str:
    """``text`` as a one-line, double-quoted JSON string literal (quotes and backslashes escaped)."""
    return json.dumps(one_line(text), ensure_ascii=False)


def clock(seconds: float, up: bool = False) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a time in seconds, rounded down (or up)."""
    total = math.ceil(seconds) if up else math.floor(seconds)
    h, rest = divmod(max(0, total), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def secs(seconds: float) -> str:
    """A time in seconds as short text: ``3``, ``3.5``."""
    return f"{round(seconds, 1):g}"


@dataclass(frozen=True)
class Line:
    """One line of the timeline: when it starts (and ends), its kind and its full text."""

    start: float
    end: float | None
    kind: str
    text: str

    @property
    def body(self) -> str:
        """The text after the line's time prefix."""
        return self.text.split(": ", 1)[1] if ": " in self.text else self.text


@dataclass
class ObjectCount:
    """How many objects of one label a keyframe showed, and where."""

    label: str
    count: int
    positions: list[str] = field(default_factory=list)

    def describe(self) -> str:
        where = f" ({', '.join(self.positions)})" if self.positions else ""
        return f"{self.count} {self.label}{where}"


@dataclass
class Second:
    """What the keyframes of one second showed: captions, object counts, track events."""

    time: int
    captions: list[str] = field(default_factory=list)
    objects: list[ObjectCount] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def tags(self) -> str:
        """The line's text without its prefix: ``caption; objects: ...; events.``"""
        parts = [" / ".join(self.captions)] if self.captions else []
        if self.objects:
            parts.append("objects: " + ", ".join(o.describe() for o in self.objects))
        if self.events:
            parts.append(", ".join(self.events))
        return "; ".join(parts) + "."


def _position(o: Observation) -> str | None:
    return o.position or (o.box.position() if o.box else None)


def _label(o: Observation) -> str:
    return one_line(o.label or o.text)


def _objects(detections: list[Observation]) -> list[ObjectCount]:
    """Per label, the count and positions of the keyframe that saw the most of it."""
    frames: dict[float, list[Observation]] = defaultdict(list)
    for d in detections:
        frames[d.start].append(d)
    best: dict[str, list[Observation]] = {}
    for frame in frames.values():
        per_label: dict[str, list[Observation]] = defaultdict(list)
        for d in frame:
            per_label[_label(d)].append(d)
        for label, found in per_label.items():
            if len(found) > len(best.get(label, [])):
                best[label] = found
    counts = []
    for label, found in best.items():
        placed = sorted((d for d in found if _position(d)), key=lambda d: d.box.center[0] if d.box else 0.5)
        positions = list(dict.fromkeys(_position(d) for d in placed))
        counts.append(ObjectCount(label, len(found), positions))
    return sorted(counts, key=lambda c: -c.count)


def _track_events(tracks: list[Observation], last_frame: float) -> list[tuple[float, str]]:
    """(time, text) of each track's entry and exit; a track still visible in the last keyframe never leaves.

    A track observation spans first to last sighting (``start``/``end``); one
    without an end is an instant event whose text is used as is.
    """
    events = []
    for o in sorted(tracks, key=lambda o: (o.start, o.track_id or 0)):
        if o.end is None or o.track_id is None:
            events.append((o.start, one_line(o.text).rstrip(".") or f"{o.label or 'object'} seen"))
            continue
        name = f"{one_line(o.label or 'object')} #{o.track_id}"
        events.append((o.start, f"{name} enters"))
        if o.end < last_frame:
            events.append((o.end, f"{name} leaves"))
    return events


def seconds_of(perception: Perception) -> list[Second]:
    """The :class:`Second` records of every second that has a caption, a detection or a track event."""
    by_second: dict[int, dict[str, list[Observation]]] = defaultdict(lambda: defaultdict(list))
    for o in perception.observations:
        if o.stage in ("caption", "detection"):
            by_second[math.floor(o.start)][o.stage].append(o)
    frames = [o.start for o in perception.observations if o.stage in ("caption", "detection", "dense_caption")]
    events: dict[int, list[str]] = defaultdict(list)
    for t, text in _track_events(perception.by_stage("track"), max(frames, default=math.inf)):
        events[math.floor(t)].append(text)
    out = []
    for t in sorted(set(by_second) | set(events)):
        seen = by_second[t]
        captions = [one_line(c.text).rstrip(".") for c in sorted(seen["caption"], key=lambda c: c.start)]
        captions = [c for c in dict.fromkeys(captions) if c]
        out.append(Second(t, captions, _objects(seen["detection"]), events[t]))
    return out


def _second_lines(perception: Perception, cleanup: Cleaner | None) -> list[Line]:
    seconds = seconds_of(perception)
    tags = [s.tags() for s in seconds]
    if cleanup is not None and tags:
        cleaned = [one_line(c) for c in cleanup.clean(tags)]
        if len(cleaned) == len(tags):
            tags = [c or t for c, t in zip(cleaned, tags)]
    return merge_seconds([Line(s.time, None, "second", f"Second {s.time}: {t}") for s, t in zip(seconds, tags)])


def merge_seconds(lines: list[Line]) -> list[Line]:
    """Consecutive ``Second`` lines with the same text become one ``Seconds A-B:`` line.

    Only lines next to each other in ``lines`` merge (a second with other
    content in between keeps them apart): ``Seconds 9-18: 1 person (center).``
    """
    out: list[Line] = []
    for line in lines:
        last = out[-1] if out else None
        if last is not None and last.kind == line.kind == "second" and last.body == line.body:
            text = f"Seconds {secs(last.start)}-{secs(line.start)}: {line.body}"
            out[-1] = Line(last.start, line.start, "second", text)
        else:
            out.append(line)
    return out


def _dense_lines(perception: Perception) -> list[Line]:
    groups: dict[int, list[Observation]] = defaultdict(list)
    for o in perception.by_stage("dense_caption"):
        groups[math.floor(o.start)].append(o)
    lines = []
    for t, regions in sorted(groups.items()):
        parts = []
        for r in regions:
            where = _position(r)
            name = one_line(r.label or "region") + (f" ({where})" if where else "")
            parts.append(f"{name}: {quote(r.text)}")
        lines.append(Line(t, None, "dense", f"Dense captions at second {t}: " + "; ".join(parts)))
    return lines


def _speech_lines(perception: Perception) -> list[Line]:
    lines = []
    for o in perception.by_stage("asr"):
        if not one_line(o.text):
            continue
        span = clock(o.start) + (f"-{clock(o.end, up=True)}" if o.end is not None else "")
        lines.append(Line(o.start, o.end, "speech", f"Speech {span}: {quote(o.text)}"))
    return lines


def _action_lines(perception: Perception) -> list[Line]:
    windows: dict[tuple[float, float], list[str]] = defaultdict(list)
    for o in perception.by_stage("action"):
        text = one_line(o.text) or (f"{o.label} ({o.score:.2f})" if o.score is not None else one_line(o.label or ""))
        windows[(o.start, o.end if o.end is not None else o.start)].append(text)
    return [Line(start, end, "action", f"Action {secs(start)}-{secs(end)} s: " + ", ".join(texts))
            for (start, end), texts in sorted(windows.items())]


def _text_lines(perception: Perception) -> list[Line]:
    """On-screen text spans: texts with the same span in one line, in reading order, quoted like speech.

    ``Text 0:00-0:05 (top center): "Anyone know what this pocket is for?"``
    """
    groups: dict[tuple[float, float], list[Observation]] = defaultdict(list)
    for o in perception.by_stage("ocr"):
        if one_line(o.text):
            groups[(o.start, o.end if o.end is not None else o.start)].append(o)
    lines = []
    for (start, end), found in sorted(groups.items()):
        found.sort(key=lambda o: (o.box.y1, o.box.x1) if o.box else (0.5, 0.5))
        boxes = [o.box for o in found if o.box]
        where = (Box(x1=min(b.x1 for b in boxes), y1=min(b.y1 for b in boxes), x2=max(b.x2 for b in boxes),
                     y2=max(b.y2 for b in boxes)).position() if boxes else _position(found[0]))
        span = clock(start) + (f"-{clock(end, up=True)}" if clock(end, up=True) != clock(start) else "")
        place = f" ({where})" if where else ""
        lines.append(Line(start, end, "text", f"Text {span}{place}: {quote(' '.join(o.text for o in found))}"))
    return lines


def fact_lines(perception: Perception) -> list[str]:
    """``Fact:`` header lines: presence, shots, speech and what is unknown (see :mod:`prompting.facts`)."""
    from prompting.facts import timeline_facts   # facts uses this module's helpers

    return [f"Fact: {one_line(f.text)}" for f in timeline_facts(perception)]


def _note_lines(perception: Perception) -> list[Line]:
    return [Line(o.start, o.end, "note", f"Note at second {secs(o.start)}: {one_line(o.text)}")
            for o in perception.by_stage("note")]


def timeline(perception: Perception, cleanup: Cleaner | None = None) -> list[Line]:
    """Every observation as context lines, in time order."""
    lines = (_second_lines(perception, cleanup) + _dense_lines(perception) + _action_lines(perception)
             + _text_lines(perception) + _speech_lines(perception) + _note_lines(perception))
    return sorted(lines, key=lambda line: (line.start, KIND_ORDER[line.kind]))


def header(perception: Perception) -> list[str]:
    """The lines before the timeline: the video, how it was sampled, the models, the notes."""
    v = perception.video
    audio = "with audio" if v.has_audio else "no audio"
    lines = [f"Video: {one_line(Path(v.path).name)}",
             f"Duration: {v.duration:.1f} s ({v.width}x{v.height}, {v.fps:g} fps video, {audio})",
             f"Keyframes: sampled at {perception.fps_sampled:g} per second"]
    lines += [f"Model {one_line(m.describe())}" for m in perception.models]
    # a note's first clause is enough for the LLM; how to provide a model is for the user
    lines += [f"Note: {one_line(n.split(';')[0])}" for n in perception.notes if "model not available" not in n]
    return lines + fact_lines(perception)   # the facts say what a skipped stage leaves unknown


def render(head: list[str], lines: list[Line]) -> str:
    """The context text from header lines and timeline lines."""
    body = [line.text for line in lines] or ["(nothing was seen or heard)"]
    return "\n".join([*head, TIMELINE_TITLE, *body])


def build_context(perception: Perception, cleanup: Cleaner | None = None) -> str:
    """The whole textual video context for ``perception`` (see the module docstring for its format)."""
    return render(header(perception), timeline(perception, cleanup))


_NUM = r"(\d+(?:\.\d+)?)"
_CLOCK = r"((?:\d+:)?\d+:\d\d)"
_PATTERNS = [
    ("second", re.compile(rf"^Second {_NUM}: ")),
    ("second", re.compile(rf"^Seconds {_NUM}-{_NUM}: ")),
    ("dense", re.compile(rf"^Dense captions at second {_NUM}: ")),
    ("action", re.compile(rf"^Action {_NUM}-{_NUM} s: ")),
    ("speech", re.compile(rf"^Speech {_CLOCK}(?:-{_CLOCK})?: ")),
    ("text", re.compile(rf"^Text {_CLOCK}(?:-{_CLOCK})?(?: \([a-z ]+\))?: ")),
    ("note", re.compile(rf"^Note at second {_NUM}: ")),
]


def _clock_seconds(text: str) -> float:
    value = 0.0
    for part in text.split(":"):
        value = value * 60 + float(part)
    return value


def parse_line(text: str) -> Line | None:
    """The :class:`Line` a timeline line of this format stands for, or ``None`` for other text."""
    for kind, pattern in _PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        values = [g for g in m.groups() if g is not None]
        times = [_clock_seconds(g) if kind in ("speech", "text") else float(g) for g in values]
        return Line(times[0], times[1] if len(times) > 1 else None, kind, text)
    return None


def parse_context(text: str) -> tuple[list[str], list[Line]]:
    """Split a context built by :func:`build_context` back into header lines and timeline lines."""
    head, lines = [], []
    for raw in text.splitlines():
        line = parse_line(raw)
        if line is not None:
            lines.append(line)
        elif raw != TIMELINE_TITLE and raw.strip() and raw != "(nothing was seen or heard)":
            head.append(raw)
    return head, sorted(lines, key=lambda line: (line.start, KIND_ORDER[line.kind]))


def label_counts(lines: list[Line]) -> Counter:
    """How many ``Second`` lines mention each object label."""
    counts: Counter = Counter()
    for line in lines:
        if line.kind == "second":
            counts.update(set(object_labels(line)))
    return counts


_OBJECTS = re.compile(r"(?:^|; )objects: (.*?)(?:; |\.$|$)")
_OBJECT = re.compile(r"\d+ ([^,(]+?)(?: \([^)]*\))?(?:, |$)")


def object_labels(line: Line) -> list[str]:
    """The object labels a ``Second`` line lists (empty when a cleanup rewrote it freely)."""
    m = _OBJECTS.search(line.body)
    return _OBJECT.findall(m.group(1)) if m else []


def caption_of(line: Line) -> str:
    """The caption part of a ``Second`` line (its whole text when it has no tag structure)."""
    first = line.body.split("; ", 1)[0].rstrip(".")
    return "" if first.startswith("objects: ") or "#" in first else first


def speech_of(line: Line) -> str:
    """The transcribed words of a ``Speech`` line, unquoted."""
    try:
        return json.loads(line.body)
    except ValueError:
        return line.body
