"""``python -m bench.quality``: how good the transcripts and the answers are on the shared clips.

* ASR word error rate (jiwer, after :func:`bench.scoring.normalize`) on the
  GRID clips, whose sentence is in MANIFEST.tsv, and on
  ``videogrep_manifesto.mp4`` against the ``.srt`` beside it;
* speech in other languages on ``../shared/multilingual`` (MANIFEST.tsv):
  per recording the detected language and its probability, and the character
  error rate (Chinese, Japanese, Korean) or word error rate (others) against
  the reference, with a per-language table (:func:`language_quality`);
* the answer's language: a question in German (and one in Chinese) about a
  video made from a recording in that language, asked of the configured LLM
  through :func:`chat.api.ask` (:func:`answer_languages`);
* QA accuracy on ``dev_questions.jsonl``: each clip is perceived (cached) with
  the configured models, its context built, and every question asked of the
  local LLM (the registry's, or any GGUF file given with ``--llm PATH``) in a fresh conversation, scored by
  :func:`bench.scoring.score_answer`;
* context recall: the share of each gold answer's content words (normalized,
  stopwords dropped) found in the context the LLM was given -- whether the
  answer was there to be found at all.

The real YOLO11n INT8 TFLite detector in ``../shared/models`` is used when it
is there and no detector is configured (``--no-shared-detector`` turns it off).

Per item and overall results go to the terminal, the same to ``--json``.
"""
from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from answer.records import SOURCES
from bench.records import Machine
from bench.runner import CLIPS, MODEL_DIR, MODEL_SETS, model_overrides
from bench.scoring import CHARACTER_LANGUAGES, STOPWORDS, error_rate, normalize, score_answer, srt_text, word_error_rate

MANIFESTO = "videogrep_manifesto.mp4"
MULTILINGUAL = CLIPS.parent / "multilingual"
SHARED_DETECTOR = CLIPS.parent / "models" / "yolo11n-int8-tflite" / "yolo11n_int8.tflite"


def context_recall(reference: str, context: str) -> float:
    """Share of the reference's content words (normalized, no stopwords) that occur in ``context``."""
    wanted = set(normalize(reference).split()) - STOPWORDS
    if not wanted:
        return 1.0
    return len(wanted & set(normalize(context).split())) / len(wanted)


class WerItem(BaseModel):
    """One clip's transcript against its reference."""

    clip: str
    reference: str
    hypothesis: str
    wer: float
    words: int
    errors: int
    seconds: float


class LanguageItem(BaseModel):
    """One recording in another language: what was detected and heard, and its error rate."""

    file: str
    language: str
    detected: str | None
    probability: float | None
    reference: str
    hypothesis: str
    metric: str                  # "CER" or "WER"
    rate: float
    units: int                   # reference characters or words
    errors: int
    seconds: float


class AnswerLanguageItem(BaseModel):
    """A question asked in one language about a video with speech in that language, and the answer's language."""

    recording: str
    question: str
    asked: str                   # ISO 639-1 code of the question (prompting.language.question_language)
    answer: str
    answered: str                # the same detector on the answer
    seconds: float


ANSWER_LANGUAGE_CASES = [
    ("de_picovoice_leopard_test_de.wav", "Wofür wurde der Raum laut dem Sprecher genutzt?"),
    ("zh_paddlespeech_zh.wav", "说话的人认为跑步最重要的是什么？"),
]
"""(recording in ``../shared/multilingual``, question in the recording's language): written for this bench."""


class QaItem(BaseModel):
    """One dev question, the LLM's answer and its score."""

    clip: str
    kind: str
    question: str
    reference: str
    answer: str
    recall: float
    context_recall: float = 0.0
    exact: bool
    correct: bool
    rule: str
    seconds: float
    mode: str = "evidence"
    first_token_s: float | None = None   # the LLM's first token
    shown_s: float | None = None         # the first text the user saw (after the whole answer when it is held back)
    source: str = ""                     # Answer.source: llm, fact_draft, quote or decline
    checks: list[str] = Field(default_factory=list)   # the checks that changed the answer
    unsupported: list[str] = Field(default_factory=list)   # names/numbers of the LLM's text no evidence holds


