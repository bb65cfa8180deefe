"""Smoke tests of the benchmark helpers: text normalization, WER, answer scoring, memory meter, tables.

The benchmarks themselves (``python -m bench``, ``python -m bench.quality``) are not part of the suite.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from bench.measure import Meter, peak_rss_mb, rss_mb
from bench.records import AskRun, BenchRun, ClipRun, Question, StageRow
from bench.report import ask_table, stage_table, summary_table
from bench.runner import GENERIC_QUESTIONS, find_clips, model_overrides, questions_for
from bench.scoring import content_words, normalize, score_answer, srt_text, word_error_rate
from conftest import clip


def test_normalize_spells_small_numbers_and_splits_letters_from_digits():
    assert normalize("Bin blue at F2, now!") == "bin blue at f two now"
    assert normalize("Place white in J3 please.") == "place white in j three please"
    assert normalize("It's 42 and 2024") == "it's forty two and 2024"
    assert normalize("The spectre of colour") == "the specter of color"  # openai-whisper's spelling table


def test_word_error_rate_counts_edits_after_normalization():
    assert word_error_rate("bin blue at f two now", "Bin blue at F2 now.").wer == 0.0
    score = word_error_rate("bin blue at f two now", "Bimblue F2 now.")
    assert (score.words, score.substitutions, score.deletions, score.insertions) == (6, 1, 2, 0)
    assert score.wer == pytest.approx(0.5)
    assert word_error_rate("set white", "").wer == 1.0
    with pytest.raises(ValueError):
        word_error_rate("...", "words")


def test_srt_text_keeps_only_the_spoken_lines():
    srt = "1\n00:00:01,599 --> 00:00:03,919\nthis audiobook is in\n\n2\n00:00:03,919 --> 00:00:05,359\n<i>the public</i> domain\n"
    assert srt_text(srt) == "this audiobook is in the public domain"


def test_score_answer_rules():
    assert score_answer("In London.", "They assembled in London.").correct
    yes_no = score_answer("No; the same still drawing of a lighthouse stays on screen.", "No, the picture never changes.")
    assert yes_no.correct and yes_no.rule == "yes/no"
    assert not score_answer("No, the camera cuts between many places.", "Yes, it never cuts.").correct
    partial = score_answer("A green T-shirt, a green hat and boots.", "She wears a green hat and boots.")
    assert partial.correct and partial.recall == pytest.approx(0.6)
    assert not score_answer("Arm wrestling.", "They are eating lunch.").correct
    assert not score_answer("A bicycle helmet.", "A hat.", threshold=0.5).correct


def test_content_words_drop_stopwords_and_meet_plurals():
    assert content_words("The bottles on the table") == content_words("a bottle and tables")
    assert "the" not in content_words("the man")


def test_meter_sees_memory_allocated_inside_a_phase():
    meter = Meter()
    with meter.phase("alloc") as phase:
        block = np.ones(80 * 1024 * 1024 // 8)  # 80 MiB, touched
        time.sleep(0.2)                          # alive for many samples (a busy machine delays the sampler)
        del block
    assert phase.calls == 1 and phase.seconds > 0
    assert phase.rss_peak_mb - (rss_mb() - phase.rss_delta_mb) > 60
    assert peak_rss_mb() >= phase.rss_peak_mb - 1


def _clip_run() -> ClipRun:
    stages = [StageRow(stage="decode frames", wall_s=0.5, frames=10, video_s=10.0),
              StageRow(stage="caption", model="/cache/real-arch/captioner", weights="random", device="cpu",
                       load_s=2.0, wall_s=5.0, cpu_s=9.0, frames=10, video_s=10.0, rss_load_mb=900, rss_peak_mb=1500)]
    ask = AskRun(label="same process", llm_load_s=1.0, questions=[
        Question(question="q1", first_token_s=3.0, answer_s=4.0, answer_tokens=20, prompt_tokens=900),
        Question(question="q2", first_token_s=0.3, answer_s=1.0, answer_tokens=14, prompt_tokens=950)])
    return ClipRun(clip="a.mp4", duration=10.0, resolution="640x360", has_audio=False, keyframes=10,
                   stages=stages, import_s=3.0, textualize_s=8.0, peak_rss_mb=2000, ask=ask)


def test_tables_flag_random_models_and_check_targets():
    run = BenchRun(models="real-arch", clips=[_clip_run()])
    row = run.clips[0].stages[1]
    assert row.realtime_factor == pytest.approx(0.5) and row.video_per_wall == pytest.approx(2.0)
    assert row.fps == pytest.approx(2.0)
    console = Console(width=250, record=True)
    for table in (stage_table(run.clips[0]), ask_table(run.clips[0]), summary_table(run)):
        console.print(table)
    text = console.export_text()
    assert "real-arch/captioner [RANDOM]" in text
    assert "11.00 (MISSED)" in text          # 3 s imports + 8 s textualize for 10 s of video
    assert "0.30 (ok)" in text               # second question's first token under 2 s
    assert BenchRun.model_validate_json(run.model_dump_json()).clips[0].ask.questions[1].first_token_s == 0.3


def test_questions_come_from_the_dev_set_else_generic(tmp_path, monkeypatch):
    """A dev set of our own (the real one is for measuring only: no test repeats its wording)."""
    import json

    import bench.runner

    asked = [{"clip": "talk.mp4", "q": "Which room is named?"}, {"clip": "other.mp4", "q": "Who waves?"},
             {"clip": "talk.mp4", "q": "When does the meeting start?"}, {"clip": "talk.mp4", "q": "Third one?"}]
    (tmp_path / "dev_questions.jsonl").write_text("".join(json.dumps(a) + "\n" for a in asked) + "\n")
    monkeypatch.setattr(bench.runner, "CLIPS", tmp_path)
    assert questions_for(Path("talk.mp4")) == ["Which room is named?", "When does the meeting start?"]
    assert questions_for(Path("other.mp4")) == ["Who waves?", GENERIC_QUESTIONS[0]]
    assert questions_for(Path("nothing.mp4")) == list(GENERIC_QUESTIONS)


def test_find_clips_and_model_sets(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_clips(["no-such-clip.mp4"])
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    assert find_clips([f"{video},"]) == [video]
    assert model_overrides("configured", tmp_path) == {}
    with pytest.raises(ValueError):
        model_overrides("huge", tmp_path)


def test_grid_references_come_from_the_manifest():
    from bench.quality import grid_references, wer_references

    clip("MANIFEST.tsv")
    refs = grid_references()
    assert refs["grid_bbaf2n.mpg"] == "bin blue at f two now"
    assert refs["grid_id2_vcd_swwp2s.mpg"] == "set white with p two soon"
    assert len(refs) == 11
    assert wer_references()["videogrep_manifesto.mp4"].startswith("this audiobook is in the public domain")


def test_window_haystack_hides_the_needle_in_the_middle_of_a_long_enough_context():
    from bench.window import NEEDLES, haystack
    from prompting.tokens import approx_tokens

    needle = NEEDLES[0][0]
    for tokens in (300, 1200):
        context = haystack(needle, tokens, approx_tokens)
        text = context.render()
        assert approx_tokens(text) >= tokens and text.count(needle) == 1
        said = [e for e in context.entries if e.kind == "speech"]
        where = [i for i, e in enumerate(said) if needle in e.text][0]
        assert 0.25 <= where / len(said) <= 0.75          # in the middle, not at either end


def test_quality_llm_option_answers_with_the_given_gguf_and_refuses_a_missing_file(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from bench import quality

    clip("dev_questions.jsonl")
    gguf = tmp_path / "any-model.gguf"
    gguf.write_bytes(b"GGUF")
    seen = {}
    monkeypatch.setattr(quality, "qa_quality", lambda run, overrides, *a, **k: seen.update(overrides))
    flags = ["--skip-asr", "--skip-languages", "--skip-answer-language", "--no-shared-detector"]
    result = CliRunner().invoke(quality.app, [*flags, "--llm", str(gguf)])
    assert result.exit_code == 0, result.output
    assert seen == {"llm": str(gguf)}
    result = CliRunner().invoke(quality.app, [*flags, "--llm", str(tmp_path / "missing.gguf")])
    assert result.exit_code == 2 and "does not exist" in result.output
