"""Fuse a video's observations into the textual video context the LLM reads.

The context follows VideoChat-Text (its Table 1): a few header lines, then one
timeline in time order. Every line is one of these kinds::

    Video file name (not evidence of the content): clip.mp4
    Duration: 12.0 s (640x360, 25 fps video, with audio)
    Keyframes: sampled at 1 per second
    Model detector: yolo11n.pt (ultralytics), real weights
    Speech: German (0.94); also French (0.81)
    Note: dense_caption ran on detected regions only
    Fact: person visible 0:03-0:10: 1 appearance, up to 2 at once
    Fact: No image captions: clothes, colours and setting are unknown
    Timeline (times in seconds from the start; speech spans in m:ss):
    Second 3: a man riding a bike; objects: 2 person (left, center), 1 car (right); person #3 enters.
    Seconds 4-6: objects: 1 person (center).
    Scene 0:00-0:12 (image tags, may be wrong): lakeside 0.62, boathouse 0.41
    Dense captions at second 5: person (left): "a man in a red shirt"; car (right): "a parked car"
    Action 0-4 s: riding a bike (0.82), skateboarding (0.05)
    Text 0:03-0:08 (top center): "Anyone know what this pocket is for?"
    Speech 0:03-0:06: "Watch this!"
    Speech 0:03-0:06 (English translation): "Look at this!"
    Speech 0:07-0:09 (French): "Regarde !"
    No speech 0:10-0:40
    Note at second 7: scene change

``Second N`` lines cover the keyframes in ``[N, N+1)`` s: their caption(s)
(several separated by `` / ``), the detections of the frame that saw the most
of each label with a count and position words (left to right), and tracked
objects that enter or leave; consecutive seconds with the same text merge into
one ``Seconds A-B`` line. ``Scene`` lines are the optional ``tags`` stage's
ImageNet labels of a shot with their probabilities, marked as classifier guesses;
consecutive shots with the same labels merge into one span (``m:ss``). ``Fact`` lines (:mod:`prompting.facts`) sum up the
whole timeline and say what a stage that did not run leaves unknown (they
replace the notes of stages skipped for want of a model). ``Text`` lines are
on-screen text spans (``m:ss``) with a position word. ``Dense captions`` are region captions, about
every 5 s. Spans of ``Action`` windows are seconds; ``Speech`` spans are
``m:ss`` (start rounded down, end rounded up). At equal times the order is:
second, scene, dense captions, action, text, speech, note.

Speech (:mod:`prompting.speech` computes the facts, this module writes them):
the ``Speech:`` header line names the main language with its detection
probability and any other language heard; a ``Speech`` line names its language
only when it is not the main one, marks Whisper's English translation, or says
that an English-only model could not transcribe the span. ``No speech`` lines
are spans without speech, written inward (start rounded up, end down) so they
never overlap a speech line.

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
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from perceive.asr import TRANSLATION, UNTRANSCRIBED
from perceive.models import skipped_for_model
from perceive.records import Box, ModelInfo, Observation, Perception, VideoInfo, printable
from prompting.language import language_name
from prompting.speech import SpeechFacts, silences, speech_facts

TRANSLATED = "English translation"   # the tag of a speech entry that holds Whisper's English translation

if TYPE_CHECKING:
    from prompting.facts import Fact

TIMELINE_TITLE = "Timeline (times in seconds from the start; speech spans in m:ss):"
EMPTY = "(nothing was seen or heard)"
WINDOW_NOTE = ("The full context is longer than this window: the parts most relevant to the question are given in "
               "full detail, other parts as one-line Summary lines, and some parts may be left out.")
KIND_ORDER = {"second": 0, "scene": 1, "dense": 2, "action": 3, "text": 4, "speech": 5, "silence": 5, "note": 6,
              "summary": 7}
UNTRANSCRIBED_TEXT = "not transcribed (likely not English; the ASR model is English-only)"
SCENE_TAG = "image tags, may be wrong"


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


Kind = Literal["second", "scene", "dense", "action", "text", "speech", "silence", "note", "summary"]


@dataclass(frozen=True)
class Entry:
    """One timeline entry: its time span, kind and text, and the observations behind it.

    ``text`` is what follows the time prefix; :meth:`line` adds the prefix.
    ``captions`` and ``labels`` are the facts a ``second`` entry shows (its
    scene captions, its object labels); an ``action`` entry's ``labels`` are its
    classes, most likely first, a ``scene`` entry's its image tags. ``search`` is the text retrieval compares with
    a question: the entry's words without counts, positions, scores or track ids.
    ``tag`` qualifies a ``speech`` entry (its language, or ``English translation``), or marks a ``text`` or
    ``second`` entry from a second look at the question's span (``re-look 4 fps``, :mod:`prompting.relook`);
    a ``silence`` entry (``No speech``) has no text.
    """

    start: float
    end: float | None
    kind: Kind
    text: str
    observations: tuple[Observation, ...] = ()
    captions: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    search: str = ""
    tag: str | None = None

    @property
    def said(self) -> str:
        """The words spoken (``speech`` entries), on one line; nothing for untranscribed speech."""
        return " ".join(one_line(o.text) for o in self.observations if o.label != UNTRANSCRIBED)

    def prefix(self) -> str:
        """The time prefix of the entry's line, e.g. ``Second 3`` or ``Speech 0:03-0:06``."""
        if self.kind == "second":
            tag = f" ({self.tag})" if self.tag else ""
            if self.end is not None and int(self.end) != int(self.start):   # merged identical seconds
                return f"Seconds {int(self.start)}-{int(self.end)}{tag}"
            return f"Second {int(self.start)}{tag}"
        if self.kind == "dense":
            return f"Dense captions at second {int(self.start)}"
        if self.kind == "speech":
            span = clock(self.start) + (f"-{clock(self.end, up=True)}" if self.end is not None else "")
            return f"Speech {span}" + (f" ({self.tag})" if self.tag else "")
        if self.kind == "silence":
            return f"No speech {clock(self.start, up=True)}-{clock(self.end if self.end is not None else self.start)}"
        if self.kind in ("text", "scene"):
            end = clock(self.end if self.end is not None else self.start, up=True)
            span = clock(self.start) + (f"-{end}" if end != clock(self.start) else "")
            if self.kind == "scene":
                return f"Scene {span} ({SCENE_TAG})"
            where = ", ".join(p for p in (text_position(self.observations), self.tag) if p)
            return f"Text {span}" + (f" ({where})" if where else "")
        if self.kind == "note":
            return f"Note at second {secs(self.start)}"
        name = "Action" if self.kind == "action" else "Summary"
        return f"{name} {secs(self.start)}-{secs(self.end if self.end is not None else self.start)} s"

    def line(self) -> str:
        """The entry as one line of context text."""
        return f"{self.prefix()}: {self.text}" if self.text or self.kind != "silence" else self.prefix()


