"""Prompt templates as text files: ``load("system")`` reads ``prompts/system.txt``.

Templates use ``str.format`` placeholders such as ``{fps}`` and ``{context}``;
literal braces in a template are doubled (``{{`` and ``}}``). A template may have
versions in other languages, ``NAME_LANG.txt`` (``system_zh.txt``): :func:`load_for`.
"""
from __future__ import annotations

from pathlib import Path

PROMPTS = Path(__file__).resolve().parent


def load(name: str) -> str:
    """The text of ``prompts/NAME.txt`` (without its trailing newline)."""
    path = PROMPTS / f"{name}.txt"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in PROMPTS.glob("*.txt")))
        raise FileNotFoundError(f"no prompt named '{name}' in {PROMPTS} (available: {available})")
    return path.read_text(encoding="utf-8").rstrip("\n")


def load_for(name: str, language: str | None) -> tuple[str, bool]:
    """``prompts/NAME_LANG.txt`` when it exists (e.g. ``system_zh``), else ``prompts/NAME.txt``.

    Returns the text and whether it is the language's own version.
    """
    if language and (PROMPTS / f"{name}_{language}.txt").is_file():
        return load(f"{name}_{language}"), True
    return load(name), False
