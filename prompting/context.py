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
    Scene 0:00-0:12 (ImageNet setting, may be wrong): library 0.41
    Looks 0:03-0:10: person #3 (colour analysis): blond hair, white upper body, blue lower body; (ImageNet) apron 0.41
    Dense captions at second 5: person (left): "a man in a red shirt"; car (right): "a parked car"
    Action 0-4 s: riding a bike (0.82), skateboarding (0.05)
    Text 0:03-0:08 (top center): "Anyone know what this pocket is for?"
    Text 0:00-0:42 (bottom right), changing: "01:00:00:00" at 0:00, "01:00:01:00" at 0:01, ... one value per second
    Speech 0:03-0:06: "Watch this!"
    Speech 0:03-0:06 (English translation): "Look at this!"
    Subtitle 0:03-0:06 (English): "Watch this!"
    Speech 0:07-0:09 (French): "Regarde !"
    No speech 0:10-0:40
    Note at second 7: scene change

``Second N`` lines cover the keyframes in ``[N, N+1)`` s: their caption(s)
(several separated by `` / ``), the detections of the frame that saw the most
of each label with a count and position words (left to right), and tracked
objects that enter or leave; consecutive seconds with the same text merge into
one ``Seconds A-B`` line. ``Scene`` lines are the optional ``tags`` stage's
ImageNet labels of a shot with their probabilities, marked as classifier guesses;
consecutive shots with the same labels merge into one span (``m:ss``); the ``setting``
stage's place classes make the same lines, marked ``ImageNet setting``. A ``Looks``
line is one track's colours (:mod:`perceive.colours`, pixel analysis) and the
ImageNet clothing classes read on it (:mod:`perceive.clothing`), each marked by its
source, over the span (``m:ss``) the track was seen. ``Fact`` lines (:mod:`prompting.facts`) sum up the
whole timeline and say what a stage that did not run leaves unknown (they
replace the notes of stages skipped for want of a model). ``Text`` lines are
on-screen text spans (``m:ss``) with a position word; a value that keeps changing in one place
(a clock, a counter, a score) is one ``changing`` line with its values and when each was read
(at most :data:`SHOWN_VALUES` of them written; the entry holds them all, and
:meth:`VideoContext.during` narrows it to the values at the times a question names). ``Dense captions`` are region captions, about
every 5 s. ``Subtitle`` lines are the cues of the video's text subtitles (its streams and the files beside
it, :mod:`perceive.subtitles`) with their language: the source's, else detected from their words
(:func:`prompting.language.question_language`). Spans of ``Action`` windows are seconds; ``Speech`` and
``Subtitle`` spans are ``m:ss`` (start rounded down, end rounded up). At equal times the order is:
second, scene, looks, dense captions, action, text, subtitle, speech, note.

Speech (:mod:`prompting.speech` computes the facts, this module writes them):
the ``Speech:`` header line names the main language with its detection
probability and any other language heard; a ``Speech`` line names its language
only when it is not the main one, marks Whisper's English translation, or says
that an English-only model could not transcribe the span. ``No speech`` lines
are spans without speech, written inward (start rounded up, end down) so they
never overlap a speech line.

Speech, subtitles, on-screen text and region captions are untrusted text from the video, so they are
written as JSON string literals: quotes and backslashes are escaped, and any
line break (``\\n``, ``\\r``, ``\\u2028`` ...) is collapsed to a space, so a
transcript can never start a line of its own. Every other piece of model text
is collapsed to one line as well. A cleanup model (``Cleanup.clean``) may
rewrite the per-second lines' text; it never sees or changes their prefix.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol

from perceive.asr import TRANSLATION, UNTRANSCRIBED
from perceive.ocr import next_value
from perceive.records import Box, ModelInfo, Note, Observation, Perception, VideoInfo, printable
from prompting.facts import Fact, timeline_facts
from prompting.format import clock, one_line, quote, secs
from prompting.language import language_name, question_language
from prompting.speech import SpeechFacts, silences, speech_facts

TRANSLATED = "English translation"   # the tag of a speech entry that holds Whisper's English translation

TIMELINE_TITLE = "Timeline (times in seconds from the start; speech spans in m:ss):"
EMPTY = "(nothing was seen or heard)"
WINDOW_NOTE = ("The full context is longer than this window: the parts most relevant to the question are given in "
               "full detail, other parts as one-line Summary lines, and some parts may be left out.")
