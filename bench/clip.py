"""Benchmark one clip in this process: textualize it stage by stage, then ask about it.

Run by ``python -m bench`` in a fresh subprocess per clip, so that the peak RSS
(``ru_maxrss``) belongs to that clip alone::

    python -m bench.clip VIDEO --spec '{"models": {...}, "questions": [...]}' --out clip.json
    python -m bench.clip VIDEO --spec ... --out ask.json --cached-ask

The second form is the "second question about a cached video" case: a new
process whose perception cache already holds the video, as when ``videochat
ask`` runs again on it.
"""
from __future__ import annotations

import argparse
import time

_T0 = time.perf_counter()

import sys  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from pydantic import BaseModel  # noqa: E402

from bench.measure import Meter, Phase, peak_rss_mb  # noqa: E402
from bench.records import AskRun, ClipRun, Question, StageRow  # noqa: E402
from perceive.callbacks import PipelineCallbacks  # noqa: E402 - no heavy imports


class ClipSpec(BaseModel):
    """What to run on a clip: model overrides, sampling rate, questions, answer length."""

    models: dict[str, str] = {}
    fps: float = 1.0
    stages: list[str] | None = None
    device: str | None = None
    questions: list[str] = []
    max_tokens: int = 64
    cleanup: bool = True
    profile: str | None = None
    batch_size: int | None = None

    def settings(self):
        """The perception settings of this spec: the profile's, then the explicit fields."""
        from perceive.models import DEFAULT_STAGES
        from perceive.pipeline import PerceptionSettings
        from perceive.profiles import profile

        values = profile(self.profile)
        values["fps"] = self.fps
        if self.batch_size:
            values["batch_size"] = self.batch_size
        return PerceptionSettings(stages=tuple(self.stages or DEFAULT_STAGES), device=self.device, models=dict(self.models),
                                  **values)


class StageMeter(PipelineCallbacks):
    """Pipeline callbacks that measure every step of every stage as meter phase ``stage.name``.

    ``counts`` gets the keyframes each stage saw, ``threads`` the torch thread
    count its last step started with (ultralytics lowers it after its first prediction).
    """

    def __init__(self, meter: Meter):
        self.meter, self.counts, self.threads = meter, Counter(), {}
        self._open: dict = {}   # (stage, step) -> its open phase; ASR may run in a thread beside the others

    def on_stage_start(self, stage, step: str, frames: int) -> None:
        import torch

        if frames:
            self.counts[stage.name] += frames
        if step != "finish":
            self.threads[stage.name] = torch.get_num_threads()
        phase = self.meter.phase(stage.name)
        phase.__enter__()
        self._open[stage.name, step] = phase

    def on_stage_end(self, stage, step: str, seconds: float, observations) -> None:
        self._open.pop((stage.name, step)).__exit__(None, None, None)


def textualize(video: Path, spec: ClipSpec, meter: Meter) -> ClipRun:
    """Load the stages' models, perceive ``video`` (filling the cache) and build its context, all measured.

    Models load up front, one by one, so each load is timed apart; the ASR
    model is not loaded for a video without audio (the pipeline never would).
    """
    from chat import api
    from perceive.models import STAGES
    from perceive.pipeline import PerceptionSettings, shared_stages
    from perceive.stage import AudioStage
    from perceive.video import probe

    settings = spec.settings()
    with meter.phase("setup"):  # resolving models, choosing the device (imports torch)
        stages, _ = shared_stages(settings)   # the very stages the front door runs
        has_audio = probe(video).has_audio
    for stage in stages:
        if has_audio or not isinstance(stage, AudioStage):
            with meter.phase(f"load:{stage.name}"):
                stage.model  # noqa: B018 - loads and caches the model
    hooks = StageMeter(meter)
    with meter.phase("perception"):
        perception = api.perceive(video, settings, use_cache=False, callbacks=hooks)
    counts, threads = hooks.counts, hooks.threads
    with meter.phase("context"):
        api.context_of(perception, settings, cleanup=False).render()

    info = perception.video
    work = [p for name, p in meter.phases.items() if name.startswith("load:")]
    work += [meter.phases["setup"], meter.phases["perception"], meter.phases["context"]]
    return ClipRun(clip=video.name, duration=info.duration, resolution=f"{info.width}x{info.height}",
                   has_audio=info.has_audio, keyframes=max(counts.values(), default=0),
                   stages=stage_rows(perception, stages, meter, counts, threads),
                   textualize_s=round(sum(p.seconds for p in work), 3),
                   textualize_cpu_s=round(sum(p.cpu_s for p in work), 3), notes=[n.render() for n in perception.notes])