class QualityRun(BaseModel):
    """A ``python -m bench.quality`` run."""

    machine: Machine = Field(default_factory=Machine)
    models: str
    model_info: list[str] = []
    notes: list[str] = []
    wer: list[WerItem] = []
    grid_wer: float | None = None
    manifesto_wer: float | None = None
    languages: list[LanguageItem] = []
    language_rates: dict[str, float] = {}
    answer_languages: list[AnswerLanguageItem] = []
    qa: list[QaItem] = []
    accuracy: float | None = None
    accuracy_by_kind: dict[str, float] = {}
    by_mode: dict[str, dict[str, float | int | str]] = {}   # mode -> accuracy, per kind, median first token
    context_recall: float | None = None
    context_recall_by_kind: dict[str, float] = {}
    stages: list[str] = []


def grid_references(clips: Path = CLIPS) -> dict[str, str]:
    """GRID clip name -> spoken sentence, the first quoted phrase of its MANIFEST.tsv description."""
    path = clips / "MANIFEST.tsv"
    if not path.exists():
        return {}
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            found = re.search(r"'([^']+)'", row["description"])
            if row["filename"].startswith("grid_") and row["filename"].endswith(".mpg") and found:
                out[row["filename"]] = found.group(1)
    return out


def wer_references(clips: Path = CLIPS) -> dict[str, str]:
    """Every clip with a reference transcript: the GRID clips and the manifesto (its SRT)."""
    refs = grid_references(clips)
    srt = clips / MANIFESTO.replace(".mp4", ".srt")
    if srt.exists() and (clips / MANIFESTO).exists():
        refs[MANIFESTO] = srt_text(srt.read_text())
    return refs


def pooled(items: list[WerItem]) -> float | None:
    """Corpus WER: all errors over all reference words."""
    words = sum(i.words for i in items)
    return sum(i.errors for i in items) / words if words else None


def asr_stage(overrides: dict[str, str], profile_name: str | None = None):
    """The ASR stage as the pipeline builds it (with its English-only helper model, if any), on the CPU."""
    from perceive.models import ModelUnavailable
    from perceive.pipeline import PerceptionSettings, build_stages
    from perceive.profiles import profile

    options = profile(profile_name).get("stage_options", {})
    stages, notes = build_stages(PerceptionSettings(stages=("asr",), models=overrides, device="cpu",
                                                    stage_options=options))
    if not stages:
        raise ModelUnavailable(notes[0].render() if notes else "no ASR model")
    return stages[0]


def transcribe(stage, video: Path) -> str:
    """The ASR stage's transcript of ``video``'s audio track ('' without audio)."""
    from perceive.video import load_audio, probe

    audio = load_audio(probe(video))
    return " ".join(o.text for o in stage.process_track(audio)) if audio is not None else ""


def asr_quality(run: QualityRun, overrides: dict[str, str], console: Console, profile_name: str | None = None) -> None:
    """WER of the configured ASR model (with the ``profile``'s ASR options) on every clip with a reference transcript."""
    stage = asr_stage(overrides, profile_name)
    run.model_info += [m.info().describe() for m in stage.specs()]
    for clip, reference in wer_references().items():
        start = time.perf_counter()
        hypothesis = transcribe(stage, CLIPS / clip)
        score = word_error_rate(reference, hypothesis)
        run.wer.append(WerItem(clip=clip, reference=reference, hypothesis=hypothesis, wer=round(score.wer, 3),
                               words=score.words, errors=score.substitutions + score.deletions + score.insertions,
                               seconds=round(time.perf_counter() - start, 2)))
        console.print(f"  {clip}: WER {score.wer:.2f}", highlight=False)
    run.grid_wer = pooled([i for i in run.wer if i.clip.startswith("grid_")])
    run.manifesto_wer = pooled([i for i in run.wer if i.clip == MANIFESTO])


def multilingual_references(folder: Path = MULTILINGUAL) -> list[dict[str, str]]:
    """MANIFEST.tsv rows (``filename``, ``language``, ``reference_text`` ...) of the recordings present."""
    path = folder / "MANIFEST.tsv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [row for row in csv.DictReader(f, delimiter="\t") if (folder / row["filename"]).exists()]


