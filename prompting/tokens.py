"""Token estimates for when no tokenizer is at hand, and the type of a token counter."""
from __future__ import annotations

import math
import re
from collections.abc import Callable

TokenCounter = Callable[[str], int]
"""Counts the tokens of a text (an LLM's tokenizer, or :func:`approx_tokens`)."""


def approx_tokens(text: str) -> int:
    """A cautious token estimate without a tokenizer: words and punctuation marks, at least chars/4."""
    return max(len(re.findall(r"\w+|[^\w\s]", text)), math.ceil(len(text) / 4))
