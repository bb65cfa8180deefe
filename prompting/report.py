"""See what the model saw: one self-contained HTML timeline report of a video's perception.

:func:`render_report` turns a :class:`~perceive.records.Perception`, its
:class:`~prompting.context.VideoContext` (shown as the text ``render()`` gives
the LLM, each entry's time a link) and (optionally) questions and answers into a single HTML page with
inline CSS and JS (``report.html`` beside this module): a video player, a strip
of keyframe thumbnails, one lane per stage on a common time axis, the models
(real or random weights), settings and timings, the Q&A and the context. It
opens from ``file://`` offline; clicking any item or timestamp seeks the video.

Every piece of text that comes from the video (speech, on-screen text,
captions, labels, the file name) is untrusted: the HTML is built here with
:func:`html.escape` on every value, and the one JSON block embedded in a
``<script>`` element goes through :func:`script_json`. The page's JS only ever
writes text with ``textContent``.

Long videos stay light: each lane packs overlapping items into a few rows and
merges the items of a row that start within one time bucket (``1/BUCKETS`` of
the video) into one, so a 1-hour video draws at most about
``BUCKETS`` items per row, whatever its number of observations.
"""
from __future__ import annotations

import base64
import colorsys
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

from pydantic import BaseModel

from perceive.models import STAGES
from perceive.records import Note, Observation, Perception
from prompting.context import VideoContext
from prompting.format import clock

BUCKETS = 500
"""Time buckets across the axis (about 2 px each): items of a lane row starting within one bucket merge."""
MAX_ROWS = 4
"""Rows a lane uses for overlapping items; more overlap shares the row that frees up first."""
MAX_THUMBNAILS = 16

LANES: dict[str, str] = {
    "asr": "Speech",
    "subtitle": "Subtitles",
    "ocr": "On-screen text",
    "track": "Object tracks",
    "detection": "Detections",
    "caption": "Captions",
    "dense_caption": "Region captions",
    "action": "Actions",
    "shot": "Shot changes",
    "tag": "Image tags (guesses)",
    "silence": "Silence",
    "note": "Notes",
}
"""Lane titles of the known stages, in display order; any other stage gets a lane after these."""
COLOURS = {"asr": "#3b6fe0", "subtitle": "#2f8fd8", "ocr": "#8a4fd0", "track": "#1f9d6b", "detection": "#6d9c12", "caption": "#e08a12",
           "dense_caption": "#d0603a", "action": "#cf3f74", "shot": "#5a6270", "tag": "#2a8f9d", "silence": "#9aa3ad",
           "note": "#5a6270"}
MARKER_STAGES = {"note", "shot"}
"""Stages whose instants are drawn as thin markers rather than keyframe-long blocks."""

_TIMES = re.compile(r"\b(?:(\d+):)?(\d{1,2}):(\d\d)\b|\bsecond (\d+(?:\.\d+)?)", re.I)


class QA(BaseModel):
    """One question asked about the video and the answer given."""

    question: str
    answer: str


class Thumbnail(BaseModel):
    """A small JPEG keyframe at a time (seconds) of the video."""

    time: float
    jpeg: bytes

    def data_uri(self) -> str:
        return "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode()


@dataclass
class Item:
    """One drawn box of a lane: one observation, or several merged (``n``)."""

    start: float
    end: float
    label: str
    tip: str
    n: int = 1
    row: int = 0
    merged: bool = False


@dataclass
class Lane:
    """One stage's lane: its drawn items, the rows they use, or why the stage did not run."""

    stage: str
    title: str
    items: list[Item] = field(default_factory=list)
    rows: int = 1
    count: int = 0
    reason: str | None = None


def esc(value: object) -> str:
    """``value`` as text safe inside HTML content and quoted attributes."""
    return html.escape(str(value), quote=True)


