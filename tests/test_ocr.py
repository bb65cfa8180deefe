"""OCR stage with the real PP-OCRv4 weights shipped in the rapidocr-onnxruntime wheel."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.quality import context_recall
from conftest import clip, manifest, text_error
from perceive.models import resolve
from perceive.ocr import same_text
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