def language_quality(run: QualityRun, overrides: dict[str, str], console: Console,
                     folder: Path = MULTILINGUAL) -> None:
    """Detected language and CER/WER of the configured ASR model on each recording in ``folder``."""
    from faster_whisper import decode_audio

    from perceive.asr import UNTRANSCRIBED

    stage = asr_stage(overrides)
    for row in multilingual_references(folder):
        start = time.perf_counter()
        heard = stage.process_track(decode_audio(str(folder / row["filename"])))
        said = [o for o in heard if o.label != UNTRANSCRIBED]
        hypothesis = " ".join(o.text for o in said)
        language = row["language"]
        score = error_rate(row["reference_text"], hypothesis, language)
        detected = said[0].language if said else (UNTRANSCRIBED if heard else None)
        run.languages.append(LanguageItem(
            file=row["filename"], language=language, detected=detected,
            probability=said[0].language_probability if said else None, reference=row["reference_text"],
            hypothesis=hypothesis, metric="CER" if language in CHARACTER_LANGUAGES else "WER",
            rate=round(score.wer, 3), units=score.words,
            errors=score.substitutions + score.deletions + score.insertions,
            seconds=round(time.perf_counter() - start, 2)))
        console.print(f"  {row['filename']}: {detected} {run.languages[-1].metric} {score.wer:.2f}", highlight=False)
    for language in dict.fromkeys(i.language for i in run.languages):
        items = [i for i in run.languages if i.language == language]
        run.language_rates[language] = round(sum(i.errors for i in items) / sum(i.units for i in items), 3)


def language_table(run: QualityRun) -> Table:
    """Per language: recordings, language detected right, pooled CER/WER; then per recording."""
    table = Table("language", "recording", "detected", "metric", "error rate", "transcript",
                  title="Speech in other languages", title_justify="left")
    for language, rate in run.language_rates.items():
        items = [i for i in run.languages if i.language == language]
        right = sum(i.detected == language for i in items)
        table.add_row(f"[bold]{language}[/]", f"{len(items)} files", f"{right}/{len(items)} right",
                      items[0].metric, f"[bold]{rate:.3f}[/]", "")
    for i in run.languages:
        prob = f" ({i.probability:.2f})" if i.probability is not None else ""
        table.add_row(i.language, i.file, f"{i.detected}{prob}", i.metric, f"{i.rate:.3f}", _short(i.hypothesis, 60))
    return table


def video_of(recording: Path, out: Path) -> Path:
    """A small video of ``recording``: a grey picture over its audio (ffmpeg)."""
    import subprocess

    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(recording), "-f", "lavfi", "-i",
                    "color=c=gray:s=160x120:r=5", "-map", "0:a", "-map", "1:v", "-shortest", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)], check=True, timeout=120)
    return out


def answer_languages(run: QualityRun, overrides: dict[str, str], console: Console, max_tokens: int,
                     folder: Path = MULTILINGUAL) -> None:
    """Ask each :data:`ANSWER_LANGUAGE_CASES` question about a video of its recording; record the answer's language."""
    import tempfile

    from chat import api
    from chat.llm import LLMSettings, load_llm
    from prompting.language import question_language

    llm = load_llm(overrides, LLMSettings(max_tokens=max_tokens))
    if llm.describe() not in run.model_info:
        run.model_info.append(llm.describe())
    settings = api.perception_settings(stages=("asr",), models=overrides)
    with tempfile.TemporaryDirectory() as tmp:
        for name, question in ANSWER_LANGUAGE_CASES:
            if not (folder / name).exists():
                continue
            video = video_of(folder / name, Path(tmp) / (Path(name).stem + ".mp4"))
            start = time.perf_counter()
            answer = api.ask(video, question, settings, llm=llm, cleanup=False)
            item = AnswerLanguageItem(recording=name, question=question, asked=question_language(question),
                                      answer=answer, answered=question_language(answer),
                                      seconds=round(time.perf_counter() - start, 2))
            run.answer_languages.append(item)
            console.print(f"  {name}: asked in {item.asked}, answered in {item.answered}: {_short(answer, 80)}",
                          highlight=False)


