"""What a question asks for, read from its words: the times it names, a count, speech, on-screen text.

:func:`parse_question` turns a question into a :class:`Question`: the time
spans it names and what kind of fact would answer it. The parsing is general
English, not a list of known questions:

* times: a clock (``1:05``, ``1:02:03``), a quantity with a unit (``40 seconds``,
  ``40 s``, ``2 minutes``, ``one minute 5 seconds``), ``second 83`` or
  ``minute 2``; a relation word before them makes a span: ``at``/``around``
  (that moment), ``between X and Y``, ``from X to Y``, ``X-Y s``,
  ``before``/``until`` (from the start), ``after``/``since`` (to the end),
  ``the first``/``last N seconds`` or ``minute``, ``the beginning``/``the end``.
  A unit given once applies to both ends of a range (``between 18 and 39 seconds``).
* intents: ``how many`` / ``number of`` + the thing to count; speech verbs
  (``say``, ``said``, ``speak``, ``mention``, ``talk``, ``read aloud``...);
  on-screen text (``written``, ``text``, ``sign``, ``title``, ``caption``,
  ``on screen``...); silence (``silent``, ``quiet``, ``pause``, ``no one speaks``); the shots
  (``shot``, ``cut``, ``scene change``, ``continuous``, ``edited``, ``montage``, ``camera angle``); whether
  the picture changes (``does the picture change``, ``a still image``, ``is the view static``); what is
  being read out (``read aloud``, ``being read``, ``reading from``).

Spans whose end is the video's end are open (``end=None``) until
:meth:`TimeSpan.clamp` gives them the duration.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "a": 1, "an": 1,
                     "half a": 0.5, "a half": 0.5})
UNIT_SECONDS = {"h": 3600, "hour": 3600, "hr": 3600, "m": 60, "min": 60, "minute": 60, "s": 1, "sec": 1,
                "second": 1}
POINT_WIDTH = 1.0          # "at 40 seconds" covers [40, 41)
EDGE_SECONDS = 5.0         # "at the beginning" / "at the end"

# a number word is a whole word ("was" is not "a s"); digits may touch their unit ("40s")
_NUM = (r"(?:\b\d+(?:\.\d+)?|\b(?:" + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
        + r")\b)")
_UNIT = r"(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|s)\b"
_CLOCK = r"\d+:\d\d(?::\d\d)?"
# one time: a clock, "N unit [M unit]", "second N"/"minute N", or a bare number (its unit comes from its neighbour)
_TIME = (rf"(?:{_CLOCK}|{_NUM}\s*{_UNIT}(?:\s*(?:and\s+)?{_NUM}\s*{_UNIT})?|(?:second|minute)\s+{_NUM}\b"
         rf"|{_NUM}(?=\s*(?:and|to|until|till|-|–)\s*(?:{_NUM})\s*{_UNIT}))")
_RANGE = re.compile(rf"\b(?:between|from)\s+(?P<a>{_TIME})\s*(?:and|to|until|till|-|–)\s*(?P<b>{_TIME})"
                    rf"|(?P<c>{_TIME})\s*(?:-|–|to)\s*(?P<d>{_TIME})", re.I)
_EDGE = re.compile(rf"\b(?:the\s+)?(?P<side>first|opening|last|final|closing)\s+(?:(?P<n>{_NUM})\s+)?"
                   rf"(?P<unit>hours?|minutes?|seconds?|mins?|secs?)\b", re.I)
_OPEN = re.compile(rf"\b(?P<rel>before|until|till|up to|after|since|past)\s+(?P<t>{_TIME})", re.I)
_POINT = re.compile(rf"(?P<t>{_TIME})", re.I)
_WHOLE = re.compile(r"\b(?:at|in|near|towards?)\s+the\s+(?P<side>beginning|start|end|ending)\b", re.I)

_COUNT = re.compile(r"\b(?:how\s+many|(?:the\s+)?number\s+of|count(?:\s+the)?)\s+(?P<what>[a-z][a-z' -]*)", re.I)
_COUNT_END = re.compile(r"\s+(?:are|is|were|was|do|does|did|can|could|appear\w*|visible|there|have|has|in|on|at|"
                        r"during|of|from|seen|shown|does|will|you|get|go|come|walk\w*|enter\w*)\b.*$", re.I)
_READ = (r"read\s+(?:aloud|out)|reads?\s+(?:aloud|out)|being\s+read|reading\s+(?:aloud|out|from)|recit\w*")
_SAID = re.compile(r"\b(?:say|says|said|saying|speak\w*|spoke\w*|talk\w*|mention\w*|tell|tells|told|narrat\w*|"
                   rf"voice|hear|heard|announc\w*|{_READ}|quot\w*|"
                   r"pronounc\w*|sing\w*|sang|sung|words?\s+(?:spoken|said))\b", re.I)
_READ_ALOUD = re.compile(rf"\b(?:{_READ})\b", re.I)
_WRITTEN = re.compile(r"\b(?:written|writes?|writing|text|sign|signs|title|titles|caption\w*|subtitle\w*|label\w*|"
                      r"logo|banner|poster|printed|on[- ]screen|on the screen|displayed|word\s+on|words\s+on|"
                      r"(?:does|do|did)\s+(?:it|the\s+\w+)\s+read|lettering)\b", re.I)
_SILENT = re.compile(r"\b(?:silen\w*|quiet|pause\w*|no\s+(?:one|body|speech)|nobody|nothing\s+is\s+said)\b", re.I)
_SHOTS = re.compile(r"\b(?:shots?|cuts?|scene\s+changes?|continuous|uncut|edit(?:s|ed|ing)?|montage|"
                    r"camera\s+(?:angles?|changes?|switch\w*))\b", re.I)
# whether the picture changes: "does the picture change", "a still image", "is the view static"
_PICTURE = r"(?:picture|image|view|frame|background|footage|visuals?)s?"
_STABLE = r"(?:static|still|frozen|unchang\w*|(?:stays?|remains?)\s+the\s+same)"
_PICTURE_CHANGE = re.compile(rf"\b(?:{_PICTURE}\b.*\b(?:chang\w*|mov\w*|{_STABLE})|{_STABLE}\s+{_PICTURE}"
                             rf"|chang\w*\s+(?:\w+\s+){{0,2}}{_PICTURE})\b", re.I)
_STABLE_WORDS = re.compile(rf"\b{_STABLE}\b", re.I)
# a question answered by yes or no opens with an auxiliary verb
_YES_NO = re.compile(r"^\s*(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would|should)\b", re.I)
# a yes/no question about shots that asks whether there is only one ("one continuous shot?", "a single take?")
_ONE_SHOT = re.compile(r"\b(?:one|single|same|continuous|uncut|unedited)\b", re.I)


@dataclass(frozen=True)
class TimeSpan:
    """A stretch of the video a question names, in seconds; ``end`` None means "to the end"."""

    start: float
    end: float | None
    point: bool = False          # "at 40 s": one moment, not a range

    def clamp(self, duration: float) -> TimeSpan:
        """This span inside ``[0, duration]`` (an open end becomes ``duration``)."""
        end = duration if self.end is None else min(self.end, max(duration, self.start))
        return TimeSpan(max(0.0, min(self.start, duration)), end, self.point)

    def overlaps(self, start: float, end: float | None, slack: float = 0.0) -> bool:
        """Whether ``[start, end]`` (``end`` None: the instant ``start``) meets this span (widened by ``slack``)."""
        hi = self.end if self.end is not None else float("inf")
        if end is None or end <= start:
            return self.start - slack <= start < hi + slack
        return start < hi + slack and end > self.start - slack


@dataclass(frozen=True)
class Question:
    """A question and what it asks for: the times it names, a count, speech, on-screen text, silence."""

    text: str
    spans: tuple[TimeSpan, ...] = ()
    count_of: str | None = None       # "how many people ..." -> "people"
    asks_said: bool = False
    asks_written: bool = False
    asks_silence: bool = False
    asks_shots: bool = False          # cuts, shots, one continuous take, whether the picture changes
    asks_picture_change: bool = False  # "does the picture change?", "is it a still image?"
    asks_read: bool = False           # what is being read out ("which book is read aloud?")
    yes_no: bool = False              # "Is ...?", "Does ...?": answered by yes or no
    words: str = field(default="", repr=False)   # the question without its time expressions

    @property
    def topic(self) -> str:
        """The question's words without its times and the words that name what it asks for ("say", "written")."""
        text = self.words or self.text
        for intent in (_SAID, _WRITTEN, _SILENT, _SHOTS):
            text = intent.sub(" ", text)
        return " ".join(text.split())

    @property
    def counts_objects(self) -> bool:
        """It asks to count things a detector sees ("how many people"), not shots or cuts ("how many cuts")."""
        return bool(self.count_of) and not _SHOTS.search(self.count_of or "")

    @property
    def asks_one_shot(self) -> bool:
        """A yes/no question about shots asking whether the video is one shot ("Is this one continuous shot?")
        rather than whether it has cuts ("Are there cuts?")."""
        return self.yes_no and self.asks_shots and bool(_ONE_SHOT.search(self.words or self.text))

    @property
    def asks_still(self) -> bool:
        """A picture-change question put the other way round: whether the picture stays the same
        ("Is the image static?"), so "yes" means it does not change."""
        return self.asks_picture_change and bool(_STABLE_WORDS.search(self.words or self.text))

    @property
    def factual(self) -> bool:
        """Whether a timeline fact can answer it (a time, a count, speech, text, silence or the shots)."""
        return bool(self.spans or self.count_of or self.asks_said or self.asks_written or self.asks_silence
                    or self.asks_shots)


