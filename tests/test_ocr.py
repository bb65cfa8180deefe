"""OCR stage with the real PP-OCR weights shipped in the rapidocr (PP-OCRv6) or rapidocr-onnxruntime (PP-OCRv4) wheel."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bench.quality import context_recall
from conftest import clip, manifest, text_error
from perceive.models import resolve
from perceive.ocr import BORDER, next_value, padded, read_frame, same_text
from perceive.pipeline import PerceptionSettings, build_stages, perceive_video

pytest.importorskip("rapidocr_onnxruntime")


def ocr_stage(**options):
    [stage], notes = build_stages(PerceptionSettings(stages=("ocr",), stage_options={"ocr": options}))
    assert not notes
    return stage


def test_default_ocr_model_is_real_and_local():
    spec = resolve("ocr")
    assert spec.source == "package" and spec.weights == "real" and spec.backend == "rapidocr"


def test_same_text_tolerates_slips_not_new_digits():
    assert same_text("Manifesto of the", "Manifesto ofthe")
    assert same_text("TAXI", "taxi.")
    assert not same_text("01:00:20:00", "01:00:21:00")
    assert not same_text("Exit", "Entrance")


def drawtext_sample(folder: Path) -> Path:
    """8 s: 'OPEN DAILY 9 TO 5' at the top for 4 s, then 'Pocket guide' at the bottom on another colour."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    fonts = sorted(Path("/usr/share/fonts").rglob("DejaVuSans-Bold.ttf"))
    font = f"fontfile={fonts[0]}:" if fonts else ""
    out = folder / "drawtext.mp4"
    graph = (f"[0]drawtext={font}text='OPEN DAILY 9 TO 5':fontsize=44:fontcolor=white:x=(w-tw)/2:y=20[a];"
             f"[1]drawtext={font}text='Pocket guide':fontsize=44:fontcolor=black:x=(w-tw)/2:y=h-th-30[b];"
             "[a][b]concat=n=2:v=1[v]")
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=navy:s=640x360:d=4:r=10",
           "-f", "lavfi", "-i", "color=c=khaki:s=640x360:d=4:r=10", "-filter_complex", graph, "-map", "[v]",
           "-pix_fmt", "yuv420p", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"ffmpeg drawtext unavailable: {result.stderr.strip()[-200:]}")
    return out


@pytest.mark.slow
def test_drawtext_sample_gives_two_positioned_spans_in_two_reads(tmp_path):
    stage = ocr_stage()
    p = perceive_video(drawtext_sample(tmp_path), PerceptionSettings(stages=("ocr",)), stages=[stage], notes=[])
    spans = [(o.text, o.start, o.end, o.position) for o in p.by_stage("ocr")]
    assert len(spans) == 2, spans
    for (read, *_), known in zip(spans, ("OPEN DAILY 9 TO 5", "Pocket guide")):
        assert text_error(known, read) <= 0.2, spans                 # measured 0.0
    assert spans[0][1:] == (0.0, 3.0, "top") and spans[1][1:] == (4.0, 7.0, "bottom")
    assert stage.reads == 2                    # unchanged keyframes are not read again
    assert all(o.score > 0.8 for o in p.by_stage("ocr")) and p.models[0].weights == "real"


@pytest.mark.slow
def test_reads_at_most_every_interval(tmp_path):
    stage = ocr_stage(interval=2.0, change_threshold=0.0)   # every keyframe counts as changed
    perceive_video(drawtext_sample(tmp_path), PerceptionSettings(stages=("ocr",)), stages=[stage], notes=[])
    assert stage.reads == 4                    # 8 keyframes, one read per 2 s


@pytest.mark.slow
def test_reads_the_manifesto_cover_once():
    stage = ocr_stage()
    p = perceive_video(clip("videogrep_manifesto.mp4"), PerceptionSettings(stages=("ocr",)), stages=[stage],
                       notes=[])
    text = " ".join(o.text for o in p.by_stage("ocr"))
    cover = " ".join(re.findall(r"'([^']+)'", manifest()["videogrep_manifesto.mp4"]["description"]))
    assert context_recall(cover, text) >= 0.7 and context_recall(text, cover) >= 0.7, text   # measured 1.0, 1.0
    assert stage.reads == 1                    # a static cover for 88 s: read once
    assert all(o.start == 0 and o.end >= 87 for o in p.by_stage("ocr"))


@pytest.mark.slow
def test_reads_a_burnt_in_countdown():
    p = perceive_video(clip("videollava_sample_demo_3.mp4"), PerceptionSettings(stages=("ocr",)))
    assert p.by_stage("ocr"), "no on-screen text found"
    assert all(o.end >= o.start and o.position for o in p.by_stage("ocr"))


def cer(read: str, truth: str) -> float:
    """Character error rate of ``read`` against ``truth``."""
    import jiwer

    return jiwer.cer(truth, read) if read else 1.0


