"""Run every selected stage over one video and collect a :class:`~perceive.records.Perception`.

Stages that read the file itself (subtitles) run first. Keyframes are decoded once and each batch flows
through the frame stages in order (detection before dense captions, which caption the detected regions);
the audio track streams to the ASR stage in blocks (with ``concurrent_audio``, in a
thread beside the frame stages). Nothing held grows with the video's length but the
observations themselves. A stage whose model cannot be had (e.g.
offline without weights) is skipped with a note that says how to provide it.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from perceive.callbacks import PipelineCallbacks
from perceive.models import DEFAULT_STAGES, STAGES, ModelUnavailable, resolve, select_device
from perceive.records import Note, Observation, Perception, VideoInfo
from perceive.stage import AudioStage, FrameStage, SourceStage, Stage
from perceive.video import SAMPLE_RATE, AudioUnavailable, iter_audio, iter_keyframes, probe

PIPELINE_VERSION = 8
"""Part of every cache key: bump it when a change alters what the stages record."""
LONG_KEYFRAMES = 3600
"""Above this many keyframes to perceive, the user is told up front that it will take long."""

@dataclass
class PerceptionSettings:
    """What to run and how: the parts of it that change the output form the cache key."""

    fps: float = 1.0
    stages: tuple[str, ...] = DEFAULT_STAGES
    batch_size: int | None = None        # keyframes per batch; None: by device (perceive.profiles.BATCHES)
    max_side: int = 640
    scene_threshold: float | None = None
    max_seconds: float | None = None
    """Perceive only the first this many seconds of a video (None: all of it)."""
    device: str | None = None
    models: dict[str, str] = field(default_factory=dict)
    stage_options: dict[str, dict] = field(default_factory=dict)
    concurrent_audio: bool = True        # ASR in a thread beside the frame stages (False: one after the other)
    prefetch: int = 2                    # keyframe batches decoded ahead in a background thread (0: none)

    def __post_init__(self):
        unknown = [s for s in self.stages if s not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ValueError(f"--max-seconds must be above 0, not {self.max_seconds:g}")
        self.stages = tuple(s for s in STAGES if s in self.stages)

    def cache_key(self, stages: list[Stage], video: str | Path | None = None) -> str:
        """A digest of every setting and resolved model that shapes the observations, and of the files besides
        ``video`` that stages read (:meth:`~perceive.stage.Stage.inputs`, e.g. subtitle files)."""
        inputs = [i for s in stages if video is not None and (i := s.inputs(video))]
        payload = {
            **({"inputs": inputs} if inputs else {}),
            "version": PIPELINE_VERSION,
            "fps": self.fps, "stages": self.stages, "max_side": self.max_side,
            "scene": self.scene_threshold, "options": self.stage_options,
            **({"max_seconds": self.max_seconds} if self.max_seconds is not None else {}),
            "models": sorted((s.name, m.backend, m.location) for s in stages for m in s.specs() if m),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stage_class(name: str) -> type[Stage]:
    """Import the class that implements stage ``name``."""
    module, _, cls = STAGES[name][1].partition(":")
    return getattr(importlib.import_module(module), cls)


def build_stages(settings: PerceptionSettings) -> tuple[list[Stage], list[Note]]:
    """Instantiate the selected stages (models not loaded yet) and notes for those skipped."""
    device = select_device(settings.device)
    stages, notes = [], []
    for name in settings.stages:
        role = STAGES[name][0]
        try:
            spec = resolve(role, settings.models) if role else None
        except ModelUnavailable as exc:
            notes.append(Note.no_model(name, exc))
            continue
        cls = stage_class(name)
        helpers = {}
        for keyword, helper_role in cls.extra_roles.items():   # optional: missing helpers are None
            try:
                helpers[keyword] = resolve(helper_role, settings.models)
            except ModelUnavailable:
                helpers[keyword] = None
        stages.append(cls(spec, device, **helpers, **settings.stage_options.get(name, {})))
    return stages, notes


_shared: dict[str, tuple[list[Stage], list[Note]]] = {}


def shared_stages(settings: PerceptionSettings) -> tuple[list[Stage], list[Note]]:
    """This process's stages for ``settings``: built on first use, then reused (their models load once)."""
    key = repr(settings)
    if key not in _shared:
        _shared[key] = build_stages(settings)
    return _shared[key]


def missing_models_line(notes: list[Note]) -> list[str]:
    """The notes to print before an answer: the stages skipped for want of a model as ONE line, others rendered.

    ``offline: no weights for caption, dense_caption, action; `videochat models` says how to add them``;
    the full notes (which model, how to provide it) stay in ``videochat models``, ``--verbose`` and the
    perception record.
    """
    missing = [n.stage for n in notes if n.missing_model]
    rest = [n.render() for n in notes if not n.missing_model]
    if not missing:
        return rest
    return [f"offline: no weights for {', '.join(missing)}; `videochat models` says how to add them", *rest]


