"""Step 1: a question's words into a typed :class:`Question`: its language, the times it names, what it asks for.

Nothing here knows a language: every word comes from ``prompts/lang/LANG.json``
(:mod:`prompting.language`), and the patterns are built from the words of all
languages at once, so a German question's "zwischen 10 und 20 Sekunden" parses
like "between 10 and 20 seconds" and a Chinese "10秒" like "10 s".

* times: a clock (``1:05``, ``1:02:03``), a number with a unit word (``40 seconds``,
  ``40 s``, ``2 Minuten``, ``10秒``), a unit word before a number (``second 83``,
  ``Sekunde 12``); a relation word makes a span: a range (``between X and Y``,
  ``X-Y s``), an open span (``before``/``after`` X, or the postfix ``X之前``),
  the first or last N units, the beginning or the end.
* what it asks for (:data:`ASKS`): the marker words of each kind in the data
  files, matched as whole words (``*`` ends a prefix) in Latin script and as
  substrings in CJK script; the thing to count is the words after a count marker.

Spans whose end is the video's end are open (``end=None``) until
:meth:`TimeSpan.clamp` gives them the duration.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from prompting.language import all_languages, question_language
from prompting.text import CJK

POINT_WIDTH = 1.0          # "at 40 seconds" covers [40, 41)
EDGE_SECONDS = 5.0         # "at the beginning" / "at the end"
ASKS = ("count", "when", "who", "where", "colour", "wearing", "said", "read", "written", "silence", "shots", "cuts", "one_shot")
"""The kinds of thing a question may ask for, each with marker words in the data files (``yes_no`` aside):
``cuts`` asks whether the picture is cut, ``one_shot`` the opposite, whether it is one unbroken take."""


def _alternation(words, bounded: bool | str = True) -> str:
    """A regex alternation of marker ``words`` (``*`` ends a prefix, a space any whitespace); Latin words
    must be whole words (``bounded="end"``: only end there, as a unit after digits), CJK ones need not."""
    parts = []
    for w in sorted(set(words), key=len, reverse=True):
        body = r"\s+".join(re.escape(p) for p in w.split()).replace(r"\*", r"\w*")
        cjk = bool(re.match(rf"[{CJK}]", w))
        if cjk or not bounded:
            parts.append(body)
        else:
            parts.append(rf"{body}(?!\w)" if bounded == "end" else rf"(?<!\w){body}(?!\w)")
    return "(?:" + "|".join(parts) + ")" if parts else "(?!x)x"


def marker_pattern(words) -> re.Pattern:
    """A case-blind pattern of marker ``words`` (whole words in Latin script, ``*`` ending a prefix;
    substrings in CJK script)."""
    return re.compile(_alternation(words), re.I)


def _merged(attr: str) -> dict:
    out: dict = {}
    for data in all_languages():
        for key, value in getattr(data, attr).items():
            out.setdefault(key.casefold(), value)
    return out


def _time_words(key: str) -> list[str]:
    return [w for d in all_languages() for w in d.time.get(key, ())]


@dataclass(frozen=True)
class YesNo:
    """How one language marks a yes/no question: a word that opens or ends it ("Is ...", "Gibt es ...", "...吗"),
    or a marker inside it (French inversion: "La vidéo est-elle ..."); either counts unless a question word of
    the language asks for something else ("何ですか", "什么...吗", "Que dit-il")."""

    opens: re.Pattern
    inside: re.Pattern
    question_words: re.Pattern
    indefinites: re.Pattern          # "誰か" (someone) holds the question word "誰" (who) but asks none

    def marks(self, question: str) -> bool:
        """Whether ``question`` is a yes/no question of this language."""
        text = question.strip()
        asking = self.question_words.search(self.indefinites.sub(" ", text))
        return bool((self.opens.search(text) or self.inside.search(text)) and not asking)


@dataclass(frozen=True)
class _Patterns:
    """The time and intent patterns built from every language's data, once."""

    numbers: dict
    units: dict
    num: str
    unit: str
    time: str
    range: re.Pattern
    edge: re.Pattern
    edge_after: re.Pattern
    open: re.Pattern
    open_after: re.Pattern
    point: re.Pattern
    whole: re.Pattern
    asks: dict[str, re.Pattern]
    count: re.Pattern
    count_end: re.Pattern
    yes_no: dict[str, YesNo]


