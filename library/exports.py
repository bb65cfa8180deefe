"""A video's context written in whisper's convention: ``NAME.txt``, ``.json``, ``.srt``, ``.vtt``, ``.md``.

- ``txt``: the context text (what ``videochat context`` prints and the LLM reads);
- ``json``: the typed records, a :class:`ContextRecord` (the perception and the entries);
- ``srt`` / ``vtt``: what was said (original language; not Whisper's translations) and the on-screen text
  (marked ``[on screen]``), with times, written by pysubs2;
- ``md``: readable notes: the header, the facts, the timeline, the speech.
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from library.records import EntryRecord
from perceive.records import Perception
from prompting.context import TRANSLATED, Entry, VideoContext, clock, one_line

FORMATS = ("txt", "json", "srt", "vtt", "md")
ON_SCREEN = "[on screen] "
MIN_CUE = 1.0   # seconds a cue stays up at least (an instant of on-screen text)


class ContextRecord(BaseModel):
    """The ``json`` export: the perception (every observation) and the context's header lines and entries."""

    perception: Perception
    header: list[str]
    entries: list[EntryRecord]


def formats_of(names: str) -> list[str]:
    """The formats of ``--format`` (``txt``, ``json``, ... or ``all``; comma-separated), checked."""
    wanted = [n.strip().lower() for n in names.split(",") if n.strip()]
    if "all" in wanted:
        return list(FORMATS)
    unknown = [n for n in wanted if n not in FORMATS]
    if unknown or not wanted:
        raise ValueError(f"unknown format {', '.join(unknown) or names!r}; choose from {', '.join(FORMATS)} or all")
    return list(dict.fromkeys(wanted))


# text from the video must not become markup: SSA override braces, HTML-like tags (and so no "-->" timing arrow)
_MARKUP = str.maketrans({"{": "(", "}": ")", "<": "‹", ">": "›"})


def cue_text(text: str) -> str:
    """``text`` as one line of a cue, with nothing a subtitle reader takes for markup or timing."""
    return one_line(text).translate(_MARKUP)


def cues(context: VideoContext) -> list[tuple[float, float, str]]:
    """(start, end, text) of each subtitle cue: speech in its own language, then on-screen text, in time order."""
    out = []
    for e in context.entries:
        if e.kind == "speech" and e.tag != TRANSLATED and e.said:
            out.append((e.start, e.end, cue_text(e.said)))
        elif e.kind == "text" and e.said:
            out.append((e.start, e.end, ON_SCREEN + cue_text(e.said)))
    return sorted((s, max(e if e is not None else s, s + MIN_CUE), t) for s, e, t in out)


def subtitles(context: VideoContext):
    """The cues as a ``pysubs2.SSAFile`` (times in milliseconds)."""
    import pysubs2

    subs = pysubs2.SSAFile()
    for start, end, text in cues(context):
        event = pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000))
        event.plaintext = text
        subs.append(event)
    return subs


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|])")


def md_text(text: str) -> str:
    """``text`` on one line with Markdown's (and HTML's) special characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def _span(e: Entry) -> str:
    end = clock(e.end, up=True) if e.end is not None else None
    return clock(e.start) + (f"-{end}" if end and end != clock(e.start) else "")


def notes(context: VideoContext) -> str:
    """The ``md`` export: the video, its facts, its timeline (everything seen) and its speech."""
    header = context.header
    lines = [f"# {md_text(Path(header.video.path).name)}", ""]
    lines += [f"- {md_text(line)}" for line in header.lines()[1:] if not line.startswith("Fact: ")]
    if header.facts:
        lines += ["", "## Facts", ""] + [f"- {md_text(f.text)}" for f in header.facts]
    seen = [e for e in context.entries if e.kind not in ("speech", "silence")]
    if seen:
        lines += ["", "## Timeline", ""] + [f"- {md_text(e.line())}" for e in seen]
    heard = [e for e in context.entries if e.kind == "speech"]
    if heard:
        lines += ["", "## Speech", ""]
        lines += [f"- **{_span(e)}**" + (f" ({md_text(e.tag)})" if e.tag else "") + f" {md_text(e.said or e.text)}"
                  for e in heard]
    return "\n".join(lines) + "\n"


def record(perception: Perception, context: VideoContext) -> ContextRecord:
    """The ``json`` export's record."""
    return ContextRecord(perception=perception, header=context.header.lines(),
                         entries=[EntryRecord.of(e) for e in context.entries])


def write_exports(perception: Perception, context: VideoContext, formats: list[str], folder: str | Path,
                  stem: str | None = None) -> list[Path]:
    """Write ``folder/STEM.FORMAT`` for each format (STEM: the video's name without its extension)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or Path(perception.video.path).stem or "video"
    written = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        if fmt in ("srt", "vtt"):
            subtitles(context).save(str(path), format_=fmt)
        else:
            text = {"txt": lambda: context.render() + "\n", "md": lambda: notes(context),
                    "json": lambda: record(perception, context).model_dump_json(indent=1)}[fmt]()
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
