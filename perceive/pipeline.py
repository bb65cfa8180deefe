"""Run every selected stage over one video and collect a :class:`~perceive.records.Perception`.

Keyframes are decoded once and each batch flows through the frame stages in
order (detection before dense captions, which caption the detected regions);
the audio track goes to the ASR stage. A stage whose model cannot be had (e.g.
offline without weights) is skipped with a note that says how to provide it.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from perceive.callbacks import PipelineCallbacks
from perceive.models import STAGES, ModelUnavailable, no_model_note, resolve, select_device, skipped_for_model
from perceive.records import Observation, Perception, VideoInfo
from perceive.stage import AudioStage, FrameStage, Stage
from perceive.video import iter_keyframes, load_audio, probe

PIPELINE_VERSION = 3
"""Part of every cache key: bump it when a change alters what the stages record."""

@dataclass
class PerceptionSettings:
    """What to run and how: the parts of it that change the output form the cache key."""

    fps: float = 1.0
    stages: tuple[str, ...] = tuple(STAGES)
    batch_size: int = 8
    max_side: int = 640
    scene_threshold: float | None = None
    device: str | None = None
    models: dict[str, str] = field(default_factory=dict)
    stage_options: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self):
        unknown = [s for s in self.stages if s not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
        self.stages = tuple(s for s in STAGES if s in self.stages)

    def cache_key(self, stages: list[Stage]) -> str:
        """A digest of every setting and resolved model that shapes the observations."""
        payload = {
            "version": PIPELINE_VERSION,
            "fps": self.fps, "stages": self.stages, "max_side": self.max_side,
            "scene": self.scene_threshold, "options": self.stage_options,
            "models": sorted((s.name, s.spec.backend, s.spec.location) for s in stages if s.spec),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stage_class(name: str) -> type[Stage]:
    """Import the class that implements stage ``name``."""
    module, _, cls = STAGES[name][1].partition(":")
    return getattr(importlib.import_module(module), cls)


def build_stages(settings: PerceptionSettings) -> tuple[list[Stage], list[str]]:
    """Instantiate the selected stages (models not loaded yet) and notes for those skipped."""
    device = select_device(settings.device)
    stages, notes = [], []
    for name in settings.stages:
        role = STAGES[name][0]
        try:
            spec = resolve(role, settings.models) if role else None
        except ModelUnavailable as exc:
            notes.append(no_model_note(name, exc))
            continue
        stages.append(stage_class(name)(spec, device, **settings.stage_options.get(name, {})))
    return stages, notes


_shared: dict[str, tuple[list[Stage], list[str]]] = {}


def shared_stages(settings: PerceptionSettings) -> tuple[list[Stage], list[str]]:
    """This process's stages for ``settings``: built on first use, then reused (their models load once)."""
    key = repr(settings)
    if key not in _shared:
        _shared[key] = build_stages(settings)
    return _shared[key]


def missing_models_line(notes: list[str]) -> list[str]:
    """The notes to print before an answer: the stages skipped for want of a model as ONE line, others as they are.

    ``offline: no weights for caption, dense_caption, action; `videochat models` says how to add them``;
    the full notes (which model, how to provide it) stay in ``videochat models``, ``--verbose`` and the
    perception record.
    """
    missing = [stage for n in notes if (stage := skipped_for_model(n))]
    rest = [n for n in notes if not skipped_for_model(n)]
    if not missing:
        return rest
    return [f"offline: no weights for {', '.join(missing)}; `videochat models` says how to add them", *rest]


def perceive_video(path: str | Path, settings: PerceptionSettings | None = None,
                   stages: list[Stage] | None = None, notes: list[str] | None = None,
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

    for stage in (s for s in stages if isinstance(s, AudioStage)):
        run.hooks.on_progress(stage.name, 0.0, info.duration)
        t0 = time.perf_counter()
        audio = load_audio(info)
        if audio is None:
            run.notes.append(f"{stage.name} skipped: the video has no audio track")
            continue
        run.add("audio", time.perf_counter() - t0)
        run.step(stage, "process", 0, stage.process, audio)
        run.step(stage, "finish", 0, stage.finish)

    frame_stages = [s for s in stages if isinstance(s, FrameStage)]
    if frame_stages:
        t0 = time.perf_counter()
        for batch in iter_keyframes(info, settings.fps, settings.batch_size, settings.max_side,
                                    settings.scene_threshold):
            run.add("frames", time.perf_counter() - t0)
            earlier: list[Observation] = []
            for stage in frame_stages:
                run.hooks.on_progress(stage.name, batch[0].time, info.duration)
                earlier += run.step(stage, "process", len(batch), stage.process, batch, earlier, keep=False)
            run.observations += earlier
            t0 = time.perf_counter()
        for stage in frame_stages:
            run.step(stage, "finish", 0, stage.finish)
    run.hooks.on_progress("done", info.duration, info.duration)

    run.observations.sort(key=lambda o: (o.start, list(STAGES).index(o.stage) if o.stage in STAGES else 99))
    infos = [s.info() for s in stages if s.spec]   # a stage without a model (shots) has no model record
    models = list({(i.role, i.name): i for i in infos}.values())
    timings = dict(run.timings)
    if "audio" in timings:  # the ASR stage's time includes decoding its audio, as it always has
        timings["asr"] = timings.get("asr", 0.0) + timings.pop("audio")
    result = Perception(video=info, fps_sampled=settings.fps, models=models, observations=run.observations,
                        notes=run.notes, timings={k: round(v, 3) for k, v in timings.items()})
    run.hooks.on_video_end(result)
    return result


@dataclass
class _Run:
    """What one :func:`perceive_video` call collects, and the one place that times a stage's step."""

    video: VideoInfo
    hooks: PipelineCallbacks
    notes: list[str]
    observations: list[Observation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + seconds

    def step(self, stage: Stage, step: str, frames: int, work, *args, keep: bool = True) -> list[Observation]:
        """Run ``work(*args)`` as ``stage``'s ``step``, timed and reported; its observations are kept (or returned)."""
        self.hooks.on_stage_start(stage, step, frames)
        t0 = time.perf_counter()
        out = work(*args)
        seconds = time.perf_counter() - t0
        self.add(stage.name, seconds)
        self.hooks.on_stage_end(stage, step, seconds, out)
        if keep:
            self.observations += out
        return out