@cache
def patterns() -> _Patterns:
    """The compiled patterns (see the module docstring)."""
    numbers, units = _merged("number_words"), _merged("units")
    words = [w for w in numbers if not w[0].isdigit()]
    num = rf"(?:(?<![\d.])\d+(?:\.\d+)?|{_alternation(words)})"
    unit = _alternation(units, bounded="end")
    clock = r"\d+:\d\d(?::\d\d)?"
    join = _alternation(_time_words("range_join") + ["-", "–"], bounded=False)
    unit_first = _alternation(_time_words("unit_first"))
    time = (rf"(?:{clock}|{num}\s*{unit}(?:\s*(?:and\s+)?{num}\s*{unit})?|{unit_first}\s+{num}"
            rf"|{num}(?=\s*{join}\s*{num}\s*{unit}))")
    starts = _alternation(_time_words("range_start"))
    bare = _alternation(_time_words("range_bare") + ["-", "–"], bounded=False)
    rng = re.compile(rf"(?:{starts}\s*(?P<a>{time})\s*{join}\s*(?P<b>{time})|(?P<c>{time})\s*{bare}\s*"
                     rf"(?P<d>{time}))", re.I)
    side = rf"(?P<first>{_alternation(_time_words('first'))})|(?P<last>{_alternation(_time_words('last'))})"
    edge = re.compile(rf"(?:{side})\s*(?:(?P<n>{num})\s*)?(?P<unit>{unit})", re.I)
    edge_after = re.compile(rf"(?P<n>{num})\s*(?:{side})\s*(?P<unit>{unit})", re.I)
    before, after = _alternation(_time_words("before")), _alternation(_time_words("after"))
    opened = re.compile(rf"(?:(?P<before>{before})|(?P<after>{after}))\s*(?P<t>{time})", re.I)
    open_after = re.compile(rf"(?P<t>{time})\s*(?:(?P<before>{_alternation(_time_words('before_post'), False)})"
                            rf"|(?P<after>{_alternation(_time_words('after_post'), False)}))", re.I)
    whole = re.compile(rf"(?P<start>{_alternation(_time_words('start'))})|(?P<end>{_alternation(_time_words('end'))})",
                       re.I)
    asks = {kind: re.compile(_alternation([w for d in all_languages() for w in d.asks.get(kind, ())]), re.I)
            for kind in ASKS}
    count = re.compile(rf"(?P<marker>{_alternation([w for d in all_languages() for w in d.asks.get('count', ())])})"
                       r"\s*(?:de\s+|of\s+)?(?P<what>[^\W\d_][\w' -]*)", re.I)
    count_end = re.compile(rf"\s*{_alternation([w for d in all_languages() for w in d.count_end])}.*$", re.I)
    yes_no = {}   # per language: "Was ...?" opens an English yes/no question, not a German one
    for d in all_languages():
        latin = [w for w in d.asks.get("yes_no", ()) if not re.match(rf"[{CJK}]", w)]
        cjk = [w for w in d.asks.get("yes_no", ()) if re.match(rf"[{CJK}]", w)]
        yes_no[d.code] = YesNo(re.compile(rf"^\W*{_alternation(latin)}|{_alternation(cjk)}\W*$", re.I),
                               re.compile(_alternation(d.asks.get("yes_no_inside", ()), bounded="end"), re.I),
                               re.compile(_alternation(d.asks.get("question_words", ())), re.I),
                               re.compile(_alternation(d.asks.get("indefinites", ())), re.I))
    return _Patterns(numbers, units, num, unit, time, rng, edge, edge_after, opened, open_after,
                     re.compile(rf"(?P<t>{time})", re.I), whole, asks, count, count_end, yes_no)


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
    """A question and what it asks for: its language, the times it names, the kinds in :data:`ASKS`."""

    text: str
    language: str = "en"
    spans: tuple[TimeSpan, ...] = ()
    asks: frozenset[str] = frozenset()
    count_of: str | None = None       # "how many people ..." -> "people"
    yes_no: bool = False              # "Is ...?", "Gibt es ...?", "...吗？": answered by yes or no
    words: str = field(default="", repr=False)   # the question without its time expressions

    def wants(self, kind: str) -> bool:
        """Whether the question asks for ``kind`` (one of :data:`ASKS`)."""
        return kind in self.asks

    @property
    def topic(self) -> str:
        """The question's words without its times and the marker words of speech, text, silence and shots."""
        text = self.words or self.text
        for kind in ("said", "written", "silence", "shots", "one_shot"):
            text = patterns().asks[kind].sub(" ", text)
        return " ".join(text.split())

    @property
    def counts_objects(self) -> bool:
        """It asks to count things a detector sees ("how many people"), not shots or cuts ("how many cuts")."""
        return bool(self.count_of) and not patterns().asks["shots"].search(self.count_of or "")

    @property
    def factual(self) -> bool:
        """Whether a timeline fact can answer it (a time, a count, speech, text, silence or the shots)."""
        return bool(self.spans or self.count_of or self.asks & {"said", "written", "silence", "shots"})


def number(text: str) -> float:
    """A number written in digits or as a number word of any language: ``"40"``, ``"forty"``, ``"vier"``."""
    text = " ".join(text.casefold().split())
    return float(text) if re.fullmatch(r"\d+(?:\.\d+)?", text) else float(patterns().numbers[text])