@dataclass(frozen=True)
class Header:
    """The facts before the timeline: the video, how it was sampled, the models (real or random), the notes,
    and the timeline facts (:mod:`prompting.facts`: presence, shots, speech, what is unknown)."""

    video: VideoInfo
    fps_sampled: float
    models: tuple[ModelInfo, ...] = ()
    notes: tuple[str, ...] = ()
    speech: SpeechFacts | None = None
    facts: tuple[Fact, ...] = ()

    def speech_line(self) -> str | None:
        """``Speech: German (0.94); also French (0.81)``; ``None`` when no ASR ran."""
        if self.speech is None:
            return None
        if self.speech.status == "untranscribed":
            return "Speech: likely not English, not transcribed (the ASR model is English-only)"
        if self.speech.status != "heard":
            return f"Speech: {self.speech.status}"
        parts = [language_name(h.code) + (f" ({h.probability:.2f})" if h.probability is not None else "")
                 for h in self.speech.languages]
        return "Speech: " + parts[0] + (f"; also {', '.join(parts[1:])}" if len(parts) > 1 else "")

    def lines(self) -> list[str]:
        """The header as lines of context text."""
        v = self.video
        audio = "with audio" if v.has_audio else "no audio"
        lines = [f"Video file name (not evidence of the content): {one_line(printable(Path(v.path).name))}",
                 f"Duration: {v.duration:.1f} s ({v.width}x{v.height}, {v.fps:g} fps video, {audio})",
                 f"Keyframes: sampled at {self.fps_sampled:g} per second"]
        lines += [f"Model {one_line(m.describe())}" for m in self.models]
        lines += [line for line in [self.speech_line()] if line]
        # a note's first clause is enough for the LLM; how to provide a model is for the user
        lines += [f"Note: {one_line(n.split(';')[0])}" for n in self.notes]
        return lines + [f"Fact: {one_line(f.text)}" for f in self.facts]

    def unknown(self) -> list[str]:
        """What the context says could not be seen (the ``unknown`` facts' text)."""
        return [f.text for f in self.facts if f.kind == "unknown"]