def ffmpeg_clip(out: Path, seconds: float, colour: str, drawtext: str, rate: int = 25) -> Path:
    """A ``seconds`` long 640x360 clip of one ``colour`` with one ffmpeg ``drawtext`` filter (DejaVu Sans Bold)."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    fonts = sorted(Path("/usr/share/fonts").rglob("DejaVuSans-Bold.ttf"))
    font = f"fontfile={fonts[0]}:" if fonts else ""
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
           "-i", f"color=c={colour}:s=640x360:d={seconds}:r={rate}", "-vf", f"drawtext={font}{drawtext}",
           "-pix_fmt", "yuv420p", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"ffmpeg drawtext unavailable: {result.stderr.strip()[-200:]}")
    return out


def timecode_clip(folder: Path, seconds: int = 24) -> Path:
    """A running SMPTE timecode from 01:00:00:00 in the bottom-right corner: a corner clock moves no thumbnail."""
    return ffmpeg_clip(folder / "timecode.mp4", seconds, "darkgreen",
                       "timecode='01\\:00\\:00\\:00':rate=25:fontsize=32:fontcolor=white:box=1:boxcolor=black"
                       ":x=w-tw-20:y=h-th-20")


class FakeEngine:
    """Stands in for RapidOCR: it 'finds' one line exactly where the padded image has dark pixels."""

    def __init__(self):
        self.shapes = []

    def __call__(self, bgr, **_):
        self.shapes.append(bgr.shape)
        ys, xs = np.nonzero(bgr[..., 0] < 128)
        x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
        return [[[[x1, y1], [x2, y1], [x2, y2], [x1, y2]], "EDGE", 0.99]], None


def test_frames_are_padded_with_their_edge_colour_and_boxes_map_back():
    image = np.full((360, 640, 3), 255, np.uint8)
    image[100:140, 500:] = 0                        # a dark line running off the right edge
    padded_image = padded(image)
    assert padded_image.shape == (360 + 2 * BORDER, 640 + 2 * BORDER, 3)
    assert (padded_image[:BORDER] == 255).all() and (padded_image[:, -BORDER:] == 255).all()
    engine = FakeEngine()
    [reading] = read_frame(engine, image)
    assert engine.shapes == [padded_image.shape]
    b = reading.box
    assert b.x1 == pytest.approx(500 / 640, abs=2e-3) and b.x2 == pytest.approx(639 / 640, abs=2e-3)
    assert b.y1 == pytest.approx(100 / 360, abs=3e-3) and b.y2 == pytest.approx(139 / 360, abs=3e-3)


def test_next_value_tells_a_moving_clock_from_other_text():
    assert next_value("01:00:20:00", "01:00:21:00")
    assert next_value("Score 3-1", "Score 3-2") and next_value("9", "10")
    assert not next_value("01:00:20:00", "01:00:20:00")       # the same value
    assert not next_value("Exit 3", "Pocket guide")            # another text
    assert not next_value("OPEN", "SHUT")                      # no digits


@pytest.mark.slow
def test_a_line_running_off_the_edge_is_read(tmp_path):
    """White frame, black line from x=60 off the right edge, touching the top edge."""
    truth = "Breaking news from the harbour tonight"
    video = ffmpeg_clip(tmp_path / "edge.mp4", 1, "white", f"text='{truth}':fontsize=40:fontcolor=black:x=60:y=0",
                        rate=2)
    p = perceive_video(video, PerceptionSettings(stages=("ocr",)), stages=[ocr_stage()], notes=[])
    [read] = [o.text for o in p.by_stage("ocr")]
    assert len(read) >= 15                                 # most of the visible part
    assert min(cer(read, truth[:k]) for k in range(len(read) - 3, len(read) + 4)) <= 0.1
    assert p.by_stage("ocr")[0].box.y1 == pytest.approx(0.0, abs=0.03)


@pytest.mark.slow
def test_a_running_timecode_is_one_changing_line_with_the_value_at_20_s(tmp_path):
    from prompting.context import CHANGING, video_context
    from answer.pipeline import gather as select_evidence
    from answer.records import said_text

    stage = ocr_stage()
    p = perceive_video(timecode_clip(tmp_path), PerceptionSettings(stages=("ocr",)), stages=[stage], notes=[])
    assert stage.reads <= 3 < stage.rereads                # one whole read, the corner row again and again
    values = p.by_stage("ocr")
    assert len(values) >= 18                               # about one value per second, not one text
    context = video_context(p)
    [line] = [e for e in context.entries if e.kind == "text"]
    assert line.tag == CHANGING and line.line().startswith("Text 0:00-0:2") and "(bottom right), changing" in line.line()
    at_20 = [o.text for o in line.observations if o.start == 20.0]
    assert at_20 and cer(at_20[0], "01:00:20:00") <= 0.2   # the typed record holds the value read at 20 s
    assert at_20[0] in context.render()
    evidence = select_evidence(context, "What does the clock in the corner show at 20 seconds?")
    shown = [said_text(e) for e in evidence.entries if e.kind == "text"]
    assert len(shown) == 1 and cer(shown[0], "01:00:20:00") <= 0.2