def number(text: str) -> float:
    """A number written in digits or (small) words: ``"40"``, ``"forty"``, ``"a"``."""
    text = " ".join(text.lower().split())
    return float(text) if re.fullmatch(r"\d+(?:\.\d+)?", text) else float(NUMBER_WORDS[text])


def _unit(text: str) -> float:
    word = text.lower().rstrip("s") or "s"
    return UNIT_SECONDS.get(word, UNIT_SECONDS.get(word[:3], 1))


def seconds(expr: str, default_unit: float | None = None) -> float | None:
    """Seconds of one time expression (see the module docstring); None when it has no unit and no default."""
    expr = expr.strip()
    if re.fullmatch(_CLOCK, expr):
        parts = [int(p) for p in expr.split(":")]
        return float(parts[0] * 60 + parts[1]) if len(parts) == 2 else float(parts[0] * 3600 + parts[1] * 60
                                                                                + parts[2])
    ordinal = re.fullmatch(rf"(second|minute)\s+({_NUM})", expr, re.I)
    if ordinal:
        return number(ordinal.group(2)) * (60 if ordinal.group(1).lower() == "minute" else 1)
    found = re.findall(rf"({_NUM})\s*({_UNIT})", expr, re.I)
    if found:
        return sum(number(n) * _unit(u) for n, u in found)
    bare = re.fullmatch(_NUM, expr, re.I)
    if bare and default_unit is not None:
        return number(expr) * default_unit
    return None