def perceive_video(path: str | Path, settings: PerceptionSettings | None = None,
                   stages: list[Stage] | None = None, notes: list[Note] | None = None,
                   callbacks: PipelineCallbacks | None = None, info: VideoInfo | None = None) -> Perception:
    """Run the perception pipeline on one video file.

    ``stages``/``notes`` may be passed pre-built (a batch reuses loaded models);
    otherwise they are built from ``settings``. ``callbacks`` hears about every
    step (progress, timing). ``info`` is the file's :func:`~perceive.video.probe`
    result when the caller already has it.
    """
    settings = settings or PerceptionSettings()
    info = info or probe(path)
    if stages is None:
        stages, notes = build_stages(settings)
    run = _Run(info, callbacks or PipelineCallbacks(), list(notes or []))
    for stage in stages:
        stage.start(info)
    run.hooks.on_video_start(info)
    limit = settings.max_seconds if settings.max_seconds is not None and settings.max_seconds < info.duration else None
    span = info.duration if limit is None else limit   # the seconds this run perceives
    keyframes = span * settings.fps
    if keyframes > LONG_KEYFRAMES and any(isinstance(s, FrameStage) for s in stages):
        run.hooks.on_note(f"{span / 3600:.1f} h of video at {settings.fps:g} fps is {keyframes:,.0f} keyframes "
                          "to perceive; this takes long on a CPU (--max-seconds or a lower --fps bounds it)")
    elif span > LONG_KEYFRAMES and info.has_audio and any(isinstance(s, AudioStage) for s in stages):
        run.hooks.on_note(f"{span / 3600:.1f} h of audio to transcribe; this takes long on a CPU "
                          "(--max-seconds bounds it)")

    for stage in (s for s in stages if isinstance(s, SourceStage)):   # the file itself: cheap, first
        run.step(stage, "process", 0, stage.process, info, limit)
        run.notes += stage.notes
        run.step(stage, "finish", 0, stage.finish)

    decoded: list[float] = []  # seconds of video the keyframes covered (an audio track may end early)
    audio_stages = [s for s in stages if isinstance(s, AudioStage)]
    frame_stages = [s for s in stages if isinstance(s, FrameStage)]
    run.span = span
    run.tracks = {name: 0.0 for name, present in (("audio", audio_stages and info.has_audio),
                                                 ("frames", frame_stages)) if present}
    audio_thread = None
    if settings.concurrent_audio and audio_stages:
        audio_thread = _Worker(lambda: _run_audio(run, audio_stages, info, limit))
    else:
        _run_audio(run, audio_stages, info, limit)

    try:
        if frame_stages:
            decoded.append(_run_frames(run, frame_stages, settings, info, limit, span))
    finally:
        if audio_thread is not None:
            audio_thread.join()
    run.hooks.on_progress("done", span, span)
    if span < info.duration:
        run.notes.append(Note(reason=f"perceived only the first {span:.1f} s of {info.duration:.1f} s (--max-seconds)"))
    if decoded and (note := truncation_note(max(decoded), span)):
        run.notes.append(note)

    run.observations.sort(key=lambda o: (o.start, list(STAGES).index(o.stage) if o.stage in STAGES else 99))
    infos = [m.info() for s in stages if s.name not in run.failed   # a stage without a model (shots) has none
             for m in s.specs() if m]
    models = list({(i.role, i.name): i for i in infos}.values())
    timings = dict(run.timings)
    if "audio" in timings:  # the ASR stage's time includes decoding its audio, as it always has
        timings["asr"] = timings.get("asr", 0.0) + timings.pop("audio")
    result = Perception(video=info, fps_sampled=settings.fps, models=models, observations=run.observations,
                        notes=run.notes, timings={k: round(v, 3) for k, v in timings.items()})
    run.hooks.on_video_end(result)
    return result


def _run_audio(run: _Run, stages: list[AudioStage], info: VideoInfo, limit: float | None) -> None:
    """Stream the audio track (its first ``limit`` seconds) through each audio stage, block by block."""
    total = limit or info.duration
    for stage in stages:
        run.progress("audio", stage.name, 0.0)
        try:
            blocks = iter_audio(info, max_seconds=limit)
        except AudioUnavailable as exc:
            run.notes.append(Note(stage=stage.name, reason=str(exc)))
            continue
        if blocks is None:
            run.notes.append(Note(stage=stage.name, reason="the video has no audio track"))
            continue
        heard = 0.0
        while True:
            t0 = time.perf_counter()
            block = next(blocks, None)
            run.add("audio", time.perf_counter() - t0)
            if block is None:
                break
            run.step(stage, "process", 0, stage.process, block)
            heard += len(block) / SAMPLE_RATE
            run.progress("audio", stage.name, min(heard, total))
        run.step(stage, "finish", 0, stage.finish)
    if stages:   # a track that could not be read counts as done
        run.progress("audio", stages[-1].name, total)