def script_json(value: object) -> str:
    """``value`` as JSON safe inside a ``<script>`` element: ``<``, ``>``, ``&``, U+2028/9 as ``\\uXXXX``."""
    text = json.dumps(value, ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _span(o: Observation) -> str:
    return clock(o.start) + (f"–{clock(o.end, up=True)}" if o.end is not None and o.end > o.start else "")


def _label(o: Observation) -> str:
    if o.stage == "track":
        return f"{o.label or o.text} #{o.track_id}" if o.track_id is not None else o.text
    if o.stage == "dense_caption" and (o.label or o.position):
        where = " ".join(p for p in (o.label, f"({o.position})" if o.position else "") if p)
        return f"{where}: {o.text}"
    return o.text


def _tip(o: Observation, label: str) -> str:
    score = f" · score {o.score:.2f}" if o.score is not None else ""
    language = f" · {o.language}" if o.language else ""
    return f"{_span(o)} {o.stage}{score}{language}\n{label}"


def _detections(observations: list[Observation]) -> list[tuple[Observation, str, str]]:
    """Detections grouped per keyframe: one item per time with label counts."""
    by_time: dict[float, list[Observation]] = {}
    for o in observations:
        by_time.setdefault(o.start, []).append(o)
    out = []
    for time, group in by_time.items():
        counts: dict[str, int] = {}
        for o in group:
            counts[o.label or o.text] = counts.get(o.label or o.text, 0) + 1
        label = ", ".join(f"{n} {name}" if n > 1 else name for name, n in counts.items())
        details = "\n".join(f"{o.label or o.text}" + (f" {o.score:.2f}" if o.score is not None else "")
                            + (f" ({o.position})" if o.position else "") for o in group)
        out.append((Observation(stage="detection", start=time, text=label), label,
                    f"{clock(time)} detection · {len(group)} objects\n{details}"))
    return out


def _items(stage: str, observations: list[Observation], step: float, duration: float) -> list[Item]:
    """Observations as drawn items: instants last one keyframe step; equal consecutive texts join."""
    if stage == "detection":
        triples = _detections(observations)
        sizes = {}
        for o in observations:
            sizes[o.start] = sizes.get(o.start, 0) + 1
    else:
        triples = [(o, _label(o), _tip(o, _label(o))) for o in observations]
        sizes = None
    width = 0.0 if stage in MARKER_STAGES else step
    items: list[Item] = []
    for o, label, tip in triples:
        end = o.end if o.end is not None and o.end > o.start else min(duration, o.start + width)
        n = sizes[o.start] if sizes else 1
        last = items[-1] if items else None
        if (last and o.end is None and last.label == label and abs(last.end - o.start) < 1e-6
                and stage not in MARKER_STAGES):
            last.end, last.n = end, last.n + n
            last.tip = f"{clock(last.start)}–{clock(end, up=True)}{last.tip[last.tip.index(' '):]}"
            continue
        items.append(Item(o.start, max(end, o.start), label, tip, n))
    return items


def _pack(items: list[Item], max_rows: int) -> int:
    """Give each item a row so that items of a row do not overlap (at most ``max_rows``); returns rows used."""
    ends: list[float] = []
    for item in sorted(items, key=lambda i: (i.start, -i.end)):
        free = next((r for r, end in enumerate(ends) if end <= item.start + 1e-9), None)
        if free is None:
            if len(ends) < max_rows:
                free = len(ends)
                ends.append(0.0)
            else:
                free = min(range(len(ends)), key=ends.__getitem__)
        item.row, ends[free] = free, max(ends[free], item.end)
    return max(1, len(ends))


def _merge(items: list[Item], bucket: float) -> list[Item]:
    """Merge the items of each row that start less than ``bucket`` seconds after the first of their group.

    So the drawn items of a row start at least one bucket apart: about one per pixel column at most.
    """
    rows: dict[int, list[list[Item]]] = {}
    for item in sorted(items, key=lambda i: (i.row, i.start)):
        groups = rows.setdefault(item.row, [])
        if groups and item.start < groups[-1][0].start + bucket:
            groups[-1].append(item)
        else:
            groups.append([item])
    out: list[Item] = []
    for row, groups in rows.items():
        for group in groups:
            if len(group) == 1:
                out.append(group[0])
                continue
            n = sum(i.n for i in group)
            shown = "\n".join(_short(i.tip.replace("\n", " "), 90) for i in group[:4])
            more = f"\n… {len(group) - 4} more" if len(group) > 4 else ""
            out.append(Item(group[0].start, max(i.end for i in group), f"{_short(group[0].label, 40)} +{len(group) - 1}",
                            f"{n} observations\n{shown}{more}", n, row, merged=True))
    return out


def lane_order(stages: Iterable[str]) -> list[str]:
    """Known stages in :data:`LANES` order, then any other stage alphabetically."""
    known = list(LANES)
    return sorted(set(stages), key=lambda s: (known.index(s) if s in known else len(known), s))


def skipped_stages(notes: Iterable[Note]) -> dict[str, str]:
    """``stage -> why`` for the notes that say a stage was skipped (``asr -> "the video has no audio track"``)."""
    return {note.stage: note.why() for note in notes if note.stage}


def build_lanes(perception: Perception, stages: Iterable[str] = (), buckets: int = BUCKETS,
                max_rows: int = MAX_ROWS) -> list[Lane]:
    """One lane per stage that ran, was asked for (``stages``) or was skipped (with the reason).

    A note that a perception stage was skipped gives that stage's lane the reason.
    """
    duration = max(perception.video.duration, max((o.end or o.start for o in perception.observations), default=0),
                   1e-3)
    step = 1.0 / perception.fps_sampled if perception.fps_sampled > 0 else 1.0
    skipped = {s: why for s, why in skipped_stages(perception.notes).items() if s in STAGES or s in LANES}
    seen = {str(o.stage) for o in perception.observations}
    lanes = []
    for stage in lane_order(seen | set(skipped) | set(stages)):
        lane = Lane(stage, LANES.get(stage, stage.replace("_", " ").capitalize()))
        observations = perception.by_stage(stage)
        lane.count = len(observations)
        if observations:
            items = _items(stage, observations, step, duration)
            lane.rows = _pack(items, max_rows)
            lane.items = _merge(items, duration / buckets)
        else:
            lane.reason = skipped.get(stage, "ran, nothing found")
        lanes.append(lane)
    return lanes


def colour(stage: str) -> str:
    """The lane colour of ``stage`` (a stable hue for stages without one)."""
    if stage in COLOURS:
        return COLOURS[stage]
    hue = int(hashlib.sha256(stage.encode()).hexdigest()[:4], 16) / 0xFFFF
    r, g, b = colorsys.hls_to_rgb(hue, 0.42, 0.55)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _pct(t: float, duration: float) -> str:
    return f"{100 * t / duration:.3f}"


def _lane_html(lane: Lane, duration: float) -> str:
    row_h = 26
    head = (f'<div class="lname"><span class="swatch" style="background:{colour(lane.stage)}"></span>'
            f'{esc(lane.title)}<small>{lane.count}</small></div>')
    if lane.reason is not None:
        body = f'<div class="ltrack empty">{esc(lane.reason)}</div>'
    else:
        marker = " marker" if lane.stage in MARKER_STAGES else ""
        parts = [
            f'<div class="it{marker}{" group" if i.merged else ""}" data-t="{i.start:.3f}" data-n="{i.n}" '
            f'style="left:{_pct(i.start, duration)}%;width:{_pct(i.end - i.start, duration)}%;top:{i.row * row_h}px" '
            f'title="{esc(i.tip)}">{esc(_short(i.label, 140))}</div>'
            for i in lane.items
        ]
        body = (f'<div class="ltrack" style="height:{lane.rows * row_h}px;--c:{colour(lane.stage)}">'
                f'{"".join(parts)}<div class="playhead"></div></div>')
    return (f'<div class="lane" data-stage="{esc(lane.stage)}" data-count="{lane.count}"'
            f'{" data-skipped" if lane.reason is not None else ""}>{head}{body}</div>')


def _ticks(duration: float) -> str:
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600) if duration / s <= 12), 7200)
    return "".join(f'<a class="tick" href="#" data-t="{t}" style="left:{_pct(t, duration)}%">{clock(t)}</a>'
                   for t in range(0, int(duration) + 1, step))


