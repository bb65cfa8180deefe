"""How context text is written: one-line text, quoted literals, ``m:ss`` clocks and short seconds.

A leaf module (it imports nothing of the project): the context, its timeline
facts and the evidence all write times and text the same way through it.
"""
from __future__ import annotations

import json
import math


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, line breaks included, collapsed to one space."""
    return " ".join(str(text).split())


def quote(text: str) -> str:
    """``text`` as a one-line, double-quoted JSON string literal (quotes and backslashes escaped)."""
    return json.dumps(one_line(text), ensure_ascii=False)


def clock(seconds: float, up: bool = False) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a time in seconds, rounded down (or up)."""
    total = math.ceil(seconds) if up else math.floor(seconds)
    h, rest = divmod(max(0, total), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def secs(seconds: float) -> str:
    """A time in seconds as short text: ``3``, ``3.5``."""
    return f"{round(seconds, 1):g}"

