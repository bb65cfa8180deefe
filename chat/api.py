"""The front door: every use case, from a video file to an answer, written out once.

Like whisper's ``transcribe()``, these functions are what the command line,
the batch engine and the bench call; none of them assembles the steps itself::

    from chat import api
    context = api.build_context("clip.mp4")             # a typed VideoContext
    german = api.build_context("de.mp4", api.perception_settings(translate=True))   # + English translations
    print(context.render())                              # what `videochat context` prints
    answer = api.ask("clip.mp4", "What happens at 0:05?", on_token=print)
    api.textualize(["videos/"], "out.jsonl")             # one JSON line per video

The path is always the same: perception (cached) -> cleanup (when its model is
available, unless ``cleanup=False``) -> :class:`~prompting.context.VideoContext`
-> fitted to the LLM's window per question -> answer with a cited time.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from batch.records import Job, Report, StageEvent, TextualizedVideo
from perceive.callbacks import PipelineCallbacks
from perceive.pipeline import PerceptionSettings, shared_stages
from perceive.records import Perception, printable
from prompting.context import VideoContext

Pieces = Callable[[str], None]


def perception_settings(*, profile: str | None = None, fps: float | None = None,
                        stages: tuple[str, ...] | None = None, device: str | None = None,
                        models: dict[str, str] | None = None, scene: float | None = None,
                        batch_size: int | None = None, translate: bool = False,
                        max_seconds: float | None = None, ocr_interval: float | None = None,
                        subtitles: str | Path | None = None) -> PerceptionSettings:
    """The :class:`PerceptionSettings` of a use case (what ``--profile``, ``--fps`` ... ``--translate`` ask for).

    The profile's settings (:mod:`perceive.profiles`) come first; every value given
    explicitly overrides them; ``max_seconds`` perceives only the start of a long video. ``translate`` asks the ASR stage for Whisper's English
    translation of non-English speech, shown beside the original as ``(English translation)``
    lines (it needs a multilingual ASR model; the translation is part of the cache key).
    ``ocr_interval`` is the OCR stage's ``interval`` (:class:`~perceive.ocr.OcrStage`); ``subtitles``
    names the subtitle file to read instead of searching beside the video (:mod:`perceive.subtitles`).
    """
    from perceive.models import DEFAULT_STAGES
    from perceive.profiles import profile as profile_settings

    values = profile_settings(profile)
    flags = {"fps": fps, "batch_size": batch_size, "scene_threshold": scene, "max_seconds": max_seconds}
    values.update({k: v for k, v in flags.items() if v is not None})
    if ocr_interval is not None:
        if not ocr_interval > 0:
            raise ValueError(f"--ocr-interval must be above 0, not {ocr_interval:g}")
        values.setdefault("stage_options", {}).setdefault("ocr", {})["interval"] = ocr_interval
    if subtitles is not None:
        if not Path(subtitles).is_file():
            raise FileNotFoundError(f"{subtitles}: no such subtitle file")
        values.setdefault("stage_options", {}).setdefault("subtitles", {})["path"] = str(Path(subtitles).resolve())
    settings = PerceptionSettings(stages=tuple(stages) if stages else DEFAULT_STAGES, device=device,
                                  models=dict(models or {}), **values)
    return translating(settings) if translate else settings


def translating(settings: PerceptionSettings) -> PerceptionSettings:
    """``settings`` with Whisper's English translation of non-English speech asked for (``--translate``).

    It costs a second Whisper pass over non-English speech only: English speech and
    silent videos perceive exactly as before (and an English-only ASR model ignores it).
    """
    options = {name: dict(values) for name, values in settings.stage_options.items()}
    options.setdefault("asr", {})["translate"] = True
    return replace(settings, stage_options=options)


def add_translations(video: str | Path, perception: Perception, settings: PerceptionSettings, *,
                     callbacks: PipelineCallbacks | None = None) -> Perception:
    """``perception`` plus Whisper's English translation of its non-English speech.

    Only when it has speech in another language and no translation yet: an ASR-only
    pass with ``--translate`` (cached under its own key) supplies the translations,
    so the perception itself, and its cache entry shared with ``context`` and
    ``textualize``, stay as they are. English and silent videos cost nothing.
    """
    from perceive.asr import TRANSLATION

    heard = [o for o in perception.observations if o.stage == "asr"]
    foreign = any(o.language and o.language != "en" and o.label != TRANSLATION for o in heard)
    if not foreign or any(o.label == TRANSLATION for o in heard) or "asr" not in settings.stages:
        return perception
    speech = perceive(video, replace(translating(settings), stages=("asr",)), callbacks=callbacks)
    added = [o for o in speech.observations if o.stage == "asr" and o.label == TRANSLATION]
    return perception.model_copy(update={"observations": [*perception.observations, *added]})


def perceive(video: str | Path, settings: PerceptionSettings | None = None, *, use_cache: bool = True,
             callbacks: PipelineCallbacks | None = None) -> Perception:
    """The perception of ``video``: from the cache, else by running the stages (built once per process)."""
    from perceive.cache import perceive_cached

    settings = settings or PerceptionSettings()
    stages, notes = shared_stages(settings)
    return perceive_cached(video, settings, callbacks=callbacks, use_cache=use_cache, stages=stages, notes=notes)


def context_of(perception: Perception, settings: PerceptionSettings | None = None, *, cleanup: bool | None = None,
               callbacks: PipelineCallbacks | None = None, verbose: bool = False) -> VideoContext:
    """The video context of a perception; ``cleanup`` None uses the cleanup model when it is available.

    Every note for the user goes to ``callbacks.on_note``: the stages (and the
    cleanup) skipped for want of a model as one ``offline: no weights for ...``
    line, or, ``verbose``, one note each saying which model and how to provide it.
    """
    from perceive.models import ModelUnavailable
    from perceive.pipeline import missing_models_line
    from perceive.records import Note
    from prompting.cleanup import Cleanup
    from prompting.context import video_context

    settings = settings or PerceptionSettings()
    hooks = callbacks or PipelineCallbacks()
    notes = list(perception.notes)
    cleaner = None
    if cleanup is not False:
        try:
            cleaner = Cleanup.from_registry(settings.models, settings.device or "cpu")
        except ModelUnavailable as exc:
            if cleanup:
                raise
            notes.append(Note.no_model("cleanup", exc))
    for note in [n.render() for n in notes] if verbose else missing_models_line(notes):
        hooks.on_note(note)
    return video_context(perception, cleanup=cleaner)


def build_context(video: str | Path, settings: PerceptionSettings | None = None, *, cleanup: bool | None = None,
                  use_cache: bool = True, callbacks: PipelineCallbacks | None = None,
                  verbose: bool = False) -> VideoContext:
    """The typed video context of ``video``: cached perception, optional cleanup, context (``verbose``: every
    skipped model's note in full)."""
    perception = perceive(video, settings, use_cache=use_cache, callbacks=callbacks)
    return context_of(perception, settings, cleanup=cleanup, callbacks=callbacks, verbose=verbose)


def open_chat(video: str | Path, settings: PerceptionSettings | None = None, *, cleanup: bool | None = None,
              llm=None, llm_settings=None, callbacks: PipelineCallbacks | None = None, verbose: bool = False,
              auto_translate: bool = True, **session_options):
    """A :class:`~chat.session.ChatSession` about ``video`` (a file, or an ``http(s)`` URL fetched once, see
    :func:`local_video`).

    ``session_options`` go to the session: ``evidence`` (None: evidence first when the
    window is small, see :mod:`chat.session`), ``one_paragraph``.

    The LLM (``llm``, else loaded from the registry with ``llm_settings``) is resolved
    first, so a missing one fails before any perception; a local one loads in a thread while
    the video is perceived, a remote one (cheap to build) before it; the embedder ranks what fits the window (keyword retrieval
    when there is none). ``callbacks.on_timing`` hears how long each step took
    (``llm load``, ``perception``, ``context``, ``embeddings``). ``verbose``
    prints every skipped model's note in full. ``auto_translate``: when the LLM
    declares English as its only language (the default SmolLM2 does), non-English
    speech gets Whisper's English translation beside it (:func:`add_translations`);
    ``False`` leaves the perception as ``settings`` make it (``--no-translate``).
    """
    from concurrent.futures import ThreadPoolExecutor

    from chat.llm import LLMSettings, load_llm
    from perceive.models import resolve

    settings = settings or PerceptionSettings()
    hooks = callbacks or PipelineCallbacks()
    video = local_video(video)
    if not video.is_file():
        raise FileNotFoundError(f"{video}: no such file")
    if llm is None and resolve("llm", settings.models).backend != "llama-cpp":
        llm = timed(hooks, "llm load", load_llm, settings.models, llm_settings or LLMSettings())   # cheap; its
        # offline, key and address checks then fail before any perception
    if llm is None:   # resolved: a missing local LLM failed before any perception
        with ThreadPoolExecutor(1, thread_name_prefix="llm-load") as pool:   # loads while the video is perceived
            loading = pool.submit(timed, hooks, "llm load", load_llm, settings.models, llm_settings or LLMSettings())
            perception = timed(hooks, "perception", perceive, video, settings, callbacks=callbacks)
            llm = loading.result()
    else:
        perception = timed(hooks, "perception", perceive, video, settings, callbacks=callbacks)
    hooks.on_note(llm.describe(), kind="info")
    if auto_translate and getattr(llm, "english_only", False):
        perception = add_translations(video, perception, settings, callbacks=callbacks)
    context = timed(hooks, "context", context_of, perception, settings, cleanup=cleanup, callbacks=callbacks,
                    verbose=verbose)
    return timed(hooks, "embeddings", chat_about, context, llm, settings, perception=perception, **session_options)


def timed(hooks: PipelineCallbacks, step: str, work, *args, **kwargs):
    """``work(*args, **kwargs)``, its wall time reported to ``hooks.on_timing(step, seconds)``."""
    t0 = time.perf_counter()
    try:
        return work(*args, **kwargs)
    finally:
        hooks.on_timing(step, time.perf_counter() - t0)


def chat_about(context: VideoContext, llm, settings: PerceptionSettings | None = None,
               perception: Perception | None = None, **session_options):
    """A :class:`~chat.session.ChatSession` over ``context`` with ``llm``, and the embedder when there is one.

    ``perception`` (what ``context`` was built from) lets :func:`report_chat` draw the session's report,
    and keeps the embeddings of the context's entries with the video's cached perception
    (:func:`remember_embeddings`); ``session_options``: ``evidence`` (True, False, None = by window size),
    ``one_paragraph``.
    """
    from chat.session import ChatSession

    settings = settings or PerceptionSettings()
    embedder = embedder_for(settings)
    if embedder is not None and perception is not None:
        remember_embeddings(embedder, context, perception, settings)
    return ChatSession(llm, context, embedder=embedder, perception=perception, **session_options)


def embedder_for(settings: PerceptionSettings):
    """The registry's :class:`~prompting.retrieve.Embedder` (a session's retrieval, a library's vectors and
    queries), or None (keyword retrieval then ranks entries; a library searches words only)."""
    from perceive.models import ModelUnavailable
    from prompting.retrieve import Embedder

    try:
        return Embedder.from_registry(settings.models, settings.device)
    except ModelUnavailable:
        return None


def remember_embeddings(embedder, context: VideoContext, perception: Perception,
                        settings: PerceptionSettings) -> None:
    """Embed the entries of ``context`` once per video: their vectors are kept beside its cached perception
    (one ``.npz`` per embedder), so the first question in a new process embeds only itself."""
    from perceive.cache import cache_path
    from prompting.retrieve import scored_texts

    stages, _ = shared_stages(settings)
    base = cache_path(perception.video.content_hash, settings, stages)
    tag = hashlib.sha256(embedder.spec.location.encode()).hexdigest()[:8]
    embedder.remember(scored_texts([e.search for e in context.entries]),
                      base.with_name(f"{base.stem}.embeddings-{tag}.npz"))


def ask(video: str | Path, question: str, settings: PerceptionSettings | None = None, *,
        on_token: Pieces | None = None, on_context: Pieces | None = None, report: str | Path | None = None,
        copy_video: bool = False, relook=None, **chat_options) -> str:
    """Answer ``question`` about ``video``, streaming each piece to ``on_token``; returns the whole answer.

    ``chat_options`` are :func:`open_chat`'s (``cleanup``, ``llm``, ``llm_settings``, ``callbacks``,
    ``verbose``, ``evidence``, ``one_paragraph``);
    ``on_context`` sees the fitted context's text before the answer starts. With ``report``, the
    timeline report with this question and answer is written there too (see :func:`report_chat`).
    A question that names a time gets a second look at it first (:mod:`chat.relook`), within the
    budget of ``relook`` (a :class:`~perceive.relook.Relook`; ``Relook(seconds=0)`` turns it off).
    ``callbacks.on_timing`` hears :func:`open_chat`'s steps, then ``first token`` and ``answer``.
    """
    from chat.relook import look_again

    session = open_chat(video, settings, **chat_options)
    hooks = chat_options.get("callbacks") or PipelineCallbacks()
    t0 = time.perf_counter()
    if look_again(session, question, settings, relook, hooks):
        hooks.on_timing("re-look", time.perf_counter() - t0)
    t0 = time.perf_counter()
    answer = session.ask(question, on_token=on_token, on_context=on_context)
    if session.first_token_at is not None:
        hooks.on_timing("first token", session.first_token_at - t0)
    hooks.on_timing("answer", time.perf_counter() - t0)
    if report is not None:
        report_chat(session, report, [(question, answer)], settings, copy_video=copy_video)
    return answer


def report(video: str | Path, out: str | Path, settings: PerceptionSettings | None = None, *,
           cleanup: bool | None = None, use_cache: bool = True, copy_video: bool = False,
           callbacks: PipelineCallbacks | None = None) -> Path:
    """Write the HTML timeline report of ``video`` to ``out``: the same perception and context as :func:`ask`.

    Returns the report's path; see :mod:`prompting.report` for what it shows.
    """
    from chat.reports import report_settings, write_report

    settings = settings or PerceptionSettings()
    perception = perceive(video, settings, use_cache=use_cache, callbacks=callbacks)
    context = context_of(perception, settings, cleanup=cleanup, callbacks=callbacks)
    return write_report(out, perception, context, settings=report_settings(settings), copy_video=copy_video)


def report_chat(session, out: str | Path, turns: list[tuple[str, str]], settings: PerceptionSettings | None = None,
                *, copy_video: bool = False) -> Path:
    """Write the timeline report of a chat session's video (from :func:`open_chat`) with its ``turns``.

    ``turns`` are the (question, answer) pairs so far; each answer's cited times seek the video.
    """
    from chat.reports import report_settings, write_report
    from prompting.report import QA

    if session.perception is None:
        raise ValueError("this chat session was opened without its perception; use chat.api.open_chat")
    return write_report(out, session.perception, session.context, qa=[QA(question=q, answer=a) for q, a in turns],
                        settings=report_settings(settings or PerceptionSettings(), llm=session.llm.describe()),
                        copy_video=copy_video)


def describe(video: str | Path, settings: PerceptionSettings | None = None, *, on_token: Pieces | None = None,
             **chat_options) -> str:
    """A paragraph describing ``video`` (the VideoChat-Text description prompt, ``prompts/describe.txt``)."""
    import prompts
    from perceive.relook import NO_RELOOK

    chat_options.setdefault("one_paragraph", False)
    chat_options.setdefault("relook", NO_RELOOK)   # the prompt's example time is no question about that time
    if chat_options.get("evidence") is None:
        chat_options["evidence"] = False   # a description reads the whole (fitted) context
    return ask(video, prompts.load("describe").strip(), settings, on_token=on_token, **chat_options)


@dataclass(frozen=True)
class Textualizer:
    """The batch's unit of work: one video to a :class:`~batch.records.TextualizedVideo` record.

    It runs exactly :func:`build_context` (same cache, same cleanup rule), so
    the record's ``context`` is what ``videochat context`` prints for the same
    video and settings, and keeps the embeddings of its entries with the cached
    perception (:func:`remember_embeddings`). It never raises for a bad video: the record carries an ``error``.
    """

    settings: PerceptionSettings
    cleanup: bool | None = None
    use_cache: bool = True

    @property
    def device(self) -> str | None:
        return self.settings.device

    def on_device(self, device: str) -> Textualizer:
        """This unit, running on ``device``."""
        return replace(self, settings=replace(self.settings, device=device))

    def key(self) -> str:
        """The perception settings key (resolving every model now)."""
        return self.settings.cache_key(shared_stages(self.settings)[0])

    def failed(self, job: Job, why: str) -> TextualizedVideo:
        """The record of a video that could not be textualized."""
        return TextualizedVideo(path=job.path, content_hash=job.content_hash, settings_key=job.settings_key,
                                fps=self.settings.fps, stages=list(self.settings.stages), error=why)

    def __call__(self, job: Job, report: Report | None = None, worker: str = "main") -> TextualizedVideo:
        """Textualize ``job``'s video, reporting progress as :class:`~batch.records.StageEvent`."""
        from perceive.cache import cache_path

        start = time.perf_counter()
        events = _Events(report or (lambda _event: None), worker, printable(Path(job.path).name))
        try:
            events.on_progress("starting", 0.0, 0.0)
            stages, _ = shared_stages(self.settings)
            # the parent's key decides resumes
            job = replace(job, settings_key=job.settings_key or self.settings.cache_key(stages))
            cached = (self.use_cache and bool(job.content_hash)
                      and cache_path(job.content_hash, self.settings, stages, job.path).exists())
            perception = perceive(job.path, self.settings, use_cache=self.use_cache, callbacks=events)
            events.on_progress("context", perception.video.duration, perception.video.duration)
            t0 = time.perf_counter()
            context = context_of(perception, self.settings, cleanup=self.cleanup, callbacks=events, verbose=True)
            timings = dict(perception.timings, context=round(time.perf_counter() - t0, 3))
            t0 = time.perf_counter()
            if (embedder := embedder_for(self.settings)) is not None:   # the first ask then embeds only itself
                remember_embeddings(embedder, context, perception, self.settings)
                timings["embeddings"] = round(time.perf_counter() - t0, 3)
        except Exception as exc:  # a bad video must never stop the batch
            record = self.failed(job, _describe(exc))
            record.timings = {"total": round(time.perf_counter() - start, 3)}
            return record
        timings["total"] = round(time.perf_counter() - start, 3)
        return TextualizedVideo(path=job.path, content_hash=perception.video.content_hash, settings_key=job.settings_key,
                                fps=self.settings.fps, stages=list(self.settings.stages),
                                duration=perception.video.duration, models=perception.models,
                                observations=perception.observations, notes=events.notes,
                                context=context.render(), timings=timings, cached=cached)


class _Events(PipelineCallbacks):
    """Pipeline progress as :class:`~batch.records.StageEvent` reports; the notes for the record."""

    def __init__(self, report: Report, worker: str, video: str):
        self.report, self.worker, self.video = report, worker, video
        self.notes: list[str] = []

    def on_progress(self, label: str, done: float, total: float) -> None:
        self.report(StageEvent(self.worker, self.video, label, done, total))

    def on_note(self, text: str, kind: str = "note") -> None:
        if kind == "note":
            self.notes.append(text)


def _describe(exc: Exception) -> str:
    from perceive.video import VideoError

    return str(exc) if isinstance(exc, VideoError) else f"{type(exc).__name__}: {exc}"


def textualize(paths: list[str | Path], out: str | Path, settings: PerceptionSettings | None = None, *,
               cleanup: bool | None = None, use_cache: bool = True, engine: str = "local",
               workers: int | None = None, ray_address: str | None = None, console=None,
               report_dir: str | Path | None = None):
    """Textualize every video named by ``paths`` (files, folders, path lists) into ``out`` (JSONL), resumably.

    Returns the :class:`~batch.run.BatchSummary`. ``engine`` is ``local`` (a
    process pool) or ``ray``; every worker runs :class:`Textualizer`. With
    ``report_dir``, each video settled (ok, failed or skipped as already done)
    also gets a timeline report there (:func:`report`, from the perception
    cache the batch filled), and ``report_dir/index.html`` lists them all.
    """
    from batch.run import run_batch

    settings = settings or PerceptionSettings()
    unit = Textualizer(settings, cleanup, use_cache)
    reports = None
    if report_dir is not None:
        from chat.reports import BatchReports

        reports = BatchReports(report_dir, lambda video, path: report(video, path, settings, cleanup=cleanup))
    summary = run_batch(paths, out, unit, engine=engine, workers=workers, ray_address=ray_address, console=console,
                        on_record=reports.add if reports else None)
    if reports:
        reports.finish()
    return summary


# --- a folder of videos: one library file (library/), searched and asked across videos -------------------------

def index(paths: list[str | Path], db: str | Path, settings: PerceptionSettings | None = None, *,
          cleanup: bool | None = None, from_jsonl: str | Path | None = None,
          callbacks: PipelineCallbacks | None = None, on_video: Callable[[str, str], None] | None = None):
    """Index the videos of ``paths`` (files, folders, path lists) into the library file ``db``; resumable.

    New or changed videos (content hash, settings key) are perceived (cache
    first) and their context's entries stored, one transaction per video;
    ``from_jsonl`` also ingests a ``textualize`` JSONL file (e.g. from
    ``--engine ray``). Returns the :class:`~library.indexer.IndexSummary`.
    """
    from batch.inputs import collect_videos
    from chat.reports import report_settings
    from library.indexer import IndexSummary, index_videos, ingest_records
    from library.store import Library

    settings = settings or PerceptionSettings()
    embedder = embedder_for(settings)   # the library's vectors; None: words only
    contextualize = lambda perception: context_of(perception, settings, cleanup=cleanup, callbacks=callbacks)  # noqa: E731
    summary = IndexSummary()
    with Library(db) as library:
        if from_jsonl is not None:
            summary = ingest_records(library, from_jsonl, contextualize, embedder, on_video)
        videos = collect_videos(paths) if paths else []
        if videos:
            key = settings.cache_key(shared_stages(settings)[0])
            done = index_videos(library, videos, key, report_settings(settings),
                                lambda video: perceive(video, settings, callbacks=callbacks), contextualize,
                                embedder, on_video)
            summary.added += done.added
            summary.current += done.current
            summary.failed += done.failed
    return summary


def search(db: str | Path, query: str, settings: PerceptionSettings | None = None, *, limit: int = 10):
    """The best moments of the library ``db`` for ``query``: :class:`~library.records.Hit` list, best first."""
    from library.search import search as hybrid
    from library.store import Library

    with _library(db) as library:
        return hybrid(library, query, embedder_for(settings or PerceptionSettings()), limit)


def search_report(db: str | Path, query: str, out: str | Path, settings: PerceptionSettings | None = None, *,
                  limit: int = 10, hits=None) -> Path:
    """Write one HTML page of the hits for ``query`` (``hits``: those :func:`search` found already), with
    thumbnails and links that seek each video's own timeline report."""
    from chat.reports import report_settings, write_report
    from library.hits_report import write_hits_report

    settings = settings or PerceptionSettings()
    hits = search(db, query, settings, limit=limit) if hits is None else hits

    def video_report(perception: Perception, path: Path) -> Path:
        return write_report(path, perception, context_of(perception, settings), settings=report_settings(settings))

    with _library(db) as library:
        return write_hits_report(out, query, hits, library, video_report)


def ask_library(db_or_dir: str | Path, question: str, settings: PerceptionSettings | None = None, *,
                on_token: Pieces | None = None, llm=None, llm_settings=None, cleanup: bool | None = None,
                callbacks: PipelineCallbacks | None = None, **session_options) -> str:
    """Answer ``question`` across the videos of a library file (or a folder, indexed first) citing ``(video, m:ss)``.

    The videos that a hybrid search ranks first (:mod:`library.evidence`) give one
    typed context whose entries name their video; it is answered by the one-video
    answer path (:func:`answer_across`).
    """
    from chat.llm import LLMSettings, load_llm
    from library.evidence import library_context, ranked_videos

    settings = settings or PerceptionSettings()
    llm = llm or load_llm(settings.models, llm_settings or LLMSettings())
    (callbacks or PipelineCallbacks()).on_note(llm.describe(), kind="info")
    db = library_file(db_or_dir, settings, cleanup=cleanup, callbacks=callbacks)
    hits = search(db, question, settings, limit=20)
    with _library(db) as library:
        context = library_context(library, ranked_videos(hits),
                                  lambda perception: context_of(perception, settings, cleanup=cleanup))
    return answer_across(context, question, llm, settings, on_token=on_token, **session_options)


def answer_across(context: VideoContext, question: str, llm, settings: PerceptionSettings | None = None, *,
                  on_token: Pieces | None = None, **session_options) -> str:
    """The one seam between library evidence and the answer path: ``context`` (entries of several videos,
    :class:`~library.evidence.VideoEntry`) answered as one video's, then the ``(video name, m:ss)`` citation."""
    from library.evidence import video_citation

    session = chat_about(context, llm, settings, cite=False, **session_options)
    answer = session.ask(question, on_token=on_token)
    best = session.last_evidence.best if session.last_evidence else None
    citation = video_citation(answer, session.last_context or context, best)
    if citation and citation.strip(" ()") not in answer:
        (on_token or (lambda _piece: None))(citation)
        answer += citation
    return answer


def library_file(db_or_dir: str | Path, settings: PerceptionSettings | None = None, **index_options) -> Path:
    """The library file for ``db_or_dir``: the file itself, or for a folder, its library in the cache (indexed now)."""
    from perceive.cache import cache_root

    path = Path(db_or_dir)
    if not path.is_dir():
        if not path.is_file():
            raise FileNotFoundError(f"{db_or_dir}: no such library file or folder")
        return path
    import hashlib

    db = cache_root() / "library" / f"{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]}.sqlite"
    index([path], db, settings, **index_options)
    return db


def is_library(path: str | Path) -> bool:
    """Whether ``path`` is a folder or a library file (SQLite), not a video."""
    from library.store import is_sqlite

    return Path(path).is_dir() or is_sqlite(path)


def _library(db: str | Path):
    from library.store import Library

    if not Path(db).is_file():
        raise FileNotFoundError(f"{db}: no such library file")
    return Library(db)


def export_context(video: str | Path, formats: list[str], out_dir: str | Path, settings: PerceptionSettings | None = None,
                   *, cleanup: bool | None = None, callbacks: PipelineCallbacks | None = None,
                   verbose: bool = False) -> list[Path]:
    """Write ``video``'s context as ``out_dir/NAME.{txt,json,srt,vtt,md}`` (whisper's convention); returns the files.

    The same perception and context as :func:`build_context`; see :mod:`library.exports` for each format.
    """
    from library.exports import write_exports

    video = local_video(video)
    perception = perceive(video, settings, callbacks=callbacks)
    context = context_of(perception, settings, cleanup=cleanup, callbacks=callbacks, verbose=verbose)
    return write_exports(perception, context, formats, out_dir)


def local_video(video: str | Path) -> Path:
    """The local file of ``video``: itself, or for an ``http(s)`` URL the file fetched once into the cache (yt-dlp)."""
    from library.fetch import fetch, is_url

    return fetch(str(video)) if is_url(video) else Path(video)
