"""The second look: a question naming a time re-reads that span at 4 fps, within a budget, cached, marked in the context."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from langchain_core.messages import AIMessageChunk

from chat import api
from chat.llm import ChatLLM
from perceive.callbacks import PipelineCallbacks
from perceive.pipeline import PerceptionSettings
from perceive.records import Box, ModelInfo, Observation, Perception, VideoInfo
from perceive.relook import Relook, Window, relook_windows, windows
from perceive.video import iter_keyframes, probe
from prompting.context import video_context
from prompting.relook import with_relook

WORD = "PINEAPPLE"


@pytest.fixture(scope="module")
def flash(tmp_path_factory) -> Path:
    """10 s of navy with a white word in the middle for 0.4 s only (5.3-5.7 s): between two 1-fps keyframes."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    fonts = sorted(Path("/usr/share/fonts").rglob("DejaVuSans-Bold.ttf"))
    font = f"fontfile={fonts[0]}:" if fonts else ""
    out = tmp_path_factory.mktemp("relook") / "flash.mp4"
    draw = (f"drawtext={font}text='{WORD}':fontsize=64:fontcolor=white:x=(w-tw)/2:y=(h-th)/2"
            ":enable='between(t,5.3,5.7)'")
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=navy:s=640x360:d=10:r=25",
           "-vf", draw, "-pix_fmt", "yuv420p", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"ffmpeg drawtext unavailable: {done.stderr.strip()[-200:]}")
    return out


class Recorder(PipelineCallbacks):
    """Callbacks that keep every progress label and note."""

    def __init__(self):
        self.progress: list[str] = []
        self.notes: list[str] = []

    def on_progress(self, label, done, total):
        self.progress.append(label)

    def on_note(self, text, kind="note"):
        self.notes.append(text)


class RecordingLLM:
    """A stub chat model: keeps the messages it was sent, answers with a fixed text."""

    def __init__(self):
        self.sent: list = []

    def stream(self, messages, stop=None):
        self.sent.append(messages)
        yield AIMessageChunk(content="I cannot tell.")