def _thumbs(thumbnails: list[Thumbnail], duration: float) -> str:
    if not thumbnails:
        return ""
    width = 100 / len(thumbnails)
    cells = "".join(
        f'<img class="thumb" src="{t.data_uri()}" alt="keyframe at {clock(t.time)}" data-t="{t.time:.3f}" '
        f'title="{clock(t.time)}" style="left:{min(100 - width, max(0.0, 100 * t.time / duration - width / 2)):.3f}%;'
        f'width:{width:.3f}%">'
        for t in thumbnails)
    return (f'<div class="lane thumbs"><div class="lname">Keyframes<small>{len(thumbnails)}</small></div>'
            f'<div class="ltrack strip">{cells}<div class="playhead"></div></div></div>')


def link_times(text: str) -> str:
    """``text`` escaped, with each time it names (``0:03``, ``1:02:03``, ``second 5``) a link that seeks."""
    out, pos = [], 0
    for m in _TIMES.finditer(text):
        if m.group(4) is not None:
            seconds = float(m.group(4))
        else:
            seconds = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
        out += [esc(text[pos:m.start()]), f'<a class="ts" href="#" data-t="{seconds:g}">{esc(m.group(0))}</a>']
        pos = m.end()
    return "".join(out) + esc(text[pos:])


def _context_html(context: VideoContext) -> str:
    """The context's lines (:meth:`VideoContext.lines`, so the text is ``render()``'s), each entry's time prefix a seek link."""
    out = []
    for entry, text in context.lines():
        prefix = entry.prefix() if entry is not None else ""
        if entry is None or not (text == prefix or text.startswith(prefix + ": ")):
            out.append(esc(text))
            continue
        out.append(f'<a class="ts" href="#" data-t="{entry.start:g}">{esc(prefix)}</a>{esc(text[len(prefix):])}')
    return "\n".join(out)