def _run_frames(run: _Run, stages: list[FrameStage], settings: PerceptionSettings, info: VideoInfo,
                limit: float | None, span: float) -> float:
    """Feed keyframe batches, decoded ahead in a background thread, through the frame stages in order;
    the seconds of video the keyframes covered."""
    from perceive.profiles import batch_size

    size = settings.batch_size or batch_size(stages[0].device, "frames")
    batches = iter_keyframes(info, settings.fps, size, settings.max_side, settings.scene_threshold,
                             max_seconds=limit)
    covered = 0.0
    t0 = time.perf_counter()
    for batch in prefetched(batches, settings.prefetch):
        run.add("frames", time.perf_counter() - t0)   # time spent waiting for the decoder
        earlier: list[Observation] = []
        for stage in stages:
            run.progress("frames", stage.name, batch[0].time)
            earlier += run.step(stage, "process", len(batch), stage.process, batch, earlier, keep=False)
        run.extend(earlier)
        covered = batch[-1].time + 1 / settings.fps
        t0 = time.perf_counter()
    for stage in stages:
        run.step(stage, "finish", 0, stage.finish)
    return covered


_DONE = object()


def prefetched(items: Iterator, depth: int) -> Iterator:
    """``items``, produced up to ``depth`` ahead by a background thread (memory stays bounded by ``depth``).

    An exception in the producer is raised here, at the item where it happened;
    a consumer that stops early stops the producer too.
    """
    if depth <= 0:
        yield from items
        return
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry) -> bool:
        """Put ``entry`` in the box unless the consumer has stopped; whether it went in."""
        while not stop.is_set():
            try:
                box.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    break
            else:
                offer((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            offer((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close:
                close()

    thread = threading.Thread(target=produce, name="decode-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = box.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()


class _Worker(threading.Thread):
    """Run a function in a thread; :meth:`join` re-raises what it raised."""

    def __init__(self, work):
        super().__init__(name="audio", daemon=True)
        self.work, self.error = work, None
        self.start()

    def run(self) -> None:
        try:
            self.work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in join
            self.error = exc

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise self.error


@dataclass
class _Run:
    """What one :func:`perceive_video` call collects, and the one place that times a stage's step."""

    video: VideoInfo
    hooks: PipelineCallbacks
    notes: list[Note]
    observations: list[Observation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    lock: threading.Lock = field(default_factory=threading.Lock)   # the audio thread may run beside
    span: float = 0.0                                               # the seconds of video this run perceives
    tracks: dict[str, float] = field(default_factory=dict)          # audio / frames -> seconds done
    failed: set[str] = field(default_factory=set)                  # stages whose model could not be loaded

    def progress(self, track: str, label: str, done: float) -> None:
        """``track`` (``audio`` or ``frames``) is at ``done`` seconds: report ``label`` at the whole run's position,
        the mean of every track's, so one bar (and its ETA) covers the whole video, ASR included."""
        with self.lock:
            self.tracks[track] = min(done, self.span)
            overall = sum(self.tracks.values()) / len(self.tracks)
        self.hooks.on_progress(label, overall, self.span)

    def add(self, name: str, seconds: float) -> None:
        with self.lock:
            self.timings[name] = self.timings.get(name, 0.0) + seconds

    def extend(self, observations: list[Observation]) -> None:
        with self.lock:
            self.observations += observations

    def step(self, stage: Stage, step: str, frames: int, work, *args, keep: bool = True) -> list[Observation]:
        """Run ``work(*args)`` as ``stage``'s ``step``, timed and reported; its observations are kept (or returned).

        A stage whose model turns out unavailable when it loads (a hub download without a network) is
        skipped from then on, with the note that says how to provide it."""
        if stage.name in self.failed:
            return []
        self.hooks.on_stage_start(stage, step, frames)
        t0 = time.perf_counter()
        try:
            out = work(*args)
        except ModelUnavailable as exc:
            with self.lock:   # the note is shown with the others (chat.api.context_of)
                self.failed.add(stage.name)
                self.notes.append(Note.no_model(stage.name, exc))
            return []
        seconds = time.perf_counter() - t0
        self.add(stage.name, seconds)
        self.hooks.on_stage_end(stage, step, seconds, out)
        if keep:
            self.extend(out)
        return out


def truncation_note(decoded: float, declared: float) -> Note | None:
    """A note when the decoded keyframes cover much less than the declared duration, else None.

    Only the keyframes count: an audio track may end before the video does.
    """
    if declared - decoded <= max(2.0, 0.1 * declared):
        return None
    return Note(reason=f"decoded {min(decoded, declared):.1f} s of {declared:.1f} s: the file looks truncated")
