"""Typed notes: made once where a stage is skipped, rendered for the user, and read by their fields elsewhere;
a perception cached before the types (notes as strings) still loads."""
from __future__ import annotations

import json

from perceive.models import ModelUnavailable
from perceive.pipeline import PerceptionSettings, build_stages
from perceive.records import NO_MODEL, ModelInfo, Note, Perception, VideoInfo
from prompting.context import video_context
from prompting.speech import asr_ran

VIDEO = VideoInfo(path="clip.mp4", duration=4.0, width=64, height=64, fps=25.0, has_audio=False)


def test_a_note_renders_its_stage_reason_and_fix():
    missing = Note.no_model("caption", ModelUnavailable("captioner model 'm' is not available offline; use -m"))
    assert missing.stage == "caption" and missing.reason == NO_MODEL and missing.missing_model
    assert missing.render() == f"caption skipped: {NO_MODEL}; captioner model 'm' is not available offline; use -m"
    assert missing.render(fix=False) == f"caption skipped: {NO_MODEL}"
    whole = Note(reason="decoded 1.0 s of 9.0 s: the file looks truncated")
    assert whole.render() == whole.reason and whole.stage is None and not whole.missing_model


def test_a_skipped_stage_is_read_by_its_fields_not_by_its_words():
    # a reason that happens to contain the old marker words does not make a note about a stage
    odd = Note(reason="asr skipped: a phrase in a reason, no stage")
    asr = ModelInfo(role="asr", name="tiny.en", source="package", weights="real")
    perception = Perception(video=VIDEO, fps_sampled=1.0, models=[asr], notes=[odd])
    assert perception.notes[0].stage is None and asr_ran(perception)
    header = video_context(perception).header
    assert "Note: asr skipped: a phrase in a reason, no stage" in header.lines()
    silent = Perception(video=VIDEO, fps_sampled=1.0, models=[asr],
                        notes=[Note(stage="asr", reason="the video has no audio track")])
    assert not asr_ran(silent)


def test_the_pipeline_notes_a_stage_without_a_model_with_the_fix():
    stages, notes = build_stages(PerceptionSettings(stages=("caption",), models={"captioner": "none"}))
    assert stages == [] and [(n.stage, n.missing_model) for n in notes] == [("caption", True)]
    assert "captioner=none" in notes[0].fix
    header = video_context(Perception(video=VIDEO, fps_sampled=1.0, notes=notes)).header
    assert header.notes == ()      # left to the facts that say what is unknown


def test_a_perception_cached_with_string_notes_still_loads_typed():
    old = {"video": VIDEO.model_dump(), "fps_sampled": 1.0, "notes": [
        f"caption skipped: {NO_MODEL}; captioner model 'm' is not available offline; provide it with -m",
        "asr skipped: the video has no audio track",
        "perceived only the first 2.0 s of 4.0 s (--max-seconds)"]}
    loaded = Perception.model_validate_json(json.dumps(old))
    assert [(n.stage, n.missing_model) for n in loaded.notes] == [("caption", True), ("asr", False), (None, False)]
    assert [n.render() for n in loaded.notes] == old["notes"]          # the same words as before
    again = Perception.model_validate_json(loaded.model_dump_json())   # and the new form round-trips
    assert again.notes == loaded.notes


def test_a_hub_model_that_cannot_be_downloaded_skips_its_stage_with_a_note(tmp_path):
    """Online without a network: the detector's hub download fails when it loads. The stage is skipped with a
    note saying how to provide the model; the other stages run and the perception is complete."""
    import shutil
    from pathlib import Path

    import pytest

    from perceive.detect import DetectionStage
    from perceive.models import ResolvedModel
    from perceive.pipeline import perceive_video
    from perceive.shots import ShotStage

    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is absent")

    class Unreachable(DetectionStage):
        def load_model(self):
            raise ConnectionError("Download failure for https://example.invalid/yolo11n.pt. Environment may be offline.")

    hub = ResolvedModel("detector", "yolo11n.pt", "ultralytics", "yolo11n.pt", "hub")
    stages = [Unreachable(hub), ShotStage(None)]
    video = Path(__file__).resolve().parents[1] / "samples" / "silent.mp4"
    perception = perceive_video(video, PerceptionSettings(stages=("detection", "shots")), stages=stages, notes=[])
    [note] = [n for n in perception.notes if n.stage == "detection"]
    assert note.missing_model and "could not be downloaded" in note.fix and "--model detector=PATH" in note.fix
    assert any(o.stage == "shot" for o in perception.observations)           # the other stage ran
    assert all(m.role != "detector" for m in perception.models)              # and no detector is claimed

    class Broken(DetectionStage):   # a local model that fails to load is a real error, not a note
        def load_model(self):
            raise FileNotFoundError("no such file: model.pt")

    local = ResolvedModel("detector", "model.pt", "ultralytics", "/nowhere/model.pt", "path")
    with pytest.raises(FileNotFoundError):
        perceive_video(video, PerceptionSettings(stages=("detection",)), stages=[Broken(local)], notes=[])
