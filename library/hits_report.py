"""The search page (``videochat search --report FILE``): one HTML page of hits, each with a thumbnail.

Each hit shows a frame of its video at the hit's start (an ``ffmpeg`` grab,
embedded as a data URI), its video, ``m:ss-m:ss``, kind, line and score. Its
time links into that video's own timeline report, written beside the page in
``FILE_STEM_reports/`` (one per video hit), at ``NAME.html#t=SECONDS``: the
report seeks its video there (``prompting/report.js``).
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from library.records import Hit
from library.store import Library
from perceive.records import Perception
from prompting.report import esc
from prompting.thumbnails import frame_jpeg

WriteReport = Callable[[Perception, Path], object]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}
li {{ display: flex; gap: 1em; align-items: flex-start; margin: 0 0 1em; list-style: none; }}
img {{ height: 72px; border-radius: 3px; background: #ddd; }}
.meta {{ color: #555; }} .kind {{ background: #eef; border-radius: 3px; padding: 0 .4em; }}
code {{ white-space: pre-wrap; }}
</style></head><body>
<h1>{title}</h1>
<p class="meta">{count} in {library}</p>
<ol>{items}</ol>
</body></html>
"""


def _item(hit: Hit, thumb: bytes | None, href: str | None) -> str:
    img = (f'<img src="data:image/jpeg;base64,{base64.b64encode(thumb).decode()}" alt="frame at {esc(hit.span())}">'
           if thumb else '<img alt="">')
    when = f'<a href="{esc(href)}">{esc(hit.span())}</a>' if href else esc(hit.span())
    return (f"<li>{img}<div><div><b>{esc(hit.name)}</b> {when} <span class=\"kind\">{esc(hit.kind)}</span> "
            f"<span class=\"meta\">score {hit.score:.4f}</span></div><code>{esc(hit.line)}</code></div></li>")


def write_hits_report(out: str | Path, query: str, hits: list[Hit], library: Library,
                      write_report: WriteReport) -> Path:
    """Write the search page for ``hits`` to ``out`` (and each hit video's report beside it); returns ``out``."""
    out = Path(out)
    folder = out.parent / f"{out.stem}_reports"
    reports: dict[int, str | None] = {}
    items = []
    for hit in hits:
        if hit.video_id not in reports:
            reports[hit.video_id] = _video_report(library, hit, folder, write_report)
        href = f"{quote(folder.name)}/{reports[hit.video_id]}#t={hit.start:g}" if reports[hit.video_id] else None
        thumb = frame_jpeg(hit.video, hit.start) if Path(hit.video).is_file() else None
        items.append(_item(hit, thumb, href))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(PAGE.format(title=esc(f"videochat search: {query}"), count=f"{len(hits)} hits",
                                   library=esc(library.path.name), items="".join(items)), encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot write the search page {out}: {exc.strerror or exc}") from None
    return out


def _video_report(library: Library, hit: Hit, folder: Path, write_report: WriteReport) -> str | None:
    """The file name (URL-quoted) of the hit video's report in ``folder``, written now; None without a perception."""
    perception = library.perception(hit.video_id)
    if perception is None:
        return None
    perception.video.path = hit.video   # where the library found it
    name = f"{Path(hit.video).stem}-{hit.video_id}.html"
    write_report(perception, folder / name)
    return quote(name)