@dataclass(frozen=True)
class Fit:
    """How a context was cut down to an LLM window (made by :func:`prompting.window.fit_context`).

    ``overview`` is a line about the whole video, ``note`` says that parts were
    left out, ``title`` keeps the timeline title; ``header_lines`` set means
    only that many header lines fitted, and nothing else.
    """

    overview: str | None = None
    note: bool = True
    title: bool = True
    header_lines: int | None = None


@dataclass
class VideoContext:
    """The typed video context: header facts and timeline entries; :meth:`render` makes its text."""

    header: Header
    entries: list[Entry] = field(default_factory=list)
    fit: Fit | None = None

    def render(self) -> str:
        """The context text the LLM reads (see the module docstring for its format)."""
        return "\n".join(text for _, text in self.lines())

    def lines(self) -> list[tuple[Entry | None, str]]:
        """The lines of :meth:`render`, each with the entry it shows (``None`` for header and title lines)."""
        head: list[tuple[Entry | None, str]] = [(None, line) for line in self.header.lines()]
        lines: list[tuple[Entry | None, str]] = [(entry, entry.line()) for entry in self.entries]
        if self.fit is None:
            return [*head, (None, TIMELINE_TITLE), *(lines or [(None, EMPTY)])]
        if self.fit.header_lines is not None:
            return head[: self.fit.header_lines]
        top = [self.fit.overview or "", WINDOW_NOTE if self.fit.note else "", TIMELINE_TITLE if self.fit.title else ""]
        return [(e, t) for e, t in [*head, *((None, t) for t in top), *lines] if t]


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
    """What the keyframes of one second showed: captions, object counts, track events (and the observations)."""

    time: int
    captions: list[str] = field(default_factory=list)
    objects: list[ObjectCount] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    plain_events: list[str] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)

    def tags(self, plain: bool = False) -> str:
        """The line's text without its prefix: ``caption; objects: ...; events.``

        ``plain`` leaves out counts, positions and track ids (the words retrieval compares).
        """
        parts = [" / ".join(self.captions)] if self.captions else []
        if self.objects:
            parts.append("objects: " + ", ".join(o.label if plain else o.describe() for o in self.objects))
        if self.events:
            parts.append(", ".join(self.plain_events if plain else self.events))
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


def _track_events(tracks: list[Observation], last_frame: float) -> list[tuple[float, str, str, Observation]]:
    """(time, text, text without the track id, track) of each track's entry and exit.

    A track still visible in the last keyframe never leaves.

    A track observation spans first to last sighting (``start``/``end``); one
    without an end is an instant event whose text is used as is.
    """
    events = []
    for o in sorted(tracks, key=lambda o: (o.start, o.track_id or 0)):
        if o.end is None or o.track_id is None:
            text = one_line(o.text).rstrip(".") or f"{o.label or 'object'} seen"
            events.append((o.start, text, text, o))
            continue
        label = one_line(o.label or "object")
        events.append((o.start, f"{label} #{o.track_id} enters", f"{label} enters", o))
        if o.end < last_frame:
            events.append((o.end, f"{label} #{o.track_id} leaves", f"{label} leaves", o))
    return events


def seconds_of(perception: Perception) -> list[Second]:
    """The :class:`Second` records of every second that has a caption, a detection or a track event."""
    by_second: dict[int, dict[str, list[Observation]]] = defaultdict(lambda: defaultdict(list))
    for o in perception.observations:
        if o.stage in ("caption", "detection"):
            by_second[math.floor(o.start)][o.stage].append(o)
    frames = [o.start for o in perception.observations if o.stage in ("caption", "detection", "dense_caption")]
    events: dict[int, list[tuple]] = defaultdict(list)
    for t, *event in _track_events(perception.by_stage("track"), max(frames, default=math.inf)):
        events[math.floor(t)].append(event)
    out = []
    for t in sorted(set(by_second) | set(events)):
        seen = by_second[t]
        captions = [one_line(c.text).rstrip(".") for c in sorted(seen["caption"], key=lambda c: c.start)]
        captions = [c for c in dict.fromkeys(captions) if c]
        behind = seen["caption"] + seen["detection"] + [o for *_, o in events[t]]
        out.append(Second(t, captions, _objects(seen["detection"]), [e[0] for e in events[t]],
                          [e[1] for e in events[t]], behind))
    return out


