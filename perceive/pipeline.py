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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from perceive.models import STAGES, ModelUnavailable, resolve, select_device
from perceive.records import Observation, Perception, VideoInfo
from perceive.stage import AudioStage, FrameStage, Stage
from perceive.video import iter_keyframes, load_audio, probe

PIPELINE_VERSION = 3
"""Part of every cache key: bump it when a change alters what the stages record."""

ProgressFn = Callable[[str, float, float], None]
"""Called as ``progress(label, done_seconds, total_seconds)`` while a video is processed."""


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
            notes.append(f"{name} skipped: model not available; {exc}")
            continue
        stages.append(stage_class(name)(spec, device, **settings.stage_options.get(name, {})))
    return stages, notes


def missing_models_line(notes: list[str]) -> list[str]:
    """The notes to print before an answer: the stages skipped for want of a model as ONE line, others as they are.

    ``offline: no weights for caption, dense_caption, action; `videochat models` says how to add them``;
    the full notes (which model, how to provide it) stay in ``videochat models`` and the perception record.
    """
    missing = [n.split(" skipped", 1)[0] for n in notes if " skipped: model not available" in n]
    rest = [n for n in notes if " skipped: model not available" not in n]
    if not missing:
        return rest
    return [f"offline: no weights for {', '.join(missing)}; `videochat models` says how to add them", *rest]


def perceive_video(path: str | Path, settings: PerceptionSettings | None = None,
                   stages: list[Stage] | None = None, notes: list[str] | None = None,
                   progress: ProgressFn | None = None, info: VideoInfo | None = None) -> Perception:
    """Run the perception pipeline on one video file.

    ``stages``/``notes`` may be passed pre-built (a batch reuses loaded models);
    otherwise they are built from ``settings``. ``info`` is the file's
    :func:`~perceive.video.probe` result when the caller already has it.
    """
    settings = settings or PerceptionSettings()
    info = info or probe(path)
    if stages is None:
        stages, notes = build_stages(settings)
    notes = list(notes or [])
    timings: dict[str, float] = {}
    observations: list[Observation] = []
    report = progress or (lambda *_: None)

    for stage in (s for s in stages if isinstance(s, AudioStage)):
        report(stage.name, 0.0, info.duration)
        t0 = time.perf_counter()
        audio = load_audio(info)
        if audio is None:
            notes.append(f"{stage.name} skipped: the video has no audio track")
            continue
        observations += stage.transcribe(audio)
        timings[stage.name] = timings.get(stage.name, 0.0) + time.perf_counter() - t0

    frame_stages = [s for s in stages if isinstance(s, FrameStage)]
    if frame_stages:
        t0 = time.perf_counter()
        for batch in iter_keyframes(info, settings.fps, settings.batch_size, settings.max_side,
                                    settings.scene_threshold):
            timings["frames"] = timings.get("frames", 0.0) + time.perf_counter() - t0
            earlier: list[Observation] = []
            for stage in frame_stages:
                report(stage.name, batch[0].time, info.duration)
                t1 = time.perf_counter()
                earlier += stage.process(batch, earlier)
                timings[stage.name] = timings.get(stage.name, 0.0) + time.perf_counter() - t1
            observations += earlier
            t0 = time.perf_counter()
        for stage in frame_stages:
            t1 = time.perf_counter()
            observations += stage.finish()
            timings[stage.name] = timings.get(stage.name, 0.0) + time.perf_counter() - t1
    report("done", info.duration, info.duration)

    observations.sort(key=lambda o: (o.start, list(STAGES).index(o.stage) if o.stage in STAGES else 99))
    infos = [s.info() for s in stages if s.spec]
    models = list({(i.role, i.name): i for i in infos}.values())
    return Perception(video=info, fps_sampled=settings.fps, models=models,
                      observations=observations, notes=notes,
                      timings={k: round(v, 3) for k, v in timings.items()})


def settings_summary(settings: PerceptionSettings) -> dict:
    """The settings as plain data (for JSONL and the bench)."""
    return asdict(settings)