def stage_rows(perception, stages, meter: Meter, counts: Counter, threads: dict[str, int]) -> list[StageRow]:
    """The table rows: decoding (from the pipeline's timings), every stage, context building."""
    from perceive.models import select_device

    duration = perception.video.duration
    asr, setup = meter.phases.get("asr", Phase()), meter.phases["setup"]
    rows = [StageRow(stage="setup", wall_s=round(setup.seconds, 3), cpu_s=round(setup.cpu_s, 3),
                     rss_peak_mb=round(setup.rss_peak_mb)),
            StageRow(stage="decode frames", wall_s=round(perception.timings.get("frames", 0.0), 3),
                     frames=max(counts.values(), default=None), video_s=duration),
            StageRow(stage="decode audio", wall_s=round(perception.timings.get("asr", 0.0) - asr.seconds, 3),
                     video_s=duration)]
    rows = [r for r in rows if r.wall_s > 0]
    for stage in stages:
        load, run = meter.phases.get(f"load:{stage.name}", Phase()), meter.phases.get(stage.name, Phase())
        model = stage.info()
        rows.append(StageRow(stage=stage.name, model=model.name if model else "-",
                             weights=model.weights if model else "",
                             device=select_device(stage.device), threads=threads.get(stage.name),
                             load_s=round(load.seconds, 3), wall_s=round(run.seconds, 3), cpu_s=round(run.cpu_s, 3),
                             frames=counts.get(stage.name), video_s=duration if run.calls else 0.0,
                             rss_load_mb=round(load.rss_delta_mb),
                             rss_peak_mb=round(max(load.rss_peak_mb, run.rss_peak_mb))))
    ctx = meter.phases["context"]
    rows.append(StageRow(stage="context", wall_s=round(ctx.seconds, 3), cpu_s=round(ctx.cpu_s, 3),
                         video_s=duration, rss_peak_mb=round(ctx.rss_peak_mb)))
    return rows


def ask(video: Path, spec: ClipSpec, meter: Meter, label: str) -> AskRun:
    """Run ``videochat ask``'s steps on ``video``: LLM, perception (cache), cleanup, context, the entries'
    embeddings (kept with the cached perception), questions."""
    from chat import api
    from chat.llm import LLMSettings, load_llm
    from perceive.models import STAGES, ModelUnavailable
    from perceive.pipeline import PerceptionSettings
    from prompting.cleanup import Cleanup

    run = AskRun(label=label)
    with meter.phase("llm load") as p:
        llm = load_llm(spec.models, LLMSettings(max_tokens=spec.max_tokens))
    run.llm_load_s, run.llm = round(p.seconds, 3), llm.describe()
    settings = spec.settings()
    with meter.phase("ask perception") as p:
        perception = api.perceive(video, settings)
    run.perception_s = round(p.seconds, 3)
    cleanup = spec.cleanup
    if cleanup:
        try:
            with meter.phase("cleanup load") as p:
                cleaner = Cleanup.from_registry(spec.models, spec.device or "cpu")
                cleaner.model  # noqa: B018 - load it now (once per process), to time it apart
            run.cleanup_load_s, run.cleanup = round(p.seconds, 3), cleaner.spec.info().describe()
        except ModelUnavailable as exc:
            run.cleanup, cleanup = f"skipped: {exc}", False
    torch = sys.modules.get("torch")  # imported by whatever step needed it, never by the bench itself
    run.torch_threads = torch.get_num_threads() if torch else None
    with meter.phase("ask context") as p:
        context = api.context_of(perception, settings, cleanup=cleanup)
        context.render()
    run.context_s = round(p.seconds, 3)
    with meter.phase("ask embeddings") as p:
        session = api.chat_about(context, llm, settings, perception=perception)
        if session.embedder is not None:
            session.embedder.model  # noqa: B018 - loaded now (once per process), to time it here
    run.embed_s = round(p.seconds, 3)
    for question in spec.questions:
        run.questions.append(timed_question(session, question))
    run.peak_rss_mb = round(peak_rss_mb())
    return run


def timed_question(session, question: str) -> Question:
    """Ask ``question`` in ``session``, timing the first streamed piece and the whole answer."""
    start = time.perf_counter()
    first: list[float] = []

    def on_token(_piece: str) -> None:
        if not first:
            first.append(time.perf_counter() - start)

    answer = session.ask(question, on_token=on_token)
    elapsed = time.perf_counter() - start
    prompt = sum(session.llm.count_tokens(str(m.content)) for m in session.last_messages)
    timings = getattr(getattr(session.llm.model, "engine", None), "last_timings", {})
    evaluated = timings.get("prompt_n", 0) > 1   # one token means the prompt came from the cache
    return Question(question=question, answer=answer, first_token_s=round(first[0], 3) if first else None,
                    answer_s=round(elapsed, 3), answer_tokens=session.llm.count_tokens(answer),
                    prompt_tokens=prompt,
                    prompt_tok_s=round(timings["prompt_per_second"], 1) if evaluated else None,
                    prompt_eval_s=round(timings["prompt_ms"] / 1000, 3) if evaluated and "prompt_ms" in timings
                    else None,
                    answer_tok_s=round(timings["predicted_per_second"], 1) if timings.get("predicted_n", 0) > 1
                    else None)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the per-clip subprocess; writes a :class:`ClipRun` (or :class:`AskRun`) as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--spec", default="{}", help="ClipSpec as JSON")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cached-ask", action="store_true", help="only ask, in this new process (cache warm)")
    args = parser.parse_args(argv)
    spec = ClipSpec.model_validate_json(args.spec)
    meter = Meter()
    import chat.api  # noqa: F401 - what every videochat command imports; torch comes when needed
    import perceive.pipeline  # noqa: F401
    import_s = round(time.perf_counter() - _T0, 3)
    if args.cached_ask:
        result = ask(args.video, spec, meter, "new process, cached video")
        result.import_s = import_s
    else:
        result = textualize(args.video, spec, meter)
        result.import_s = import_s
        if spec.questions:
            result.ask = ask(args.video, spec, meter, "same process, after textualize")
        result.peak_rss_mb = round(peak_rss_mb())
    args.out.write_text(result.model_dump_json(indent=1))


if __name__ == "__main__":
    sys.exit(main())