def _second_entries(perception: Perception, cleanup: Cleaner | None) -> list[Entry]:
    seconds = seconds_of(perception)
    tags = [s.tags() for s in seconds]
    cleaned = [None] * len(tags)
    if cleanup is not None and tags:
        rewrites = [one_line(c) for c in cleanup.clean(tags)]
        if len(rewrites) == len(tags):
            cleaned = [c or None for c in rewrites]
    entries = [Entry(s.time, None, "second", c or t, tuple(s.observations), tuple(s.captions),
                     tuple(o.label for o in s.objects), c or s.tags(plain=True))
               for s, t, c in zip(seconds, tags, cleaned)]
    step = 1.0 / perception.fps_sampled if perception.fps_sampled else 1.0
    return merge_seconds(entries, max(1.0, step))


def merge_seconds(entries: list[Entry], step: float = 1.0) -> list[Entry]:
    """Consecutive ``second`` entries with the same text become one entry, rendered ``Seconds A-B: ...``.

    Two entries are consecutive when at most ``step`` seconds (the keyframe
    interval, at least 1) lie between them: seconds with nothing seen in between
    keep them apart. ``Seconds 9-18: objects: 1 person (center).``
    """
    out: list[Entry] = []
    for entry in entries:
        last = out[-1] if out else None
        if (last is not None and last.kind == entry.kind == "second" and last.text == entry.text
                and entry.start - (last.end if last.end is not None else last.start) <= step + 1e-6):
            out[-1] = replace(last, end=entry.start, observations=last.observations + entry.observations)
        else:
            out.append(entry)
    return out


def _scene_entries(perception: Perception) -> list[Entry]:
    """The image tags of each shot (``tag`` observations of one span), consecutive shots with the same labels merged.

    ``Scene 0:00-0:12 (image tags, may be wrong): lakeside 0.62, boathouse 0.41``: labels most likely first,
    each with its best probability over the merged shots.
    """
    shots: dict[tuple[float, float], list[Observation]] = defaultdict(list)
    for o in perception.by_stage("tag"):
        shots[(o.start, o.end if o.end is not None else o.start)].append(o)
    step = max(1.0, 1.0 / perception.fps_sampled if perception.fps_sampled else 1.0)
    merged: list[tuple[float, float, list[Observation]]] = []
    for (start, end), found in sorted(shots.items()):
        labels = {_label(o) for o in found}
        if merged and {_label(o) for o in merged[-1][2]} == labels and start - merged[-1][1] <= step + 1e-6:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2] + found)
        else:
            merged.append((start, end, found))
    entries = []
    for start, end, found in merged:
        best: dict[str, float] = {}
        for o in found:
            best[_label(o)] = max(best.get(_label(o), 0.0), o.score or 0.0)
        labels = sorted(best, key=lambda label: -best[label])
        entries.append(Entry(start, end, "scene", ", ".join(f"{label} {best[label]:.2f}" for label in labels),
                             tuple(found), labels=tuple(labels), search=", ".join(labels)))
    return entries


def _dense_entries(perception: Perception) -> list[Entry]:
    groups: dict[int, list[Observation]] = defaultdict(list)
    for o in perception.by_stage("dense_caption"):
        groups[math.floor(o.start)].append(o)
    entries = []
    for t, regions in sorted(groups.items()):
        parts, plain = [], []
        for r in regions:
            where = _position(r)
            name = one_line(r.label or "region")
            parts.append(name + (f" ({where})" if where else "") + f": {quote(r.text)}")
            plain.append(f"{name}: {quote(r.text)}")
        entries.append(Entry(t, None, "dense", "; ".join(parts), tuple(regions), search="; ".join(plain)))
    return entries