def _unit(text: str) -> float:
    units = patterns().units
    word = text.casefold().strip()
    return float(units.get(word, units.get(word.rstrip("s"), 1)))


def seconds(expr: str, default_unit: float | None = None) -> float | None:
    """Seconds of one time expression (see the module docstring); None when it has no unit and no default."""
    p = patterns()
    expr = expr.strip()
    if re.fullmatch(r"\d+:\d\d(?::\d\d)?", expr):
        parts = [int(x) for x in expr.split(":")]
        return float(parts[0] * 60 + parts[1]) if len(parts) == 2 else float(parts[0] * 3600 + parts[1] * 60
                                                                                + parts[2])
    first = re.fullmatch(rf"({p.unit})\s+({p.num})", expr, re.I)
    if first:
        return number(first.group(2)) * _unit(first.group(1))
    found = re.findall(rf"({p.num})\s*({p.unit})", expr, re.I)
    if found:
        return sum(number(n) * _unit(u) for n, u in found)
    if re.fullmatch(p.num, expr, re.I) and default_unit is not None:
        return number(expr) * default_unit
    return None


def _unit_of(expr: str) -> float | None:
    p = patterns()
    if re.fullmatch(r"\d+:\d\d(?::\d\d)?", expr.strip()):
        return 1.0
    units = re.findall(p.unit, expr, re.I)
    return _unit(units[-1]) if units else None


def parse_times(question: str) -> tuple[list[TimeSpan], str]:
    """The time spans ``question`` names, and the question with those expressions blanked out."""
    p = patterns()
    spans: list[tuple[int, TimeSpan]] = []
    text = question

    def take(match: re.Match, span: TimeSpan | None) -> None:
        nonlocal text
        if span is not None:
            spans.append((match.start(), span))
        text = text[: match.start()] + " " * (match.end() - match.start()) + text[match.end():]

    for m in p.range.finditer(text):
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("c"), m.group("d"))
        unit = _unit_of(b) or _unit_of(a)
        start, end = seconds(a, unit), seconds(b, unit)
        if start is not None and end is not None:
            take(m, TimeSpan(min(start, end), max(start, end)))
    for pattern in (p.edge_after, p.edge):
        for m in pattern.finditer(text):
            length = (number(m.group("n")) if m.group("n") else 1.0) * _unit(m.group("unit"))
            take(m, TimeSpan(0.0, length) if m.group("first") else TimeSpan(-length, None))
    for pattern in (p.open, p.open_after):
        for m in pattern.finditer(text):
            t = seconds(m.group("t"))
            if t is not None:
                take(m, TimeSpan(0.0, t) if m.group("before") else TimeSpan(t, None))
    for m in p.whole.finditer(text):
        take(m, TimeSpan(0.0, EDGE_SECONDS) if m.group("start") else TimeSpan(-EDGE_SECONDS, None))
    for m in p.point.finditer(text):
        t = seconds(m.group("t"))
        if t is None:
            continue
        whole_minute = re.match(rf"{_alternation(_time_words('unit_first'))}", m.group("t"), re.I) and _unit_of(
            m.group("t")) == 60
        take(m, TimeSpan(t, t + 60.0) if whole_minute else TimeSpan(t, t + POINT_WIDTH, point=True))
    return [s for _, s in sorted(spans, key=lambda s: s[0])], text


def count_target(question: str) -> str | None:
    """What ``question`` asks to count ("how many people are there?" -> "people"), or None."""
    p = patterns()
    m = p.count.search(question)
    if not m:
        return None
    what = p.count_end.sub("", m.group("what")).strip(" -'")
    return " ".join(what.split()[:3]) or m.group("marker")   # "何人" names what it counts itself


def parse_question(question: str) -> Question:
    """Step 1 of the pipeline: what ``question`` asks for (see the module docstring)."""
    p = patterns()
    spans, rest = parse_times(question)
    language = question_language(question)
    marking = p.yes_no.get(language, p.yes_no["en"])
    plain = marking.indefinites.sub(" ", rest)   # "誰か" (someone) asks for nobody
    asks = {kind for kind, pattern in p.asks.items() if pattern.search(plain)}
    count_of = count_target(rest)
    if count_of:
        asks.add("count")
    # a question word (who, where, when, how many, which colour) makes it no yes/no question
    opens = marking.marks(question)
    yes_no = opens and not asks & {"who", "where", "when", "count", "colour"}
    return Question(text=question, language=language, spans=tuple(spans),
                    asks=frozenset(asks), count_of=count_of, yes_no=yes_no,
                    words=" ".join(rest.split()))


def resolve_spans(question: Question, duration: float) -> list[TimeSpan]:
    """The question's spans inside a video of ``duration`` seconds ("the last minute" counted from its end)."""
    out = []
    for span in question.spans:
        if span.start < 0:   # counted back from the end
            span = TimeSpan(max(0.0, duration + span.start), None, span.point)
        out.append(span.clamp(duration))
    return out
