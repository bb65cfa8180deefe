"""Rich tables of a :class:`~bench.records.BenchRun`: one per clip, one for ``ask``, one summary.

``markdown=True`` draws them as pipe tables, ready to paste into the README.
"""
from __future__ import annotations

from rich import box
from rich.table import Table

from bench.records import AskRun, BenchRun, ClipRun

TEXTUALIZE_TARGET_S = 10.0      # per 10 s of video
RSS_TARGET_MB = 4096.0
FIRST_TOKEN_TARGET_S = 2.0


def num(value: float | None, digits: int = 2) -> str:
    """A number for a table cell; ``-`` when there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def first_token(seconds: float | None) -> str:
    """A first-token latency checked against the target."""
    return "-" if seconds is None else f"{num(seconds)} ({mark(seconds < FIRST_TOKEN_TARGET_S)})"


def _table(title: str, markdown: bool, *columns: str) -> Table:
    table = Table(title=title, box=box.MARKDOWN if markdown else box.SIMPLE_HEAD, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i < 3 else "right")
    return table


def model_label(name: str, weights: str) -> str:
    """The model name as a table shows it: a path shortened to its last parts, random weights flagged."""
    parts = name.rstrip("/").split("/")
    short = "/".join(parts[-2:]) if name.startswith("/") else name
    return f"{short} [RANDOM]" if weights == "random" else short


def stage_table(clip: ClipRun, markdown: bool = False) -> Table:
    """Per stage: model load, wall and CPU seconds, speed against the video, keyframe rate, memory."""
    audio = "audio" if clip.has_audio else "no audio"
    table = _table(f"{clip.clip}: {clip.duration:.1f} s, {clip.resolution}, {audio}, {clip.keyframes} keyframes",
                   markdown, "stage", "model", "device", "threads", "load s", "wall s", "cpu s", "video s/wall s",
                   "wall/video", "frames/s", "RSS +load MB", "RSS peak MB")
    for row in clip.stages:
        timed = row.wall_s >= 0.01  # no speeds from a stage that did (next to) nothing
        table.add_row(row.stage, model_label(row.model, row.weights), row.device,
                      str(row.threads) if row.threads else "", num(row.load_s) if row.model else "",
                      num(row.wall_s), num(row.cpu_s) if row.cpu_s else "", num(row.video_per_wall if timed else None),
                      num(row.realtime_factor if timed else None), num(row.fps if timed else None),
                      f"{row.rss_load_mb:.0f}" if row.model else "",
                      f"{row.rss_peak_mb:.0f}" if row.rss_peak_mb else "")
    total = clip.import_s + clip.textualize_s
    table.add_row("total", "imports, setup, model loads, perception, context", "", "", "", num(total),
                  num(clip.textualize_cpu_s), num(clip.duration / total if total else None),
                  num(total / clip.duration if clip.duration else None), "", "", f"{clip.peak_rss_mb:.0f}")
    return table


def ask_rows(run: AskRun) -> list[tuple[str, ...]]:
    """Table rows for one ``ask`` run: one per question."""
    rows = []
    for i, q in enumerate(run.questions, 1):
        setup = run.import_s + run.llm_load_s + run.perception_s + run.cleanup_load_s + run.context_s + run.embed_s
        before = setup if i == 1 else 0.0
        speed = q.answer_tok_s or (q.answer_tokens / (q.answer_s - q.first_token_s) if q.first_token_s is not None
                                   and q.answer_s - q.first_token_s > 0.1 else None)   # not a held answer's
        rows.append((f"{run.label}, question {i}", num(run.import_s) if i == 1 else "",
                     num(run.llm_load_s) if i == 1 else "", num(run.perception_s) if i == 1 else "",
                     num(run.cleanup_load_s + run.context_s) if i == 1 else "", num(run.embed_s) if i == 1 else "",
                     str(q.prompt_tokens), num(q.prompt_eval_s), num(q.prompt_tok_s, 1), num(q.first_token_s),
                     num(q.answer_s), num(speed, 1),
                     num(before + (q.first_token_s or 0.0))))
    return rows


def ask_table(clip: ClipRun, markdown: bool = False) -> Table | None:
    """``ask`` end to end: setup steps (imports, LLM load with its tokenizer, perception, cleanup and context,
    the entries' embeddings), then per question its prompt's evaluation, first token and full answer."""
    runs = [r for r in (clip.ask, clip.cached_ask) if r is not None]
    if not runs:
        return None
    table = _table(f"{clip.clip}: ask", markdown, "run", "import s", "LLM load s", "perception s",
                   "cleanup+context s", "embeddings s", "prompt tokens", "prompt eval s", "prompt tokens/s",
                   "first token s", "answer s", "tokens/s", "to first token s")
    for run in runs:
        for row in ask_rows(run):
            table.add_row(*row)
    return table


def summary_table(run: BenchRun, markdown: bool = False) -> Table:
    """One line per clip against the targets: textualize time per 10 s of video, peak RSS, first token."""
    table = _table("Summary against the targets (textualize: imports, setup, model loads, perception, context; "
                   "Q2: the second question, first token after asking; new process: all setup in brackets)",
                   markdown, "clip", "video s", "textualize s", "per 10 s video", "peak RSS MB",
                   "cold ask to 1st token s", "Q2 same session s", "Q2 new process s")
    for clip in run.clips:
        if clip.error:
            table.add_row(clip.clip, num(clip.duration, 1), "error", clip.error[:60], "", "", "", "")
            continue
        total = clip.import_s + clip.textualize_s
        per10 = total / clip.duration * 10 if clip.duration else None
        second = clip.ask.questions[1].first_token_s if clip.ask and len(clip.ask.questions) > 1 else None
        cached = "-"
        if clip.cached_ask and clip.cached_ask.questions:
            first = clip.cached_ask.questions[0].first_token_s
            cached = f"{first_token(first)} ({ask_rows(clip.cached_ask)[0][-1]})"
        cold = num(total + float(ask_rows(clip.ask)[0][-1])) if clip.ask and clip.ask.questions else "-"
        table.add_row(clip.clip, num(clip.duration, 1), num(total),
                      f"{num(per10)} ({mark(per10 is not None and per10 <= TEXTUALIZE_TARGET_S)})",
                      f"{clip.peak_rss_mb:.0f} ({mark(clip.peak_rss_mb < RSS_TARGET_MB)})", cold,
                      first_token(second), cached)
    return table


def heading(run: BenchRun) -> str:
    """One line naming the machine and the model set."""
    m = run.machine
    load = f"load average {m.load_average:.1f}" + (f" -> {run.load_average_end:.1f}" if run.load_average_end else "")
    return (f"{m.cpu}, {m.cores} cores, Python {m.python}, {load}; models: {run.models} "
            f"({run.models_note}); {run.fps:g} keyframe/s; profile {run.profile}; device {run.device}; {m.time}")