def _speech_entries(perception: Perception) -> list[Entry]:
    """Speech entries (originals, translations, untranscribed spans) and ``No speech`` (silence) entries."""
    facts = speech_facts(perception)
    main = facts.main if facts else None
    entries = []
    for o in perception.by_stage("asr"):
        if o.label == UNTRANSCRIBED:
            entries.append(Entry(o.start, o.end, "speech", UNTRANSCRIBED_TEXT, (o,), search=""))
        elif not one_line(o.text):
            continue
        elif o.label == TRANSLATION:
            entries.append(Entry(o.start, o.end, "speech", quote(o.text), (o,), search=quote(o.text),
                                 tag=TRANSLATED))
        else:
            tag = language_name(o.language) if o.language and main and o.language != main else None
            entries.append(Entry(o.start, o.end, "speech", quote(o.text), (o,), search=quote(o.text), tag=tag))
    entries += [Entry(a, b, "silence", "", search="no speech") for a, b in silences(perception)]
    return entries


def _action_entries(perception: Perception) -> list[Entry]:
    windows: dict[tuple[float, float], list[Observation]] = defaultdict(list)
    for o in perception.by_stage("action"):
        windows[(o.start, o.end if o.end is not None else o.start)].append(o)
    entries = []
    for (start, end), found in sorted(windows.items()):
        texts = [one_line(o.text) or (f"{o.label} ({o.score:.2f})" if o.score is not None else one_line(o.label or ""))
                 for o in found]
        # action text lists "class (probability)" pairs, most likely first
        names = tuple(part.split(" (")[0] for text in texts for part in text.split(", "))
        entries.append(Entry(start, end, "action", ", ".join(texts), tuple(found), labels=names,
                             search=", ".join(names)))
    return entries


def _text_entries(perception: Perception) -> list[Entry]:
    """On-screen text spans: texts with the same span in one entry, in reading order, quoted like speech.

    ``Text 0:00-0:05 (top center): "Anyone know what this pocket is for?"``
    """
    groups: dict[tuple[float, float], list[Observation]] = defaultdict(list)
    for o in perception.by_stage("ocr"):
        if one_line(o.text):
            groups[(o.start, o.end if o.end is not None else o.start)].append(o)
    entries = []
    for (start, end), found in sorted(groups.items()):
        found.sort(key=lambda o: (o.box.y1, o.box.x1) if o.box else (0.5, 0.5))
        text = quote(" ".join(o.text for o in found))
        entries.append(Entry(start, end, "text", text, tuple(found), search=text))
    return entries


def text_position(observations: tuple[Observation, ...]) -> str | None:
    """The position word of the box around all ``observations`` (on-screen text read together)."""
    boxes = [o.box for o in observations if o.box]
    if not boxes:
        return next((p for o in observations if (p := _position(o))), None)
    return Box(x1=min(b.x1 for b in boxes), y1=min(b.y1 for b in boxes), x2=max(b.x2 for b in boxes),
               y2=max(b.y2 for b in boxes)).position()


def _note_entries(perception: Perception) -> list[Entry]:
    return [Entry(o.start, o.end, "note", one_line(o.text), (o,), search=one_line(o.text))
            for o in perception.by_stage("note")]


def timeline(perception: Perception, cleanup: Cleaner | None = None) -> list[Entry]:
    """Every observation as timeline entries, in time order."""
    entries = (_second_entries(perception, cleanup) + _scene_entries(perception) + _dense_entries(perception)
               + _action_entries(perception) + _text_entries(perception) + _speech_entries(perception)
               + _note_entries(perception))
    return sorted(entries, key=lambda e: (e.start, KIND_ORDER[e.kind]))


def video_context(perception: Perception, cleanup: Cleaner | None = None) -> VideoContext:
    """The typed video context of ``perception`` (``cleanup`` may rewrite the per-second text).

    The header carries the timeline facts (:mod:`prompting.facts`); the notes of
    stages skipped for want of a model are left to the facts that say what is
    therefore unknown.
    """
    from prompting.facts import timeline_facts   # facts uses this module's helpers

    notes = tuple(n for n in perception.notes if not skipped_for_model(n))
    header = Header(perception.video, perception.fps_sampled, tuple(perception.models), notes,
                    speech=speech_facts(perception), facts=tuple(timeline_facts(perception)))
    return VideoContext(header, timeline(perception, cleanup))