def dev_questions(clips: Path = CLIPS) -> list[dict]:
    """The dev questions (``clip``, ``q``, ``a``, ``kind``) whose clip is present."""
    path = clips / "dev_questions.jsonl"
    if not path.exists():
        return []
    items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [i for i in items if (clips / i["clip"]).exists()]


def qa_quality(run: QualityRun, overrides: dict[str, str], console: Console, max_tokens: int,
               threshold: float, cleanup: bool, modes: tuple[str, ...] = ("evidence", "full"),
               stages: tuple[str, ...] | None = None, ask: bool = True) -> None:
    """Ask every dev question about its clip's context with the local LLM, once per mode (``evidence``:
    evidence first, ``full``: the whole fitted context, ``auto``: by window size); score each answer, time
    its first token and measure the context recall of what the LLM was given.

    Without ``ask`` no LLM is loaded: only the context recall of the whole context is measured.
    """
    from chat import api
    from chat.llm import LLMSettings, load_llm
    from perceive.models import ModelUnavailable
    from perceive.pipeline import PerceptionSettings
    from perceive.records import Note
    from prompting.cleanup import Cleanup
    from prompting.context import VideoContext

    llm = load_llm(overrides, LLMSettings(max_tokens=max_tokens)) if ask else None
    if llm is not None:
        run.model_info.append(llm.describe())
    settings = PerceptionSettings(models=overrides, **({"stages": stages} if stages else {}))
    run.stages = list(settings.stages)
    if cleanup:
        try:
            run.model_info.append(Cleanup.from_registry(overrides).spec.info().describe())
        except ModelUnavailable as exc:
            run.notes.append(Note.no_model("cleanup", exc).render())
            cleanup = False
    contexts: dict[str, VideoContext] = {}
    for mode in (modes if ask else ("context",)):
        evidence = {"evidence": True, "full": False, "auto": None}.get(mode)
        for item in dev_questions():
            clip = item["clip"]
            if clip not in contexts:
                perception = api.perceive(CLIPS / clip, settings)
                run.notes += [n.render() for n in perception.notes if n.render() not in run.notes]
                run.model_info += [m.describe() for m in perception.models if m.describe() not in run.model_info]
                contexts[clip] = api.context_of(perception, settings, cleanup=cleanup, verbose=True)
            start = time.perf_counter()
            answer, first, shown, seen, record = "", None, None, contexts[clip].render(), None
            if llm is not None:
                session = api.chat_about(contexts[clip], llm, settings, evidence=evidence)   # every question alone
                answer = session.ask(item["q"])
                first = session.first_token_at - start if session.first_token_at else None
                shown = session.first_shown_at - start if session.first_shown_at else None
                seen = session.last_text   # what the LLM was given
                record = session.last_answer
            score = score_answer(item["a"], answer, threshold)
            run.qa.append(QaItem(clip=clip, kind=item.get("kind", ""), question=item["q"], reference=item["a"],
                                 answer=answer, recall=score.recall, exact=score.exact, correct=score.correct,
                                 context_recall=round(context_recall(item["a"], seen), 3),
                                 rule=score.rule, seconds=round(time.perf_counter() - start, 2), mode=mode,
                                 first_token_s=round(first, 2) if first is not None else None,
                                 shown_s=round(shown, 2) if shown is not None else None,
                                 source=record.source if record else "", checks=list(record.checks if record else ()),
                                 unsupported=list(record.unsupported if record else ())))
            console.print(f"  [{mode}] {clip}: {item['q']} -> {'correct' if score.correct else 'wrong'}",
                          highlight=False)
    for mode in (modes if ask else ("context",)):
        done = [q for q in run.qa if q.mode == mode]
        if not done:
            continue
        stats = {"correct": sum(q.correct for q in done), "questions": len(done),
                 "context_recall": round(sum(q.context_recall for q in done) / len(done), 3)}
        for name in ("first_token", "shown"):
            times = sorted(t for t in (getattr(q, f"{name}_s") for q in done) if t is not None)
            if times:
                stats[f"{name}_median_s"], stats[f"{name}_max_s"] = times[len(times) // 2], times[-1]
        for source in SOURCES:
            stats[f"source:{source}"] = sum(q.source == source for q in done)
        stats["unsupported"] = sum(bool(q.unsupported) for q in done)
        for kind in sorted({q.kind for q in done}):
            of_kind = [q for q in done if q.kind == kind]
            stats[f"kind:{kind}"] = f"{sum(q.correct for q in of_kind)}/{len(of_kind)}"
            stats[f"declines:{kind}"] = sum(q.source == "decline" for q in of_kind)
            stats[f"recall:{kind}"] = round(sum(q.context_recall for q in of_kind) / len(of_kind), 3)
        run.by_mode[mode] = stats
    first = [q for q in run.qa if q.mode == (modes[0] if ask else "context")]
    if first:
        run.accuracy = round(sum(q.correct for q in first) / len(first), 3) if ask else None
        for kind in sorted({q.kind for q in first}):
            of_kind = [q for q in first if q.kind == kind]
            if ask:
                run.accuracy_by_kind[kind] = round(sum(q.correct for q in of_kind) / len(of_kind), 3)
            run.context_recall_by_kind[kind] = round(sum(q.context_recall for q in of_kind) / len(of_kind), 3)
        run.context_recall = round(sum(q.context_recall for q in first) / len(first), 3)


def wer_table(run: QualityRun) -> Table:
    """Per clip: reference, transcript, WER."""
    table = Table("clip", "reference", "transcript", "WER", "words", title="ASR word error rate",
                  title_justify="left")
    for item in run.wer:
        table.add_row(item.clip, _short(item.reference), _short(item.hypothesis), f"{item.wer:.2f}",
                      str(item.words))
    for name, value in (("GRID (pooled)", run.grid_wer), (MANIFESTO, run.manifesto_wer)):
        if value is not None:
            table.add_row(f"[bold]{name}[/]", "", "", f"[bold]{value:.3f}[/]", "")
    return table


def qa_table(run: QualityRun) -> Table:
    """Per question: the reference, the answer, content-word recall and the verdict."""
    table = Table("mode", "clip", "kind", "question", "reference", "answer", "recall", "ctx recall", "ok", "source",
                  "unsupported", "1st token s", "shown s", title="QA accuracy", title_justify="left")
    for q in run.qa:
        table.add_row(q.mode, q.clip, q.kind, q.question, _short(q.reference), _short(q.answer), f"{q.recall:.2f}",
                      f"{q.context_recall:.2f}", "yes" if q.correct else "no", q.source, ", ".join(q.unsupported),
                      f"{q.first_token_s:.2f}" if q.first_token_s is not None else "-",
                      f"{q.shown_s:.2f}" if q.shown_s is not None else "-")
    return table


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    models: Annotated[str, typer.Option("--models", help="configured (default): the registry's models, visual stages skipped offline without weights; real-arch or tiny: random-weight visual models as in python -m bench.")] = "configured",
    model_dir: Annotated[Path, typer.Option("--model-dir", help="Where random-weight models are built (real-arch, tiny).")] = MODEL_DIR,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the results as JSON to this file.")] = None,
    profile: Annotated[Optional[str], typer.Option("--profile", help="Speed profile whose ASR options to score (perceive/profiles.py).")] = None,
    skip_asr: Annotated[bool, typer.Option("--skip-asr", help="Skip the WER evaluation.")] = False,
    skip_qa: Annotated[bool, typer.Option("--skip-qa", help="Skip the QA evaluation.")] = False,
    skip_languages: Annotated[bool, typer.Option("--skip-languages", help="Skip the other-language ASR evaluation.")] = False,
    skip_answer_language: Annotated[bool, typer.Option("--skip-answer-language", help="Skip asking the LLM in German and Chinese.")] = False,
    threshold: Annotated[float, typer.Option("--threshold", help="Content-word recall that counts an answer correct.")] = 0.5,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")] = 96,
    no_cleanup: Annotated[bool, typer.Option("--no-cleanup", help="Build contexts without the cleanup model.")] = False,
    online: Annotated[bool, typer.Option("--online", help="Allow downloads (default: offline).")] = False,
    evidence: Annotated[str, typer.Option("--evidence", help="QA modes, comma-separated: evidence (evidence first), full (whole fitted context), auto (by window size).")] = "evidence,full",
    stages: Annotated[Optional[str], typer.Option("--stages", help="Comma-separated perception stages (default: all but the optional tags).")] = None,
    recall_only: Annotated[bool, typer.Option("--recall-only", help="Measure context recall only; load no LLM.")] = False,
    no_shared_detector: Annotated[bool, typer.Option("--no-shared-detector", help="Do not use ../shared/models' YOLO11n TFLite as the detector.")] = False,
    llm: Annotated[Optional[str], typer.Option("--llm", help="The chat LLM to answer with: a GGUF file (or any llm value of the registry, e.g. ollama:NAME); default: the registry's.")] = None,
):
    """Score ASR (word error rate) and QA (answer accuracy) on the shared clips."""
    from perceive.models import ModelUnavailable, resolve_value, set_offline

    console = Console(width=None if Console().is_terminal else 200)
    if not CLIPS.exists():
        raise typer.BadParameter(f"the shared clips are not in {CLIPS} (set VIDEOCHAT_CLIPS)")
    if models not in MODEL_SETS:
        raise typer.BadParameter(f"choose from {', '.join(MODEL_SETS)}", param_hint="--models")
    if not online:
        set_offline(True)
    overrides = model_overrides(models, model_dir)
    if llm:
        try:
            resolve_value("llm", llm)
        except ModelUnavailable as exc:
            raise typer.BadParameter(str(exc), param_hint="--llm") from exc
        overrides["llm"] = llm
    if models == "configured" and not no_shared_detector and SHARED_DETECTOR.exists() and "detector" not in overrides:
        overrides["detector"] = str(SHARED_DETECTOR)
    run = QualityRun(models=models)
    if not skip_asr:
        console.print("[bold]ASR[/]")
        asr_quality(run, overrides, console, profile)
        console.print(wer_table(run))
    if not skip_languages and multilingual_references():
        console.print("[bold]Speech in other languages[/]")
        language_quality(run, overrides, console)
        console.print(language_table(run))
    if not skip_answer_language and multilingual_references():
        console.print("[bold]Answer language[/]")
        answer_languages(run, overrides, console, max_tokens)
        same = sum(i.answered == i.asked for i in run.answer_languages)
        console.print(f"answered in the question's language: {same}/{len(run.answer_languages)}", highlight=False)
    if not skip_qa:
        console.print("[bold]QA[/]")
        modes = tuple(m.strip() for m in evidence.split(",") if m.strip())
        if not modes or set(modes) - {"evidence", "full", "auto"}:
            raise typer.BadParameter("choose from evidence, full, auto", param_hint="--evidence")
        qa_quality(run, overrides, console, max_tokens, threshold, cleanup=not no_cleanup, modes=modes,
                   stages=tuple(s.strip() for s in stages.split(",")) if stages else None, ask=not recall_only)
        console.print(qa_table(run))
        for mode, stats in run.by_mode.items():
            kinds = ", ".join(f"{k[5:]} {v}" for k, v in stats.items() if k.startswith("kind:"))
            recall = ", ".join(f"{k[7:]} {v:.0%}" for k, v in stats.items() if k.startswith("recall:"))
            answered = f"{stats['correct']}/{stats['questions']} ({kinds}); " if mode != "context" else ""
            sources = ", ".join(f"{k[7:]} {v}" for k, v in stats.items() if k.startswith("source:"))
            declines = ", ".join(f"{k[9:]} {v}" for k, v in stats.items() if k.startswith("declines:"))
            if mode != "context":
                console.print(f"[bold]QA {mode} sources:[/] {sources}; declines by kind: {declines}; answers with "
                              f"unsupported names/numbers: {stats['unsupported']}", highlight=False)
            console.print(f"[bold]QA {mode}:[/] {answered}context recall {stats['context_recall']:.0%} ({recall}); "
                          f"first token median {stats.get('first_token_median_s', '-')} s, "
                          f"max {stats.get('first_token_max_s', '-')} s; first text shown median "
                          f"{stats.get('shown_median_s', '-')} s, max {stats.get('shown_max_s', '-')} s", highlight=False)
    for line in run.model_info:
        console.print(f"[dim]model {line}[/]", highlight=False)
    for note in run.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if json_out:
        json_out.write_text(run.model_dump_json(indent=1))
        console.print(f"results in {json_out}", highlight=False)


if __name__ == "__main__":
    app()
