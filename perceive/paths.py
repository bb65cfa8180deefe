"""Where videochat keeps its files: the one place the cache folder is set.

A leaf module (it imports nothing of the project), so the registry, the split
models and the perception cache can all ask it without importing each other.
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The folder of every videochat cache: ``$VIDEOCHAT_CACHE``, else ``~/.cache/videochat``."""
    return Path(os.environ.get("VIDEOCHAT_CACHE", Path.home() / ".cache" / "videochat"))
