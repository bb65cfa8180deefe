"""URL input: a video named by an ``http(s)`` URL is fetched once, with yt-dlp, into the cache.

Each URL gets its own folder under ``<cache>/downloads/`` (named by a digest of
the URL); yt-dlp writes a ``.part`` file and renames it when complete, so a
finished file there means the URL is fetched, and later runs use it without
the network. Any failure (no network, refused, not a video) is one
``ValueError`` whose message is the reason.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import urlparse

from perceive.cache import cache_root

_PARTIAL = (".part", ".ytdl", ".tmp")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def is_url(text: str | Path) -> bool:
    """Whether ``text`` is an ``http``/``https`` URL (not a local path)."""
    parsed = urlparse(str(text))
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def download_dir(url: str) -> Path:
    """The cache folder of one URL's download."""
    return cache_root() / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:16]


def fetched(url: str) -> Path | None:
    """The finished download of ``url``, or None."""
    folder = download_dir(url)
    done = sorted(p for p in folder.glob("*") if p.is_file() and not p.name.endswith(_PARTIAL)) if folder.is_dir() else []
    return done[0] if done else None


class _Quiet:
    """A yt-dlp logger that keeps stdout and stderr clean (the error comes back as the exception)."""

    def debug(self, _msg: str) -> None: ...
    def info(self, _msg: str) -> None: ...
    def warning(self, _msg: str) -> None: ...
    def error(self, _msg: str) -> None: ...


def fetch(url: str, timeout: float = 30.0) -> Path:
    """The local file of the video at ``url``: fetched now unless an earlier fetch finished."""
    done = fetched(url)
    if done is not None:
        return done
    from yt_dlp import YoutubeDL
    from yt_dlp.utils import DownloadError

    folder = download_dir(url)
    folder.mkdir(parents=True, exist_ok=True)
    options = {"outtmpl": str(folder / "%(title).80B.%(ext)s"), "quiet": True, "no_warnings": True,
               "noprogress": True, "noplaylist": True, "retries": 0, "fragment_retries": 0,
               "socket_timeout": timeout, "logger": _Quiet(), "color": {"stderr": "never", "stdout": "never"}}
    try:
        with YoutubeDL(options) as ydl:
            ydl.extract_info(url, download=True)
    except DownloadError as exc:
        reason = _ANSI.sub("", str(exc)).removeprefix("ERROR: ").strip()
        raise ValueError(f"cannot fetch {url}: {reason}") from None
    done = fetched(url)
    if done is None:
        raise ValueError(f"cannot fetch {url}: no video file came back")
    return done