def _qa_html(qa: list[QA]) -> str:
    if not qa:
        return ""
    items = "".join(f'<li><div class="q">{esc(x.question)}</div><div class="a">{link_times(x.answer)}</div></li>'
                    for x in qa)
    return f'<section><h2>Questions and answers</h2><ol class="qa">{items}</ol></section>'


def _models_html(perception: Perception) -> str:
    rows = "".join(
        f'<tr><td>{esc(m.role)}</td><td>{esc(m.name)}</td><td>{esc(m.backend or "")}</td>'
        f'<td><span class="badge {esc(m.weights)}">{esc(m.weights)} weights</span></td></tr>'
        for m in perception.models)
    return f'<table class="models"><tr><th>role</th><th>model</th><th>backend</th><th>weights</th></tr>{rows}</table>' \
        if rows else '<p class="muted">no model ran</p>'


def _chips(values: Mapping[str, object], unit: str = "") -> str:
    def text(v: object) -> str:
        return ", ".join(map(str, v)) if isinstance(v, (list, tuple, set)) else str(v)

    return "".join(f'<span class="chip"><b>{esc(k)}</b> {esc(text(v))}{unit}</span>' for k, v in values.items()
                   if v not in (None, "", [], (), {}))


def render_report(perception: Perception, context: VideoContext, qa: Iterable[QA] = (), video_href: str | None = None,
                  thumbnails: Iterable[Thumbnail] = (), settings: Mapping[str, object] | None = None,
                  title: str | None = None, buckets: int = BUCKETS) -> str:
    """The whole report as one HTML string (see the module docstring).

    ``video_href`` is the (already URL-quoted) address of the video relative to
    the report; ``settings`` are shown as given (e.g. fps, stages, device).
    """
    v = perception.video
    name = title or v.path.replace("\\", "/").rsplit("/", 1)[-1]
    duration = max(v.duration, max((o.end or o.start for o in perception.observations), default=0), 1e-3)
    lanes = build_lanes(perception, (settings or {}).get("stages", ()) or (), buckets=buckets)
    thumbs = sorted(thumbnails, key=lambda t: t.time)
    laned = {lane.stage for lane in lanes if lane.reason is not None}
    notes = [n.render() for n in perception.notes if n.stage not in laned]
    timings = {k: f"{t:.2f}" for k, t in perception.timings.items()}
    meta = {"video": name, "path": v.path, "duration": duration,
            "lanes": {lane.stage: lane.count for lane in lanes}}
    video = (f'<video id="video" controls preload="metadata" src="{esc(video_href)}"></video>'
             f'<p id="video-error" class="muted" hidden>This browser cannot play the video file; '
             f'the timeline and keyframes still work.</p>' if video_href else
             '<p class="muted">No video file linked to this report.</p>')
    facts = (f'{v.duration:.1f} s · {v.width}×{v.height} · {v.fps:g} fps · '
             f'{"audio" if v.has_audio else "no audio"} · keyframes at {perception.fps_sampled:g}/s')
    fields = {
        "title": esc(name),
        "facts": esc(facts),
        "generated": esc(datetime.now().strftime("%Y-%m-%d %H:%M")),
        "video": video,
        "models": _models_html(perception),
        "settings": _chips(settings or {"fps": perception.fps_sampled}),
        "timings": _chips(timings, " s") or '<span class="muted">cached or not recorded</span>',
        "notes": "".join(f"<li>{esc(n)}</li>" for n in notes),
        "ticks": _ticks(duration),
        "thumbs": _thumbs(thumbs, duration),
        "lanes": "".join(_lane_html(lane, duration) for lane in lanes),
        "qa": _qa_html(list(qa)),
        "context_lines": str(len(context.lines())),
        "context": _context_html(context),
        "data": script_json(meta),
    }
    js = _template("report.js")
    fields["js"] = js
    fields["js_hash"] = base64.b64encode(hashlib.sha256(js.encode()).digest()).decode()
    return _fill(_template("report.html"), fields)


