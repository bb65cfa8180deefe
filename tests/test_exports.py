"""``videochat context --format``: whisper-style exports, each written, parsed back and compared."""
from __future__ import annotations

import json
import subprocess
import sys

import pysubs2
import pytest

from library.exports import ON_SCREEN, FORMATS, ContextRecord, cues, formats_of, notes, record, write_exports
from perceive.records import Box, Observation, Perception, VideoInfo
from prompting.context import video_context
from tests.conftest import clip


def _perception() -> Perception:
    said = [(0.4, 2.6, 'He said "hi" <b>{\\i1}bold</b> --> & more', "en"), (3.0, 5.25, "Ünïcödé words: 日本語", "en"),
            (6.0, 7.5, "Bonjour à tous", "fr")]
    observations = [Observation(start=a, end=b, stage="asr", text=t, language=lang, language_probability=0.9)
                    for a, b, t, lang in said]
    observations += [Observation(start=1.0, end=4.0, stage="ocr", text="BREAKING *news* [live]",
                                 box=Box(x1=0.1, y1=0.8, x2=0.9, y2=0.95)),
                     Observation(start=2.0, stage="detection", text="person", label="person", score=0.9,
                                 box=Box(x1=0.2, y1=0.2, x2=0.6, y2=0.9))]
    return Perception(video=VideoInfo(path="/videos/talk #1.mp4", duration=8.0, width=640, height=360, fps=25,
                                      has_audio=True, content_hash="0123456789abcdef"),
                      fps_sampled=1.0, observations=observations)


def test_every_format_round_trips(tmp_path):
    perception = _perception()
    context = video_context(perception)
    written = write_exports(perception, context, list(FORMATS), tmp_path)
    assert [p.name for p in written] == [f"talk #1.{f}" for f in FORMATS]
    expected = cues(context)
    assert [t for *_, t in expected] == [
        "He said \"hi\" ‹b›(\\i1)bold‹/b› --› & more", f"{ON_SCREEN}BREAKING *news* [live]", "Ünïcödé words: 日本語",
        "Bonjour à tous"]   # speech and on-screen text in time order; nothing a reader takes for markup
    for fmt in ("srt", "vtt"):
        back = pysubs2.load(str(tmp_path / f"talk #1.{fmt}"))
        assert [(e.start, e.end, e.plaintext) for e in back] == [
            (round(a * 1000), round(b * 1000), t) for a, b, t in expected], fmt
    assert ContextRecord.model_validate_json((tmp_path / "talk #1.json").read_text()) == record(perception, context)
    assert (tmp_path / "talk #1.txt").read_text() == context.render() + "\n"
    md = (tmp_path / "talk #1.md").read_text()
    assert md == notes(context) and md.startswith("# talk \\#1.mp4\n")
    assert "## Timeline" in md and "## Speech" in md and "- **0:06-0:08** Bonjour à tous" in md
    assert '- Text 0:01-0:04 (bottom): "BREAKING \\*news\\* \\[live\\]"' in md and "\\<b\\>" in md   # Markdown and HTML escaped


def test_format_names():
    assert formats_of("all") == list(FORMATS) and formats_of("srt, vtt,srt") == ["srt", "vtt"]
    with pytest.raises(ValueError, match="unknown format 'doc'"):
        formats_of("doc")


def test_context_command_writes_all_formats_of_a_real_clip(tmp_path):
    video = clip("retalking_face_1.mp4")
    done = subprocess.run([sys.executable, "-m", "chat.cli", "context", str(video), "--format", "all", "-o",
                           str(tmp_path), "--stages", "asr", "--no-cleanup", "--offline"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.suffix for p in tmp_path.iterdir()) == sorted(f".{f}" for f in FORMATS)
    data = json.loads((tmp_path / "retalking_face_1.json").read_text())
    speech = [e for e in data["entries"] if e["kind"] == "speech"]
    srt = pysubs2.load(str(tmp_path / "retalking_face_1.srt"))
    assert speech and len(srt) == len(speech)   # one cue per speech entry, at its times
    for cue, entry in zip(srt, speech):
        assert abs(cue.start / 1000 - entry["start"]) < 0.002 and cue.plaintext in entry["text"]
    assert "help" in " ".join(e.plaintext for e in srt).lower()
    assert (tmp_path / "retalking_face_1.txt").read_text().startswith("Video file name (not evidence")
    bad = subprocess.run([sys.executable, "-m", "chat.cli", "context", str(video), "--format", "doc", "--offline"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and bad.stderr.startswith("error: unknown format")
