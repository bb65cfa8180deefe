"""Mangled inputs (scripts/make_mangled.py) through perceive, context, ask and textualize, offline.

Tiny random-weight models run the visual stages, the real default LLM (SmolLM2,
a few tokens) answers. Each file gives a result or one ``error:`` line with exit
status 1: never a traceback, never a hang. The slow files (8K frames, 3 hours)
are measured by scripts/mangled_report.py instead.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import require_default_llm
from typer.testing import CliRunner

from chat.cli import app
from scripts.make_mangled import NON_UTF8_NAME, Mangled, make_corpus

QUESTION = "What happens in the video?"
LLM = ["--max-tokens", "4", "--no-cleanup"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Mangled]:
    return make_corpus(tmp_path_factory.mktemp("mangled"))


@pytest.fixture(scope="module")
def models(tiny_models) -> list[str]:
    """Tiny random-weight models and two stages: ASR decodes the audio, action the keyframes.

    (Tiny detection and captioning take seconds per clip on a small CPU; they read
    the same decoded keyframes as the action stage.)
    """
    return ["--stages", "asr,action"] + [arg for role in ("asr", "action")
                                         for arg in ("-m", f"{role}={tiny_models[role]}")]


@pytest.fixture(scope="module")
def real_llm():
    require_default_llm()


def by_name(corpus: list[Mangled], name: str) -> Mangled:
    return next(item for item in corpus if item.name == name)


def check_outcome(item: Mangled, code: int, stdout: str, stderr: str, says: bool = True) -> None:
    """A result (exit 0) or exactly one ``error:`` line, last on stderr (exit 1), as the corpus expects."""
    assert "Traceback" not in stderr + stdout, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if code == 0:
        assert item.expect in ("ok", "either"), f"{item.what}: expected an error, got a result"
        assert not errors
    else:
        assert code == 1 and item.expect in ("error", "either"), f"{item.what}: {stderr}"
        assert len(errors) == 1 and lines[-1] == errors[0], stderr
    if says:
        assert item.says in stdout + stderr, f"{item.what}: {item.says!r} not in {stdout + stderr}"


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.mark.slow
def test_perceive_context_ask_and_textualize_each_mangled_file(corpus, models, real_llm, tmp_path):
    """perceive fills the perception cache; context, ask and textualize then run their own paths on it."""
    for item in corpus:
        perceived = invoke("perceive", str(item.path), "--offline", *models)
        check_outcome(item, perceived.exit_code, perceived.stdout, perceived.stderr)

        context = invoke("context", str(item.path), "--offline", "--no-cleanup", *models)
        check_outcome(item, context.exit_code, context.stdout, context.stderr)
        assert context.exit_code == perceived.exit_code

        asked = invoke("ask", str(item.path), QUESTION, "--offline", "--show-context", *models, *LLM)
        check_outcome(item, asked.exit_code, asked.stdout, asked.stderr, says=False)
        assert asked.exit_code == perceived.exit_code
        if asked.exit_code == 0:
            sent = asked.stdout.split("context sent to the LLM:", 1)[1]
            assert f"Video length: " in sent and "Evidence" in sent   # the LLM got this video's evidence block
            if "\ufffd" not in item.says:   # a file name is not evidence: not in the block (printed by `context`)
                assert item.says in sent + asked.stderr
            assert "real weights" in asked.stderr                 # SmolLM2 answered

    out = tmp_path / "out.jsonl"
    done = invoke("textualize", *(str(i.path) for i in corpus), "-o", str(out), "-j", "1", "--offline",
                  "--no-cleanup", *models)
    assert done.exit_code == 0 and "Traceback" not in done.stderr, done.stderr
    records = {r["path"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert len(records) == len(corpus)
    for item in corpus:
        record = records[os.fsencode(item.path).decode("utf-8", "replace")]
        if item.expect == "ok":
            assert record["error"] is None and record["context"], item.what
        elif item.expect == "error":
            assert record["error"] and record["context"] is None, item.what
        assert item.says in json.dumps(record, ensure_ascii=False), f"{item.what}: {item.says!r} not in its record"


def test_truncated_file_says_so_in_the_context_on_stderr_and_in_the_record(corpus, models, tmp_path):
    item = by_name(corpus, "faststart-cut-30pct.mp4")
    result = invoke("context", str(item.path), "--offline", "--no-cleanup", *models)
    assert result.exit_code == 0
    [header] = [line for line in result.stdout.splitlines() if "looks truncated" in line]
    assert header.startswith("Note: decoded ") and header.endswith(" of 8.0 s: the file looks truncated")
    assert "note: decoded " in result.stderr and "looks truncated" in result.stderr

    out = tmp_path / "cut.jsonl"
    done = invoke("textualize", str(item.path), "-o", str(out), "-j", "1", "--offline", "--no-cleanup", *models)
    assert done.exit_code == 0, done.stderr
    [record] = map(json.loads, out.read_text().splitlines())
    assert any(n.endswith("of 8.0 s: the file looks truncated") for n in record["notes"])
    assert header in record["context"]

    whole = by_name(corpus, "faststart-cut-90pct.mp4")      # most of it decodes: no note
    assert "truncated" not in invoke("context", str(whole.path), "--offline", "--no-cleanup", *models).stdout


def test_max_seconds_bounds_what_is_perceived_and_says_so(models):
    from conftest import SAMPLES

    result = invoke("context", str(SAMPLES / "talk.mp4"), "--max-seconds", "3", "--offline", "--no-cleanup", *models)
    assert result.exit_code == 0, result.stderr
    assert "Note: perceived only the first 3.0 s of 8.0 s (--max-seconds)" in result.stdout
    assert "truncated" not in result.stdout
    perceived = invoke("perceive", str(SAMPLES / "talk.mp4"), "--max-seconds", "3", "--json", "--offline", *models)
    observations = json.loads(perceived.stdout)["observations"]
    assert observations and all(o["start"] < 3 for o in observations)
    bad = invoke("perceive", str(SAMPLES / "talk.mp4"), "--max-seconds", "0", "--offline", *models)
    assert bad.exit_code == 1 and bad.stderr.strip().startswith("error: --max-seconds must be above 0")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The real command, with its real UTF-8 stdout (where an unprintable name used to fail)."""
    return subprocess.run([sys.executable, "-m", "chat.cli", *args], capture_output=True, timeout=180)