def stub_llm() -> ChatLLM:
    return ChatLLM(model=RecordingLLM(), info=ModelInfo(role="llm", name="stub", source="path", weights="real"),
                   n_ctx=4096, max_tokens=64, count_tokens=lambda text: len(text) // 3 + 1)


OCR_ONLY = PerceptionSettings(stages=("ocr",))


def test_windows_widen_moments_and_join_overlaps():
    assert windows([(5.0, 6.0, True)], 10.0, 0.5) == [Window(4.5, 6.5)]
    assert windows([(5.0, 6.0, False)], 10.0, 0.5) == [Window(5.0, 6.0)]       # a range is looked at as named
    assert windows([(9.0, 10.0, True), (0.0, 1.0, True)], 9.8, 0.5) == [Window(0.0, 1.5), Window(8.5, 9.8)]
    assert windows([(2.0, 4.0, False), (3.5, 6.0, False)], 10.0, 0.5) == [Window(2.0, 6.0)]
    assert windows([(12.0, 12.0, False)], 10.0, 0.5) == []                       # past the end: nothing


def test_keyframes_from_a_start_time_are_on_its_grid(flash):
    frames = [f for batch in iter_keyframes(probe(flash), 4.0, 3, 640, max_seconds=6.5, start=4.5) for f in batch]
    times = [f.time for f in frames if f.time < 6.5]
    assert times == [4.5, 4.75, 5.0, 5.25, 5.5, 5.75, 6.0, 6.25]
    brightest = max(frames, key=lambda f: f.image.mean())
    assert 5.3 <= brightest.time <= 5.7 and brightest.image.mean() > frames[0].image.mean() + 3


def test_the_first_pass_misses_the_word_and_the_relook_reads_it(flash):
    pytest.importorskip("rapidocr_onnxruntime")
    first = api.perceive(flash, OCR_ONLY)
    assert WORD not in " ".join(o.text for o in first.observations).upper()
    hooks = Recorder()
    extra = relook_windows(probe(flash), [Window(4.5, 6.5)], OCR_ONLY, Relook(), callbacks=hooks)
    read = [o for o in extra.by_stage("ocr") if WORD in o.text.upper()]
    assert read and all(4.5 <= o.start <= o.end < 6.5 for o in read)
    assert extra.fps_sampled == 4.0 and any(label.startswith("re-look 4 fps") for label in hooks.progress)
    assert any("looked again at 4.5-6.5 s" in n.reason for n in extra.notes)
    # the same window again comes from the cache: no stage runs, the same observations
    again = Recorder()
    cached = relook_windows(probe(flash), [Window(4.5, 6.5)], OCR_ONLY, Relook(), callbacks=again)
    assert cached.observations == extra.observations
    assert not any(label.startswith("re-look") for label in again.progress)


def test_the_budget_bounds_the_work_and_a_cut_short_look_is_not_cached(flash):
    pytest.importorskip("rapidocr_onnxruntime")
    short = Relook(seconds=1e-6)
    extra = relook_windows(probe(flash), [Window(4.5, 6.5)], OCR_ONLY, short)
    assert extra.observations == [] and any(n.reason.startswith("re-look budget spent") for n in extra.notes)
    assert relook_windows(probe(flash), [Window(4.5, 6.5)], OCR_ONLY, short).notes == extra.notes   # looked at again


@pytest.mark.parametrize("question", [
    "What is written at 5 seconds?",
    "Which word flashes up on the screen around 0:05?",
    "What text shows between 5 and 6 seconds?",
    "Was steht bei 0:05 auf dem Bildschirm?",
])
def test_ask_with_a_time_relooks_that_span(flash, question):
    pytest.importorskip("rapidocr_onnxruntime")
    llm, hooks, shown = stub_llm(), Recorder(), []
    api.ask(flash, question, OCR_ONLY, llm=llm, cleanup=False, evidence=False, callbacks=hooks,
            on_context=shown.append)
    lines = [line for line in shown[-1].splitlines() if WORD in line.upper()]
    assert lines and all(line.startswith("Text 0:05") and "re-look 4 fps" in line for line in lines)
    assert WORD in str(llm.model.sent[-1][0].content).upper()       # the LLM was sent what the re-look read
    assert any(label.startswith("re-look 4 fps") for label in hooks.progress)


def test_ask_without_a_time_or_with_the_relook_off_looks_once(flash):
    pytest.importorskip("rapidocr_onnxruntime")
    for question, relook in (("What is written on the screen?", None), ("What is written at 5 seconds?",
                                                                        Relook(seconds=0))):
        llm, hooks, shown = stub_llm(), Recorder(), []
        api.ask(flash, question, OCR_ONLY, llm=llm, cleanup=False, evidence=False, callbacks=hooks,
                on_context=shown.append, relook=relook)
        assert WORD not in shown[-1].upper() and not any(p.startswith("re-look") for p in hooks.progress)


VIDEO = VideoInfo(path="v.mp4", duration=10.0, width=640, height=360, fps=25.0, has_audio=False)
MIDDLE, LEFT = Box(x1=0.3, y1=0.4, x2=0.7, y2=0.6), Box(x1=0.0, y1=0.4, x2=0.2, y2=0.6)


def test_relook_entries_are_tagged_and_repeats_left_out():
    first = Perception(video=VIDEO, fps_sampled=1.0, observations=[
        Observation(stage="ocr", start=3.0, end=7.0, text="OPEN DAILY", box=MIDDLE),
        Observation(stage="detection", start=5.0, text="dog", label="dog", box=LEFT, position="left")])
    extra = Perception(video=VIDEO, fps_sampled=4.0, notes=["re-look 4 fps: looked again at 4.5-6.5 s"],
                       observations=[
        Observation(stage="ocr", start=5.0, end=6.0, text="OPEN  DAILY.", box=MIDDLE),     # already there
        Observation(stage="ocr", start=5.5, end=5.5, text=WORD, box=MIDDLE),
        Observation(stage="detection", start=5.25, text="dog", label="dog", box=LEFT, position="left"),
        Observation(stage="detection", start=6.25, text="cat", label="cat", box=LEFT, position="left")])
    context = with_relook(video_context(first), extra, Relook().tag)
    text = context.render()
    assert f'Text 0:05-0:06 (center, re-look 4 fps): "{WORD}"' in text
    assert "Second 6 (re-look 4 fps): objects: 1 cat (left)." in text
    assert text.count("OPEN") == 1 and text.count("1 dog") == 1                # repeats are not added
    assert "Note: re-look 4 fps: looked again at 4.5-6.5 s" in text
    starts = [e.start for e in context.entries]
    assert starts == sorted(starts)