KIND_ORDER = {"second": 0, "scene": 1, "looks": 2, "dense": 3, "action": 4, "text": 5, "subtitle": 6, "speech": 7,
              "silence": 7, "note": 8, "summary": 9}
UNTRANSCRIBED_TEXT = "not transcribed (likely not English; the ASR model is English-only)"
SCENE_TAG = "image tags, may be wrong"
SETTING_TAG = "ImageNet setting, may be wrong"
COLOUR_SOURCE = "colour analysis"
CLOTHING_SOURCE = "ImageNet"
CHANGING = "changing"   # the tag of a text entry that holds a series of values read in one place
SHOWN_VALUES = 30       # values a changing text line writes out (evenly spread); the entry holds them all
MIN_VALUES = 3          # readings in one place that make a changing series


class Cleaner(Protocol):
    """Anything that rewrites a batch of tag lines (e.g. :class:`prompting.cleanup.Cleanup`)."""

    def clean(self, lines: list[str]) -> list[str]: ...


Kind = Literal["second", "scene", "looks", "dense", "action", "text", "subtitle", "speech", "silence", "note",
              "summary"]


@dataclass(frozen=True)
class Entry:
    """One timeline entry: its time span, kind and text, and the observations behind it.

    ``text`` is what follows the time prefix; :meth:`line` adds the prefix.
    ``captions`` and ``labels`` are the facts a ``second`` entry shows (its
    scene captions, its object labels); an ``action`` entry's ``labels`` are its
    classes, most likely first, a ``scene`` entry's its image tags. ``search`` is the text retrieval compares with
    a question: the entry's words without counts, positions, scores or track ids.
    ``tag`` qualifies a ``speech`` entry (its language, or ``English translation``) or a ``scene`` entry (where
    its labels come from), names a ``subtitle`` entry's language, marks a ``text`` entry that holds a series of
    values read in one place (:data:`CHANGING`, one observation per value), or marks a ``text`` or ``second``
    entry from a second look at the question's span (``re-look 4 fps``, :mod:`prompting.relook`);
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
        """The words spoken (``speech`` entries) or written, on one line; nothing for untranscribed speech;
        the first and the last value of a changing text (:meth:`during` narrows it to the values at a time)."""
        if self.tag == CHANGING and len(self.observations) > 2:
            return f"{one_line(self.observations[0].text)} ... {one_line(self.observations[-1].text)}"
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
        if self.kind in ("speech", "subtitle"):
            span = clock(self.start) + (f"-{clock(self.end, up=True)}" if self.end is not None else "")
            return f"{self.kind.capitalize()} {span}" + (f" ({self.tag})" if self.tag else "")
        if self.kind == "silence":
            return f"No speech {clock(self.start, up=True)}-{clock(self.end if self.end is not None else self.start)}"
        if self.kind in ("text", "scene", "looks"):
            end = clock(self.end if self.end is not None else self.start, up=True)
            span = clock(self.start) + (f"-{end}" if end != clock(self.start) else "")
            if self.kind == "scene":
                return f"Scene {span} ({self.tag or SCENE_TAG})"
            if self.kind == "looks":
                return f"Looks {span}"
            relook = self.tag if self.tag != CHANGING else None
            where = ", ".join(p for p in (text_position(self.observations), relook) if p)
            return f"Text {span}" + (f" ({where})" if where else "") + (f", {CHANGING}" if self.tag == CHANGING else "")
        if self.kind == "note":
            return f"Note at second {secs(self.start)}"
        name = "Action" if self.kind == "action" else "Summary"
        return f"{name} {secs(self.start)}-{secs(self.end if self.end is not None else self.start)} s"

    def line(self) -> str:
        """The entry as one line of context text."""
        return f"{self.prefix()}: {self.text}" if self.text or self.kind != "silence" else self.prefix()

    def during(self, spans: list) -> Entry:
        """A changing text entry narrowed to the values shown during ``spans`` (anything with
        ``overlaps(start, end)``, e.g. :class:`answer.question.TimeSpan`): those read inside them, else the
        last one read before; any other entry, or no spans, as it is."""
        if self.tag != CHANGING or not spans:
            return self
        shown = [o for o in self.observations if any(s.overlaps(o.start, o.end) for s in spans)]
        first = min(s.start for s in spans)
        shown = shown or [o for o in self.observations if o.start <= first][-1:]
        return changing_entry(shown) if shown else self


@dataclass(frozen=True)
class Header:
    """The facts before the timeline: the video, how it was sampled, the models (real or random), the notes,
    and the timeline facts (:mod:`prompting.facts`: presence, shots, speech, what is unknown)."""

    video: VideoInfo
    fps_sampled: float
    models: tuple[ModelInfo, ...] = ()
    notes: tuple[Note, ...] = ()
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
        lines += [f"Note: {one_line(n.render(fix=False))}" for n in self.notes]
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

    def during(self, spans: list) -> VideoContext:
        """This context with each changing text narrowed to its values during ``spans`` (:meth:`Entry.during`)."""
        return replace(self, entries=[e.during(spans) for e in self.entries]) if spans else self

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


def _scene_entries(perception: Perception, stage: str = "tag", tag: str = SCENE_TAG) -> list[Entry]:
    """The image tags of each shot (``stage`` observations of one span), consecutive shots with the same labels
    merged.

    ``Scene 0:00-0:12 (image tags, may be wrong): lakeside 0.62, boathouse 0.41``: labels most likely first,
    each with its best probability over the merged shots; ``tag`` says where they come from.
    """
    shots: dict[tuple[float, float], list[Observation]] = defaultdict(list)
    for o in perception.by_stage(stage):
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
                             tuple(found), labels=tuple(labels), search=", ".join(labels), tag=tag))
    return entries


def _looks_entries(perception: Perception) -> list[Entry]:
    """One entry per track with colours or clothing: each part marked by its source.

    ``Looks 0:03-0:10: person #3 (colour analysis): blond hair, white upper body; (ImageNet) apron 0.41``
    """
    tracks: dict[int, list[Observation]] = defaultdict(list)
    for o in perception.observations:
        if o.stage in ("colour", "clothing") and o.track_id is not None:
            tracks[o.track_id].append(o)
    names = {o.track_id: _label(o) for o in perception.by_stage("track")}
    entries = []
    for track_id, found in tracks.items():
        colours = [o for o in found if o.stage == "colour"]
        worn = sorted((o for o in found if o.stage == "clothing"), key=lambda o: -(o.score or 0.0))
        label = _label(colours[0]) if colours else names.get(track_id, "person")
        parts, plain = [], []
        if colours:
            parts.append((COLOUR_SOURCE, one_line(colours[0].text)))
            plain.append(one_line(colours[0].text))
        if worn:
            parts.append((CLOTHING_SOURCE, ", ".join(f"{one_line(o.text)} {o.score or 0.0:.2f}" for o in worn)))
            plain += [one_line(o.text) for o in worn]
        text = "; ".join(f"({source}){':' if i == 0 else ''} {said}" for i, (source, said) in enumerate(parts))
        start, end = min(o.start for o in found), max(o.end if o.end is not None else o.start for o in found)
        entries.append(Entry(start, end, "looks", f"{label} #{track_id} {text}", tuple(found),
                             labels=(label,), search=f"{label}: " + ", ".join(plain)))
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


def _subtitle_entries(perception: Perception) -> list[Entry]:
    """Subtitle cues, quoted like speech, each with the language of its source (the stream's or file's, else
    detected from all the source's words): ``Subtitle 0:01-0:04 (English): "The word is pineapple."``"""
    cues = [o for o in perception.by_stage("subtitle") if one_line(o.text)]
    sources: dict[str | None, list[Observation]] = defaultdict(list)
    for o in cues:
        sources[o.label].append(o)
    detected = {label: question_language(" ".join(o.text for o in found)) for label, found in sources.items()}
    return [Entry(o.start, o.end, "subtitle", quote(o.text), (o,), search=quote(o.text),
                  tag=language_name(o.language or detected[o.label])) for o in cues]


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
    """On-screen text spans: texts with the same span in one entry, in reading order, quoted like speech;
    each series of values read in one place in one changing entry (:func:`value_series`).

    ``Text 0:00-0:05 (top center): "Anyone know what this pocket is for?"``
    """
    readings = [o for o in perception.by_stage("ocr") if one_line(o.text)]
    series = value_series(readings)
    taken = {id(o) for chain in series for o in chain}
    groups: dict[tuple[float, float], list[Observation]] = defaultdict(list)
    for o in readings:
        if id(o) not in taken:
            groups[(o.start, o.end if o.end is not None else o.start)].append(o)
    entries = [changing_entry(chain) for chain in series]
    for (start, end), found in sorted(groups.items()):
        found.sort(key=lambda o: (o.box.y1, o.box.x1) if o.box else (0.5, 0.5))
        text = quote(" ".join(o.text for o in found))
        entries.append(Entry(start, end, "text", text, tuple(found), search=text))
    return entries


def _same_place(a: Box | None, b: Box | None) -> bool:
    """Two text boxes on one row that overlap sideways by half the narrower one."""
    if a is None or b is None:
        return False
    rows = min(a.y2, b.y2) - max(a.y1, b.y1) >= 0.5 * min(a.y2 - a.y1, b.y2 - b.y1)
    side = min(a.x2, b.x2) - max(a.x1, b.x1) >= 0.5 * min(a.x2 - a.x1, b.x2 - b.x1)
    return rows and side


def value_series(readings: list[Observation], min_values: int = MIN_VALUES, gap: float = 5.0) -> list[list[Observation]]:
    """Runs of on-screen text read in one place, each a new value of the one before (:func:`perceive.ocr.next_value`),
    at most ``gap`` seconds apart: a clock, a counter, a score. Runs of at least ``min_values`` readings."""
    chains: list[list[Observation]] = []
    for o in sorted(readings, key=lambda o: o.start):
        chain = next((c for c in chains if _same_place(c[-1].box, o.box) and next_value(c[-1].text, o.text)
                      and o.start - (c[-1].end if c[-1].end is not None else c[-1].start) <= gap), None)
        if chain is None:
            chains.append([o])
        else:
            chain.append(o)
    return [c for c in chains if len(c) >= min_values]


def _rate(chain: list[Observation]) -> str:
    """How often the value changed: ``one value per second``, ``one value per 2 s``."""
    steps = sorted(b.start - a.start for a, b in zip(chain, chain[1:]))
    step = steps[len(steps) // 2] if steps else 0.0
    return "one value per second" if round(step, 1) == 1.0 else f"one value per {secs(step)} s"


def changing_entry(chain: list[Observation], shown: int = SHOWN_VALUES) -> Entry:
    """The text entry of a series of values read in one place (``tag`` :data:`CHANGING`): every value with its time,
    at most ``shown`` of them written (evenly spread, ``...`` where some are left out).

    ``"01:00:00:00" at 0:00, "01:00:01:00" at 0:01, ... "01:00:42:00" at 0:42, one value per second``
    """
    chain = sorted(chain, key=lambda o: o.start)
    if len(chain) == 1:
        o = chain[0]
        return Entry(o.start, o.end, "text", quote(o.text), (o,), search=quote(o.text))
    picked = range(len(chain)) if len(chain) <= shown else sorted(
        {round(k * (len(chain) - 1) / (shown - 1)) for k in range(shown)})
    parts, last = [], -1
    for i in picked:
        parts.append(("... " if i > last + 1 else "") + f"{quote(chain[i].text)} at {clock(chain[i].start)}")
        last = i
    text = ", ".join(parts) + (f", {_rate(chain)}" if len(chain) > 1 else "")
    end = max(o.end if o.end is not None else o.start for o in chain)
    return Entry(chain[0].start, end, "text", text, tuple(chain), search=" ".join(quote(o.text) for o in chain),
                 tag=CHANGING)


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
    entries = (_second_entries(perception, cleanup) + _scene_entries(perception)
               + _scene_entries(perception, "setting", SETTING_TAG) + _looks_entries(perception) + _dense_entries(perception)
               + _action_entries(perception) + _text_entries(perception) + _subtitle_entries(perception)
               + _speech_entries(perception)
               + _note_entries(perception))
    return sorted(entries, key=lambda e: (e.start, KIND_ORDER[e.kind]))


def video_context(perception: Perception, cleanup: Cleaner | None = None) -> VideoContext:
    """The typed video context of ``perception`` (``cleanup`` may rewrite the per-second text).

    The header carries the timeline facts (:mod:`prompting.facts`); the notes of
    stages skipped for want of a model are left to the facts that say what is
    therefore unknown.
    """
    notes = tuple(n for n in perception.notes if not n.missing_model)
    header = Header(perception.video, perception.fps_sampled, tuple(perception.models), notes,
                    speech=speech_facts(perception), facts=tuple(timeline_facts(perception)))
    return VideoContext(header, timeline(perception, cleanup))