def test_non_utf8_file_name_works_and_prints_replacement_characters(corpus, models):
    item = next(i for i in corpus if os.fsencode(i.path.name) == NON_UTF8_NAME)
    shown = "clip-\ufffd\ufffd.mp4"

    perceived = invoke("perceive", str(item.path), "--json", "--offline", *models)
    assert perceived.exit_code == 0, perceived.stderr
    record = json.loads(perceived.stdout)
    assert record["video"]["path"].endswith(shown) and record["video"]["duration"] == pytest.approx(5.0)

    context = run_cli("context", str(item.path), "--offline", "--no-cleanup", *models)
    assert context.returncode == 0, context.stderr.decode()
    assert f"Video file name (not evidence of the content): {shown}\n" in context.stdout.decode()

    missing = invoke("perceive", str(item.path.with_name(os.fsdecode(b"gone-\xff.mp4"))), "--offline")
    assert missing.exit_code == 1
    assert missing.stderr.strip().endswith("gone-\ufffd.mp4: no such file")


def test_truncation_note_only_when_much_is_missing():
    from perceive.pipeline import truncation_note

    assert truncation_note(0.0, 9.7).render() == "decoded 0.0 s of 9.7 s: the file looks truncated"
    assert truncation_note(0.0, 9.7).stage is None          # about the whole file, no stage skipped
    assert truncation_note(7.0, 8.0) is None                # 1 s short: sampling, not truncation
    assert truncation_note(9000.0, 10800.0) is not None     # 30 min short of 3 h
    assert truncation_note(0.0, 0.0) is None                # nothing declared, nothing missing
