"""A second look's observations in the video context: new ``Text`` and ``Second`` entries, marked as such.

:func:`with_relook` adds the timeline entries of a re-look perception
(:mod:`perceive.relook`) to a context, each tagged with how it was seen::

    Text 0:05-0:06 (center, re-look 4 fps): "PINEAPPLE"
    Second 5 (re-look 4 fps): objects: 1 dog (left).

An entry that only repeats what the first pass already shows there (the same
text over an overlapping span, the same objects in that second) is left out, so
the context grows by what the second look found and nothing else. The re-look's
notes (what was looked at, whether the budget ran out) join the header's notes.
"""
from __future__ import annotations

import math
from dataclasses import replace

from perceive.ocr import same_text
from perceive.records import Perception
from prompting.context import KIND_ORDER, Entry, VideoContext, timeline

RELOOK_KINDS = ("text", "second")
"""The entry kinds a re-look can add (it runs OCR and detection)."""


def _read(entry: Entry) -> str:
    """The on-screen text of a ``text`` entry, its lines joined."""
    return " ".join(o.text for o in entry.observations)


def repeats(entry: Entry, entries: list[Entry]) -> bool:
    """Whether ``entry`` says nothing that an entry of the first pass does not already say at that time."""
    end = entry.end if entry.end is not None else entry.start
    for seen in entries:
        if seen.kind != entry.kind or seen.tag:
            continue
        seen_end = seen.end if seen.end is not None else seen.start
        if entry.kind == "text":
            near = seen.start - 1.0 <= end and entry.start <= seen_end + 1.0
            if near and same_text(_read(seen), _read(entry)):
                return True
        elif seen.text == entry.text and math.floor(seen.start) <= math.floor(entry.start) <= math.floor(seen_end):
            return True
    return False


def with_relook(context: VideoContext, extra: Perception, tag: str) -> VideoContext:
    """``context`` with the new ``text`` and ``second`` entries of the re-look ``extra``, tagged ``tag``."""
    found = [replace(e, tag=tag) for e in timeline(extra)
             if e.kind in RELOOK_KINDS and not repeats(e, context.entries)]
    header = replace(context.header, notes=context.header.notes + tuple(extra.notes))
    entries = sorted([*context.entries, *found], key=lambda e: (e.start, KIND_ORDER[e.kind]))
    return replace(context, header=header, entries=entries)