def _template(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _fill(template: str, fields: Mapping[str, str]) -> str:
    """Replace each ``{{name}}`` of the template in one pass (a value is never scanned again)."""
    return re.sub(r"\{\{(\w+)\}\}", lambda m: fields[m.group(1)], template)


@dataclass
class IndexEntry:
    """One video of a batch index: its status, duration, timing and report (if one was written)."""

    video: str
    status: str
    duration: float | None = None
    seconds: float | None = None
    report_href: str | None = None
    error: str | None = None


def render_index(entries: Iterable[IndexEntry], title: str = "videochat reports") -> str:
    """An HTML index of a batch's reports: one row per video with status, duration and timing."""
    rows = []
    for e in entries:
        name = f'<a href="{esc(e.report_href)}">{esc(e.video)}</a>' if e.report_href else esc(e.video)
        rows.append(f'<tr class="{esc(e.status)}"><td>{name}</td><td><span class="status">{esc(e.status)}</span></td>'
                    f'<td>{"" if e.duration is None else f"{e.duration:.1f} s"}</td>'
                    f'<td>{"" if e.seconds is None else f"{e.seconds:.2f} s"}</td><td>{esc(e.error or "")}</td></tr>')
    return _fill(_template("report_index.html"), {"title": esc(title), "rows": "".join(rows),
                                                  "generated": esc(datetime.now().strftime("%Y-%m-%d %H:%M"))})
