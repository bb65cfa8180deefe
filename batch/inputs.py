"""The videos a batch is asked for: files, folders (searched recursively) and path lists."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from perceive.video import VIDEO_EXTENSIONS


def collect_videos(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand files, folders (recursively, video extensions only) and path lists into video paths.

    A path list is ``@FILE`` or any ``.txt`` file: one path per line, blank lines
    and ``#`` comments ignored, relative paths taken from the list's folder.
    Files named directly are kept whatever their extension (and fail later if
    they are not videos); missing paths are kept too, so they get an error record.
    Duplicates are dropped, the first occurrence keeps its place.
    """
    seen: set[Path] = set()
    out: list[Path] = []
    for path in _expand(inputs, lists_allowed=True):
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def _expand(inputs: Iterable[str | Path], lists_allowed: bool, base: Path | None = None) -> Iterable[Path]:
    for item in inputs:
        text = str(item)
        is_list = text.startswith("@") or (text.endswith(".txt") and Path(text).is_file())
        if is_list and lists_allowed:
            listing = _relative(Path(text[1:] if text.startswith("@") else text), base)
            if not listing.is_file():
                raise FileNotFoundError(f"path list {listing} does not exist")
            lines = (ln.strip() for ln in listing.read_text().splitlines())
            yield from _expand([ln for ln in lines if ln and not ln.startswith("#")], False, listing.parent)
            continue
        path = _relative(Path(text).expanduser(), base)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
        else:
            yield path


def _relative(path: Path, base: Path | None) -> Path:
    return path if base is None or path.is_absolute() else base / path