def _unit_of(expr: str) -> float | None:
    if re.fullmatch(_CLOCK, expr.strip()):
        return 1.0
    if re.match(r"minute\b", expr.strip(), re.I):
        return 60.0
    units = re.findall(_UNIT, expr, re.I)
    return _unit(units[-1]) if units else None


def parse_times(question: str) -> tuple[list[TimeSpan], str]:
    """The time spans ``question`` names, and the question with those expressions blanked out."""
    spans: list[tuple[int, TimeSpan]] = []
    text = question

    def take(match: re.Match, span: TimeSpan | None) -> None:
        nonlocal text
        if span is not None:
            spans.append((match.start(), span))
        text = text[: match.start()] + " " * (match.end() - match.start()) + text[match.end():]

    for m in _RANGE.finditer(text):
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("c"), m.group("d"))
        unit = _unit_of(b) or _unit_of(a)
        start, end = seconds(a, unit), seconds(b, unit)
        if start is not None and end is not None:
            take(m, TimeSpan(min(start, end), max(start, end)))
    for m in _EDGE.finditer(text):
        n = number(m.group("n")) if m.group("n") else 1.0
        length = n * _unit(m.group("unit"))
        first = m.group("side").lower() in ("first", "opening")
        take(m, TimeSpan(0.0, length) if first else TimeSpan(-length, None))
    for m in _OPEN.finditer(text):
        t = seconds(m.group("t"))
        if t is not None:
            before = m.group("rel").lower() in ("before", "until", "till", "up to")
            take(m, TimeSpan(0.0, t) if before else TimeSpan(t, None))
    for m in _WHOLE.finditer(text):
        start = m.group("side").lower() in ("beginning", "start")
        take(m, TimeSpan(0.0, EDGE_SECONDS) if start else TimeSpan(-EDGE_SECONDS, None))
    for m in _POINT.finditer(text):
        t = seconds(m.group("t"))
        if t is None:
            continue
        minute = re.match(r"minute\s", m.group("t"), re.I)
        take(m, TimeSpan(t, t + 60.0) if minute else TimeSpan(t, t + POINT_WIDTH, point=True))
    return [s for _, s in sorted(spans, key=lambda p: p[0])], text


def count_target(question: str) -> str | None:
    """What ``question`` asks to count ("how many people are there?" -> "people"), or None."""
    m = _COUNT.search(question)
    if not m:
        return None
    what = _COUNT_END.sub("", m.group("what")).strip(" -'")
    if what.lower() == "times":   # "how many times does the dog bark?" counts the dog's appearances
        subject = re.search(r"\btimes\s+(?:does|do|did|is|are|was|were|can)\s+(?:the\s+|a\s+|an\s+)?([a-z]+)",
                            question, re.I)
        what = subject.group(1) if subject else what
    return " ".join(what.split()[:3]) or None


def parse_question(question: str) -> Question:
    """What ``question`` asks for (see the module docstring)."""
    spans, rest = parse_times(question)
    picture = bool(_PICTURE_CHANGE.search(rest))
    return Question(text=question, spans=tuple(spans), count_of=count_target(rest),
                    asks_said=bool(_SAID.search(rest)), asks_written=bool(_WRITTEN.search(rest)),
                    asks_silence=bool(_SILENT.search(rest)),
                    asks_shots=picture or bool(_SHOTS.search(rest)), asks_picture_change=picture,
                    asks_read=bool(_READ_ALOUD.search(rest)),
                    yes_no=bool(_YES_NO.match(question)), words=" ".join(rest.split()))


def resolve_spans(question: Question, duration: float) -> list[TimeSpan]:
    """The question's spans inside a video of ``duration`` seconds ("the last minute" counted from its end)."""
    out = []
    for span in question.spans:
        if span.start < 0:   # counted back from the end
            span = TimeSpan(max(0.0, duration + span.start), None, span.point)
        out.append(span.clamp(duration))
    return out
