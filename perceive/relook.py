"""A second look at a stretch of the video: OCR and detection again, at a higher frame rate, within a time budget.

The first perception samples keyframes at 1 per second, so text or an object on
screen for less than a second between two keyframes is never seen. When a
question names a time or a span (``at 0:05``, ``between 1:00 and 1:10``, ``at
the end``), :func:`relook_windows` decodes that span again at :attr:`Relook.fps` (4 by
default), with ffmpeg seeking to it, and runs the question-relevant frame stages
on the new keyframes only (those the first pass already saw are skipped):

* ``ocr`` reads every new keyframe (its change gate and interval are off: the
  point is to read what the 1-fps gate passed over);
* ``detection`` sees every new keyframe; its track summaries are left out (the
  re-look's track ids are its own, not the first pass's).

The work is bounded: decoding and the stages stop once :attr:`Relook.seconds`
of wall time are spent, and the result's notes say how far the re-look got.
Progress goes to the callbacks as ``re-look ...`` lines. Results are cached per
span in the perception cache, keyed by the video's content hash, the span and
every setting that shapes them; a look cut short by the budget is not cached.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from perceive.cache import cache_dir, write_atomic
from perceive.callbacks import PipelineCallbacks
from perceive.pipeline import PerceptionSettings, build_stages
from perceive.records import Note, Observation, Perception, VideoInfo
from perceive.stage import FrameStage
from perceive.video import iter_keyframes

RELOOK_VERSION = 1
"""Part of every re-look cache key: bump it when a change alters what a re-look records."""
RELOOK_STAGES = ("detection", "ocr")
"""The frame stages a re-look runs again (those of the first pass's stages that are among these)."""


@dataclass(frozen=True)
class Relook:
    """How a second look is taken: its frame rate, its time budget, and the margin around a named moment."""

    fps: float = 4.0
    seconds: float = 20.0
    """At most this many seconds of work (decoding and stages) per question; 0 turns the re-look off."""
    margin: float = 0.5
    """A named moment ("at 0:05", the second ``[5, 6)``) is looked at from this much before to this much after it."""
    batch: int = 2
    """Keyframes per batch: the budget is checked between batches."""

    @property
    def tag(self) -> str:
        """How context entries from a re-look are marked: ``re-look 4 fps``."""
        return f"re-look {self.fps:g} fps"


NO_RELOOK = Relook(seconds=0.0)
"""No second look (``describe``: its prompt's example time names no span to look at)."""


@dataclass(frozen=True)
class Window:
    """A stretch of the video to look at again, in seconds."""

    start: float
    end: float


def windows(spans: list[tuple[float, float, bool]], duration: float, margin: float) -> list[Window]:
    """The windows to re-look for question spans ``(start, end, is_a_moment)``, inside ``[0, duration]``:
    moments widened by ``margin`` on each side, overlapping windows joined, in time order."""
    out: list[Window] = []
    for start, end, moment in sorted(spans):
        pad = margin if moment else 0.0
        start, end = max(0.0, start - pad), min(duration, end + pad)
        if end <= start:
            continue
        if out and start <= out[-1].end:
            out[-1] = Window(out[-1].start, max(out[-1].end, end))
        else:
            out.append(Window(start, end))
    return out


def relook_settings(settings: PerceptionSettings, relook: Relook) -> PerceptionSettings:
    """The first pass's settings, restricted to the re-look stages, sampled at the re-look's rate, OCR reading every
    keyframe."""
    options = {name: dict(values) for name, values in settings.stage_options.items()}
    options["ocr"] = {**options.get("ocr", {}), "interval": 0.0, "change_threshold": 0.0}
    stages = tuple(s for s in settings.stages if s in RELOOK_STAGES)
    return replace(settings, fps=relook.fps, stages=stages, stage_options=options, scene_threshold=None,
                   batch_size=relook.batch, prefetch=0)


def cache_file(info: VideoInfo, window: Window, key: str) -> Path:
    """Where the re-look of ``window`` is cached: beside the perceptions, under the video's hash and a digest of
    the window and the re-look's settings key ``key`` (its stages, models, options and rate)."""
    payload = {"version": RELOOK_VERSION, "settings": key, "window": asdict(window)}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{info.content_hash}-relook-{digest}.json"


def relook_windows(info: VideoInfo, windows_: list[Window], settings: PerceptionSettings,
                   relook: Relook | None = None, callbacks: PipelineCallbacks | None = None,
                   use_cache: bool = True) -> Perception:
    """The observations of a second look at ``windows_`` of the video ``info`` describes (see the module docstring).

    The result is a :class:`Perception` sampled at the re-look's rate whose notes say what was looked at
    and whether the budget ran out, and whose ``timings["relook"]`` is the seconds this call took. A window already looked at (same video, window and settings) comes from
    the cache; the budget is shared by all the windows, in time order.
    """
    relook = relook or Relook()
    hooks = callbacks or PipelineCallbacks()
    focused = relook_settings(settings, relook)
    first_fps = settings.fps
    stages, _ = build_stages(focused)   # a stage skipped for want of a model was noted by the first pass
    notes: list[Note] = []
    frame_stages = [s for s in stages if isinstance(s, FrameStage)]
    key = focused.cache_key(stages)
    observations: list[Observation] = []
    began = time.perf_counter()
    deadline = began + relook.seconds
    for window in windows_:
        path = cache_file(info, window, key)
        if use_cache and path.exists():
            part = Perception.model_validate_json(path.read_text())
        else:
            part, spent = _look(info, window, focused, frame_stages, first_fps, relook, deadline, hooks)
            if not spent:   # a cut-short look is not kept
                write_atomic(path, part.model_dump_json())
        observations += part.observations
        notes += part.notes
    hooks.on_progress("done", 1.0, 1.0)
    for note in notes:
        hooks.on_note(note.render(), kind="info")
    infos = [m.info() for s in frame_stages for m in s.specs() if m]
    return Perception(video=info, fps_sampled=relook.fps, models=list({(i.role, i.name): i for i in infos}.values()),
                      observations=sorted(observations, key=lambda o: o.start), notes=notes,
                      timings={"relook": round(time.perf_counter() - began, 3)})


BUDGET_NOTE = "re-look budget spent"


def _look(info: VideoInfo, window: Window, settings: PerceptionSettings, stages: list[FrameStage], first_fps: float,
          relook: Relook, deadline: float, hooks: PipelineCallbacks) -> tuple[Perception, bool]:
    """Run ``stages`` on the keyframes of ``window`` that the first pass (at ``first_fps``) did not see; and
    whether the budget ran out before the window's end."""
    label = f"{relook.tag} {window.start:.1f}-{window.end:.1f} s"
    for stage in stages:
        stage.start(info)
    out: list[Observation] = []
    reached, spent = window.start, False
    batches = iter_keyframes(info, relook.fps, relook.batch, settings.max_side, max_seconds=window.end,
                             start=window.start)
    try:
        for batch in batches:
            if time.perf_counter() >= deadline:
                spent = True
                break
            new = [f for f in batch if f.time < window.end and not _seen(f.time, first_fps)]
            hooks.on_progress(label, batch[0].time - window.start, window.end - window.start)
            earlier: list[Observation] = []
            for stage in stages:
                earlier += stage.process(new, earlier) if new else []
            out += earlier
            reached = batch[-1].time + 1 / relook.fps
    finally:
        batches.close()
    for stage in stages:
        out += stage.finish()
    kept = [o for o in out if o.stage != "track"]
    note = f"{relook.tag}: looked again at {window.start:.1f}-{min(reached, window.end):.1f} s"
    if spent:
        note = f"{BUDGET_NOTE} ({relook.seconds:g} s): {note} of {window.start:.1f}-{window.end:.1f} s"
    return Perception(video=info, fps_sampled=relook.fps, observations=kept, notes=[Note(reason=note)]), spent


def _seen(time_: float, fps: float) -> bool:
    """Whether a first pass sampling at ``fps`` had a keyframe at ``time_``."""
    step = time_ * fps
    return abs(step - round(step)) < 1e-3
