"""``python -m bench.quality``: how good the transcripts and the answers are on the shared clips.

* ASR word error rate (jiwer, after :func:`bench.scoring.normalize`) on the
  GRID clips, whose sentence is in MANIFEST.tsv, and on
  ``videogrep_manifesto.mp4`` against the ``.srt`` beside it;
* QA accuracy on ``dev_questions.jsonl``: each clip is perceived (cached) with
  the configured models, its context built, and every question asked of the
  local LLM in a fresh conversation, scored by :func:`bench.scoring.score_answer`;
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

from bench.records import Machine
from bench.runner import CLIPS, MODEL_DIR, MODEL_SETS, model_overrides
from bench.scoring import STOPWORDS, normalize, score_answer, srt_text, word_error_rate

MANIFESTO = "videogrep_manifesto.mp4"
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


class QualityRun(BaseModel):
    """A ``python -m bench.quality`` run."""

    machine: Machine = Field(default_factory=Machine)
    models: str
    model_info: list[str] = []
    notes: list[str] = []
    wer: list[WerItem] = []
    grid_wer: float | None = None
    manifesto_wer: float | None = None
    qa: list[QaItem] = []
    accuracy: float | None = None
    accuracy_by_kind: dict[str, float] = {}
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


def transcribe(stage, video: Path) -> str:
    """The ASR stage's transcript of ``video``'s audio track ('' without audio)."""
    from perceive.video import load_audio, probe

    audio = load_audio(probe(video))
    return " ".join(o.text for o in stage.process(audio)) if audio is not None else ""


def asr_quality(run: QualityRun, overrides: dict[str, str], console: Console) -> None:
    """WER of the configured ASR model on every clip with a reference transcript."""
    from perceive.models import resolve
    from perceive.pipeline import stage_class

    spec = resolve("asr", overrides)
    run.model_info.append(spec.info().describe())
    stage = stage_class("asr")(spec)
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


def dev_questions(clips: Path = CLIPS) -> list[dict]:
    """The dev questions (``clip``, ``q``, ``a``, ``kind``) whose clip is present."""
    path = clips / "dev_questions.jsonl"
    if not path.exists():
        return []
    items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [i for i in items if (clips / i["clip"]).exists()]


def qa_quality(run: QualityRun, overrides: dict[str, str], console: Console, max_tokens: int,
               threshold: float, cleanup: bool, stages: tuple[str, ...] | None = None, ask: bool = True) -> None:
    """Ask every dev question about its clip's context with the local LLM; score each answer.

    Without ``ask`` no LLM is loaded: only the context recall of the whole context is measured.
    """
    from chat import api
    from chat.llm import LLMSettings, load_llm
    from chat.session import ChatSession
    from perceive.models import ModelUnavailable
    from perceive.pipeline import PerceptionSettings
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
            run.notes.append(f"cleanup skipped: {exc}")
            cleanup = False
    sessions: dict[str, ChatSession | None] = {}
    contexts: dict[str, VideoContext] = {}
    for item in dev_questions():
        clip = item["clip"]
        if clip not in sessions:
            perception = api.perceive(CLIPS / clip, settings)
            run.notes += [n for n in perception.notes if n not in run.notes]
            run.model_info += [m.describe() for m in perception.models if m.describe() not in run.model_info]
            contexts[clip] = api.context_of(perception, settings, cleanup=cleanup, verbose=True)
            sessions[clip] = api.chat_about(contexts[clip], llm, settings) if llm is not None else None
        session = sessions[clip]
        start = time.perf_counter()
        answer = ""
        if session is not None:
            session.reset()  # every question stands alone
            answer = session.ask(item["q"])
        score = score_answer(item["a"], answer, threshold)
        seen = (session.last_context if session is not None else contexts[clip]).render()   # what the LLM was given
        run.qa.append(QaItem(clip=clip, kind=item.get("kind", ""), question=item["q"], reference=item["a"],
                             answer=answer, recall=score.recall, exact=score.exact, correct=score.correct,
                             context_recall=round(context_recall(item["a"], seen), 3),
                             rule=score.rule, seconds=round(time.perf_counter() - start, 2)))
        console.print(f"  {clip}: {item['q']} -> {'correct' if score.correct else 'wrong'}", highlight=False)
    if run.qa:
        run.accuracy = round(sum(q.correct for q in run.qa) / len(run.qa), 3) if llm is not None else None
        for kind in sorted({q.kind for q in run.qa}):
            of_kind = [q for q in run.qa if q.kind == kind]
            if llm is not None:
                run.accuracy_by_kind[kind] = round(sum(q.correct for q in of_kind) / len(of_kind), 3)
            run.context_recall_by_kind[kind] = round(sum(q.context_recall for q in of_kind) / len(of_kind), 3)
        run.context_recall = round(sum(q.context_recall for q in run.qa) / len(run.qa), 3)


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
    table = Table("clip", "kind", "question", "reference", "answer", "recall", "ctx recall", "ok",
                  title="QA accuracy", title_justify="left")
    for q in run.qa:
        table.add_row(q.clip, q.kind, q.question, _short(q.reference), _short(q.answer), f"{q.recall:.2f}",
                      f"{q.context_recall:.2f}", "yes" if q.correct else "no")
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
    skip_asr: Annotated[bool, typer.Option("--skip-asr", help="Skip the WER evaluation.")] = False,
    skip_qa: Annotated[bool, typer.Option("--skip-qa", help="Skip the QA evaluation.")] = False,
    threshold: Annotated[float, typer.Option("--threshold", help="Content-word recall that counts an answer correct.")] = 0.5,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Longest answer, in tokens.")] = 96,
    no_cleanup: Annotated[bool, typer.Option("--no-cleanup", help="Build contexts without the cleanup model.")] = False,
    online: Annotated[bool, typer.Option("--online", help="Allow downloads (default: offline).")] = False,
    stages: Annotated[Optional[str], typer.Option("--stages", help="Comma-separated perception stages (default: all).")] = None,
    recall_only: Annotated[bool, typer.Option("--recall-only", help="Measure context recall only; load no LLM.")] = False,
    no_shared_detector: Annotated[bool, typer.Option("--no-shared-detector", help="Do not use ../shared/models' YOLO11n TFLite as the detector.")] = False,
):
    """Score ASR (word error rate) and QA (answer accuracy) on the shared clips."""
    from perceive.models import set_offline

    console = Console(width=None if Console().is_terminal else 200)
    if not CLIPS.exists():
        raise typer.BadParameter(f"the shared clips are not in {CLIPS} (set VIDEOCHAT_CLIPS)")
    if models not in MODEL_SETS:
        raise typer.BadParameter(f"choose from {', '.join(MODEL_SETS)}", param_hint="--models")
    if not online:
        set_offline(True)
    overrides = model_overrides(models, model_dir)
    if models == "configured" and not no_shared_detector and SHARED_DETECTOR.exists() and "detector" not in overrides:
        overrides["detector"] = str(SHARED_DETECTOR)
    run = QualityRun(models=models)
    if not skip_asr:
        console.print("[bold]ASR[/]")
        asr_quality(run, overrides, console)
        console.print(wer_table(run))
    if not skip_qa:
        console.print("[bold]QA[/]")
        qa_quality(run, overrides, console, max_tokens, threshold, cleanup=not no_cleanup,
                   stages=tuple(s.strip() for s in stages.split(",")) if stages else None, ask=not recall_only)
        console.print(qa_table(run))
        by_kind = ", ".join(f"{k} {v:.0%}" for k, v in run.accuracy_by_kind.items())
        if run.accuracy is not None:
            console.print(f"[bold]QA accuracy {run.accuracy:.0%}[/] of {len(run.qa)} ({by_kind})", highlight=False)
        if run.context_recall is not None:
            recall = ", ".join(f"{k} {v:.0%}" for k, v in run.context_recall_by_kind.items())
            console.print(f"[bold]Context recall {run.context_recall:.0%}[/] ({recall})", highlight=False)
    for line in run.model_info:
        console.print(f"[dim]model {line}[/]", highlight=False)
    for note in run.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if json_out:
        json_out.write_text(run.model_dump_json(indent=1))
        console.print(f"results in {json_out}", highlight=False)


if __name__ == "__main__":
    app()
