"""``videochat models pull``: download every default model into the cache, so later runs work offline.

For each role, :func:`plan` lists what the registry would use: a model already
available here (an installed package, a local path, the Hugging Face cache) is
skipped; a hub default is listed with its files and their sizes (one weights
format per repository: safetensors over ``.bin``; one quantization of a GGUF
repository: the one the default names, else the one :func:`perceive.models.pick_gguf` picks). A later
default that is already here (the offline SmolLM2 behind the hub's Qwen LLM) is listed too. :func:`pull` then
downloads them with a progress bar over the total bytes. Downloads go through
the Hugging Face hub client into its cache (where offline runs look), so an
interrupted pull resumes where it stopped. Assets that are not on the hub (the
ultralytics ``yolo11n.pt``) are fetched by URL into ``cache_root()/models``,
resumable as well (HTTP range requests).

The hub is reached through a :class:`Hub`; tests pass a fake one.
"""
from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from perceive.models import ROLES, ModelUnavailable, hub_reference, is_offline, pick_gguf, resolve_value
from perceive.paths import cache_root

ASSETS = {"yolo11n.pt": "https://github.com/ultralytics/assets/releases/download/v8.3.0/yolo11n.pt"}
SKIP_SUFFIXES = (".onnx", ".tflite", ".msgpack", ".h5", ".ot", ".mlmodel", ".xml", ".md", ".gitattributes")
SKIP_FOLDERS = ("onnx/", "openvino/", "coreml/", "tf/", "flax/")

Progress = Callable[[int], None]


class PullError(ModelUnavailable):
    """The models cannot be downloaded (offline mode, no network, hub error); one line for the user."""


class Hub(Protocol):
    """Where hub models come from: file names with sizes, and a resumable download of one file."""

    def files(self, repo: str) -> dict[str, int]: ...

    def download(self, repo: str, filename: str, progress: Progress) -> Path: ...


@dataclass
class Item:
    """One model to fetch: its role, where from, and its files with their sizes in bytes."""

    role: str
    source: str                           # a hub repo id, or an asset name in ASSETS
    files: dict[str, int] = field(default_factory=dict)
    url: str | None = None

    @property
    def size(self) -> int:
        return sum(self.files.values())


class HfHub:
    """The Hugging Face hub (``huggingface_hub``): sizes from the repo listing, downloads into its cache."""

    def files(self, repo: str) -> dict[str, int]:
        from huggingface_hub import HfApi

        info = HfApi().model_info(repo, files_metadata=True)
        return {s.rfilename: int(s.size or 0) for s in info.siblings or []}

    def download(self, repo: str, filename: str, progress: Progress) -> Path:
        from huggingface_hub import hf_hub_download
        from tqdm.auto import tqdm

        class Bar(tqdm):   # hf_hub_download's progress, forwarded to ours
            def __init__(self, *args, **kwargs):
                kwargs["disable"] = True
                super().__init__(*args, **kwargs)

            def update(self, n=1):
                progress(int(n or 0))
                return super().update(n)

        return Path(hf_hub_download(repo, filename, tqdm_class=Bar))


def choose_files(repo: str, files: dict[str, int], quant: str | None = None) -> dict[str, int]:
    """The files of ``repo`` a run needs: one weights format, one GGUF quantization (``quant`` when the default
    names one), no exports."""
    names = [n for n in files if not n.endswith(SKIP_SUFFIXES) and not n.startswith(SKIP_FOLDERS)]
    if any(n.endswith(".gguf") for n in names):
        pick = pick_gguf(names, quant)
        if pick is None:
            raise PullError(f"hub repo {repo} has no .gguf file of quantization {quant}")
        return {pick: files[pick]}
    if any(n.endswith(".safetensors") for n in names):
        names = [n for n in names if not n.endswith((".bin", ".pt", ".pth")) or "tokenizer" in n]
    return {n: files[n] for n in names}


READY, UNUSABLE = "ready", "unusable"


def _needs_download(role: str, value: str) -> str:
    """READY when ``value`` is available here, UNUSABLE when no download can provide it (a package that
    is not installed), else the hub id or asset name to download."""
    backend, _, target = value.partition(":") if value.split(":", 1)[0] in ROLES[role].backends else ("", "", value)
    try:
        found = resolve_value(role, value)
    except ModelUnavailable:
        found = None
    if found is not None and found.source != "hub":
        return READY
    if target in ASSETS:
        return READY if (asset_folder() / target).exists() else target
    return target if "/" in target and not target.startswith("pkg:") else UNUSABLE


def asset_folder() -> Path:
    """Where assets that are not on the hub are kept (``cache_root()/models``)."""
    return cache_root() / "models"


def plan(hub: Hub | None = None) -> tuple[list[Item], list[str]]:
    """What to download for every role's default, and one line per role (and per fallback default) that is
    already available."""
    hub = hub or HfHub()
    items, ready = [], []
    for role, spec in ROLES.items():
        needed = UNUSABLE
        for rank, value in enumerate(spec.defaults):
            needed = _needs_download(role, value)
            if needed != UNUSABLE:
                break
        if needed == UNUSABLE:
            ready.append(f"{role}: no default can be downloaded ({', '.join(spec.defaults)})")
            continue
        if needed == READY:
            ready.append(f"{role}: already available ({value})")
        ready += [f"{role}: fallback already available ({later})" for later in spec.defaults[rank + 1:]
                  if _needs_download(role, later) == READY]
        if needed == READY:
            continue
        if needed in ASSETS:
            items.append(Item(role, needed, {needed: _asset_size(ASSETS[needed])}, ASSETS[needed]))
            continue
        repo, quant = hub_reference(needed)
        try:
            listing = hub.files(repo)
        except Exception as exc:   # no network, DNS, HTTP errors: one line
            raise PullError(f"cannot reach the model hub for {repo}: {_reason(exc)} (no network?)") from exc
        items.append(Item(role, repo, choose_files(repo, listing, quant)))
    return items, ready


def _asset_size(url: str) -> int:
    try:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.headers.get("Content-Length") or 0)
    except OSError as exc:
        raise PullError(f"cannot reach {url}: {_reason(exc)} (no network?)") from exc


def fetch_url(url: str, dest: Path, progress: Progress) -> Path:
    """Download ``url`` to ``dest``, resuming a ``.part`` file left by an interrupted run."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        if have and response.status != 206:   # the server ignored the range: start over
            have = 0
            part.unlink()
        progress(have)
        with open(part, "ab") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                progress(len(chunk))
    os.replace(part, dest)
    return dest


def pull(items: list[Item], hub: Hub | None = None, progress: Progress | None = None) -> list[Path]:
    """Download every file of ``items``; ``progress`` gets the bytes of each chunk."""
    hub = hub or HfHub()
    step = progress or (lambda n: None)
    out = []
    for item in items:
        try:
            if item.url:
                out.append(fetch_url(item.url, asset_folder() / item.source, step))
                continue
            for name in item.files:
                out.append(hub.download(item.source, name, step))
        except PullError:
            raise
        except Exception as exc:
            raise PullError(f"download of {item.source} failed: {_reason(exc)} (run the command again to "
                            "resume)") from exc
    return out


def check_online() -> None:
    """Raise :class:`PullError` in offline mode: pulling is the one command that needs the network."""
    if is_offline():
        raise PullError("models pull downloads models and cannot run offline (unset VIDEOCHAT_OFFLINE / "
                        "HF_HUB_OFFLINE, drop --offline)")


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def human(size: int) -> str:
    """A byte count as short text: ``512 B``, ``43.1 MB``, ``1.2 GB``."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
