"""On-screen text (``ocr``): burnt-in titles, signs, slides and subtitles, read with RapidOCR.

Reading a whole 640-px keyframe costs about a second on two CPU cores, so a keyframe
is read whole only when its content changed since the last one read (the
near-duplicate rule of :mod:`perceive.novelty`) and at most every ``interval``
seconds. A clock, a score or a ticker changes too little of the frame for that
rule, so the rows of the texts on screen are watched as well: when the pixels
in or near a known text box change (``region_threshold`` grey levels on
average), or ``interval`` seconds passed since that row was read and its pixels
moved at all (more than compression noise, ``noise``), just that row is read
again, from a crop (a fraction of a whole read's cost).

A text read on consecutive keyframes becomes one span: one ``ocr``
observation from its first to its last sighting, with its box, a position word
and the best recognition score. A row that reads differently (the clock moved on)
closes its span and opens the next one; :mod:`prompting.context` joins such a
series of values into one line. Keyframes that did not change carry the texts
of the last reading on; a changed keyframe that was not read ends no span, the
next reading decides.

Every image is padded with :data:`BORDER` pixels of its own edge colour before
detection: PP-OCR's detector finds no line that touches the frame edge (a
ticker, a wide subtitle, a cropped sign) without it; boxes are mapped back.

The engine is ``rapidocr-onnxruntime`` 1.4.4; the models are ONNX files (detection,
direction, recognition; the recognizer's characters are in its ONNX metadata): by default
PP-OCRv6 small from the ``rapidocr`` 3.x wheel (``--model ocr=pkg:rapidocr``; installed
``--no-deps``, only its ONNX files are used), else PP-OCRv4 from the ``rapidocr-onnxruntime``
wheel (``--model ocr=pkg:rapidocr-onnxruntime``), or a folder with ``*det*.onnx``,
``*rec*.onnx`` and ``*cls*.onnx``. On English burnt-in text PP-OCRv6 errs half as often and
keeps the spaces between words that PP-OCRv4 drops (docs/perception-text.md).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from perceive.models import ResolvedModel
from perceive.novelty import ChangeGate, thumbnail
from perceive.records import Box, Observation
from perceive.stage import FrameStage
from perceive.video import Frame

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d")

BORDER = 50
"""Pixels of edge colour padded around an image before text detection (at the size it is read at)."""


def normalize(text: str) -> str:
    """Case, spacing and surrounding punctuation ignored: the key two readings are compared by."""
    return _SPACE.sub(" ", text).strip(" .,;:!?'\"-_|").lower()


def same_text(a: str, b: str, min_ratio: float = 0.85) -> bool:
    """Whether two readings are the same text: equal digits and at least ``min_ratio`` similar otherwise.

    Small recognition slips ("Manifesto ofthe" / "Manifesto of the") match; a timecode or a
    countdown whose digits moved on does not.
    """
    a, b = normalize(a), normalize(b)
    if a == b:
        return True
    if _DIGITS.findall(a) != _DIGITS.findall(b):
        return False
    return difflib.SequenceMatcher(None, a, b).ratio() >= min_ratio


@dataclass
class Reading:
    """One text line found on one keyframe."""

    text: str
    box: Box
    score: float


def value_shape(text: str) -> str:
    """``text`` normalized with every digit as ``0``: a clock's or a score's readings share it."""
    return _DIGITS.sub("0", normalize(text))


_VALUE = re.compile(r"[\d\s.,:;/%+\-]+")


def next_value(a: str, b: str, min_ratio: float = 0.7) -> bool:
    """Whether ``b`` is another value of what ``a`` shows (a clock that moved on, a counter, a score).

    Both hold digits, their digits differ, and they look alike with digits ignored
    ("01:00:20:00" / "01:00:21:00", "Score 3-1" / "Score 3-2"), or both are numbers ("9" / "10").
    """
    a, b = normalize(a), normalize(b)
    if not _DIGITS.search(a) or not _DIGITS.search(b) or _DIGITS.findall(a) == _DIGITS.findall(b):
        return False
    if _VALUE.fullmatch(a) and _VALUE.fullmatch(b):
        return True
    return difflib.SequenceMatcher(None, value_shape(a), value_shape(b)).ratio() >= min_ratio


@dataclass
class Span:
    """A text seen over consecutive keyframes, and the pixels of its row when it was last read."""

    start: float
    end: float
    reading: Reading
    box: Box | None = None            # where the text was last read (the best reading may be older)
    reference: np.ndarray | None = None
    read_at: float = 0.0
    crop: np.ndarray | None = None    # the text row as last read (RGB) ...
    crop_text: str | None = None      # ... and what the recognizer alone reads in it (known once asked for)

    def __post_init__(self):
        self.box = self.box or self.reading.box

    def extend(self, time: float, reading: Reading | None = None) -> None:
        """Seen again at ``time``; the most confident reading is kept."""
        self.end = max(self.end, time)
        if reading is not None and reading.score > self.reading.score:
            self.reading = reading

    def watch(self, image: np.ndarray, grey: np.ndarray, time: float, crop_text: str | None = None) -> None:
        """Remember the pixels around the text as read at ``time`` (``grey``: the keyframe in grey levels), and its row."""
        self.reference, self.read_at = grey[surroundings(self.box, grey.shape)].copy(), time
        self.crop, self.crop_text = row_crop(image, self.box).copy(), crop_text

    def moved(self, grey: np.ndarray) -> float:
        """The share of pixels around the text that changed (by more than :data:`MOVED` grey levels) since it was read."""
        now = grey[surroundings(self.box, grey.shape)]
        if self.reference is None or now.shape != self.reference.shape or not now.size:
            return 1.0
        return float((np.abs(now - self.reference) > MOVED).mean())

    def observation(self) -> Observation:
        r = self.reading
        return Observation(stage="ocr", start=self.start, end=self.end, text=r.text, box=r.box,
                           position=r.box.position(), score=round(r.score, 3))


MOVED = 40.0
"""Grey levels a pixel must change by to count as moved (compression noise stays below)."""


def _pixels(box: Box, shape: tuple[int, ...], across: float, along: float) -> tuple[slice, slice]:
    """Rows and columns of ``box`` widened by ``along`` text heights sideways and ``across`` up and down."""
    h, w = shape[:2]
    height = (box.y2 - box.y1) * h
    y1, y2 = max(0, int(box.y1 * h - across * height)), min(h, int(np.ceil(box.y2 * h + across * height)))
    x1, x2 = max(0, int(box.x1 * w - along * height)), min(w, int(np.ceil(box.x2 * w + along * height)))
    return slice(y1, max(y1 + 1, y2)), slice(x1, max(x1 + 1, x2))


def surroundings(box: Box, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """The pixels watched for a change near a text box: half its height above and below, two heights sideways."""
    return _pixels(box, shape, 0.5, 2.0)


def row_crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The text row around ``box`` as the recognizer reads it again: a quarter height above and below, one sideways."""
    return image[_pixels(box, image.shape, 0.25, 1.0)]


def grey_levels(image: np.ndarray) -> np.ndarray:
    """An RGB keyframe in grey levels (float32), for comparing text rows."""
    return np.asarray(Image.fromarray(image).convert("L"), dtype=np.float32)


def model_files(folder: Path) -> dict[str, str]:
    """The det/rec/cls ONNX files in ``folder`` (searched recursively), as RapidOCR keyword arguments."""
    out = {}
    for part in ("det", "rec", "cls"):
        found = sorted(p for p in folder.rglob("*.onnx") if part in p.name.lower())
        if found:
            out[f"{part}_model_path"] = str(found[0])
    if "det_model_path" not in out or "rec_model_path" not in out:
        raise FileNotFoundError(f"no text detection/recognition ONNX models (*det*.onnx, *rec*.onnx) in {folder}")
    return out


def load_rapidocr(location: str) -> Any:
    """A RapidOCR engine with the ONNX models found at ``location`` (a folder, e.g. the package's)."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(**model_files(Path(location)))


def recognize(engine: Any, crop: np.ndarray) -> tuple[str, float]:
    """What the recognizer alone (no detection) reads in an RGB crop of one text row, and its score."""
    result, _ = engine(np.ascontiguousarray(crop[..., ::-1]), use_det=False, use_cls=False)
    if not result:
        return "", 0.0
    text, score = result[0][0], result[0][1]
    return _SPACE.sub(" ", str(text)).strip(), float(score)


def upscaled(image: np.ndarray, min_side: int) -> np.ndarray:
    """``image`` enlarged (bicubic) so that its longer side is at least ``min_side`` pixels."""
    h, w = image.shape[:2]
    if max(h, w) >= min_side:
        return image
    scale = min_side / max(h, w)
    return np.asarray(Image.fromarray(image).resize((round(w * scale), round(h * scale)), Image.BICUBIC))


def padded(image: np.ndarray, border: int = BORDER) -> np.ndarray:
    """``image`` with ``border`` pixels on every side in its edge colour (the median of its outermost pixels)."""
    if border <= 0:
        return image
    edge = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    colour = np.median(edge, axis=0).astype(image.dtype)
    h, w = image.shape[:2]
    out = np.empty((h + 2 * border, w + 2 * border, image.shape[2]), dtype=image.dtype)
    out[:] = colour
    out[border:border + h, border:border + w] = image
    return out


def read_frame(engine: Any, image: np.ndarray, min_score: float = 0.6, min_side: int = 640,
               border: int = BORDER) -> list[Reading]:
    """The text lines RapidOCR finds in an RGB keyframe, top to bottom, scored at least ``min_score``.

    A small keyframe is enlarged to ``min_side`` pixels first: on a 320-px frame
    the recognizer drops the spaces between words ("CommunistParty"). It is then
    padded by ``border`` pixels (:func:`padded`), so that lines touching the edge
    are found; the boxes are in the keyframe's own coordinates (0..1).
    """
    image = upscaled(image, min_side)
    h, w = image.shape[:2]
    result, _ = engine(np.ascontiguousarray(padded(image, border)[..., ::-1]))  # RapidOCR expects BGR like OpenCV
    out = []
    for points, text, score in result or []:
        text = _SPACE.sub(" ", str(text)).strip()
        if float(score) < min_score or len(normalize(text)) < 2:
            continue
        xs, ys = [p[0] - border for p in points], [p[1] - border for p in points]
        box = Box(x1=min(1.0, max(0.0, min(xs) / w)), y1=min(1.0, max(0.0, min(ys) / h)),
                  x2=max(0.0, min(1.0, max(xs) / w)), y2=max(0.0, min(1.0, max(ys) / h)))
        if box.area > 0:
            out.append(Reading(text, box, float(score)))
    return join_rows(out)


def _same_row(a: Box, b: Box) -> bool:
    """Two boxes on one text row: they overlap vertically by half the lower one and are close sideways."""
    overlap = min(a.y2, b.y2) - max(a.y1, b.y1)
    height = min(a.y2 - a.y1, b.y2 - b.y1)
    gap = max(a.x1, b.x1) - min(a.x2, b.x2)
    return height > 0 and overlap >= 0.5 * height and gap <= 2.0 * height


def join_rows(readings: list[Reading]) -> list[Reading]:
    """Pieces of one text row (the detector may cut "OPEN DAILY" in two) joined left to right;
    the rows in reading order, top to bottom."""
    rows: list[list[Reading]] = []
    for r in sorted(readings, key=lambda r: r.box.x1):
        row = next((row for row in rows if _same_row(row[-1].box, r.box)), None)
        if row is None:
            rows.append([r])
        else:
            row.append(r)
    out = []
    for row in rows:
        box = Box(x1=min(r.box.x1 for r in row), y1=min(r.box.y1 for r in row),
                  x2=max(r.box.x2 for r in row), y2=max(r.box.y2 for r in row))
        out.append(Reading(" ".join(r.text for r in row), box, min(r.score for r in row)))
    return sorted(out, key=lambda r: (r.box.y1, r.box.x1))


class OcrStage(FrameStage):
    """Read on-screen text: whole changed keyframes at most every ``interval`` seconds, a text row again when
    its pixels change or ``interval`` seconds passed; merge the readings into spans.

    Options (``stage_options["ocr"]``): ``interval`` (s, ``--ocr-interval``), ``change_threshold``
    (grey levels, see :class:`~perceive.novelty.ChangeGate`), ``region_threshold`` (the share of a
    row's surroundings that must change, see :meth:`Span.moved`), ``min_score``.
    """

    name = "ocr"

    def __init__(self, model: ResolvedModel, device: str = "cpu", interval: float = 2.0,
                 change_threshold: float = 3.0, region_threshold: float = 0.002, min_score: float = 0.6):
        super().__init__(model, device)
        self.gate = ChangeGate(change_threshold, interval)
        self.interval, self.region_threshold, self.min_score = interval, region_threshold, min_score
        self.reads = 0      # whole keyframes read
        self.rereads = 0    # text rows read again alone
        self.start()

    def start(self, video=None) -> None:
        """Forget the last read keyframe and the open spans: the new video starts afresh."""
        self.gate.reset()
        self.open: list[Span] = []

    def load_model(self) -> Any:
        return load_rapidocr(self.spec.location)

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        out: list[Observation] = []
        for frame in frames:
            thumb = thumbnail(frame.image)
            grey = grey_levels(frame.image)
            if self.gate.changed(thumb) and self.gate.due(frame.time):
                out += self._read(frame, thumb, grey)
            else:
                out += self._watch(frame, thumb, grey)
        return out

    def _stale(self, span: Span, grey: np.ndarray, time: float) -> bool:
        """Whether a span's row must be read again: its surroundings changed, or ``interval`` passed and they moved."""
        moved = span.moved(grey)
        return moved >= self.region_threshold or (moved > 0 and time - span.read_at >= self.interval - 1e-6)

    def _watch(self, frame: Frame, thumb: np.ndarray, grey: np.ndarray) -> list[Observation]:
        """A keyframe not read whole: unchanged rows carry on, changed rows are read again alone.

        The recognizer reads the row's crop now and as it was last read (the same pixels a whole read saw
        may read a little differently alone): the same text carries the span on, another value of it (a
        clock) closes the span and opens the next; anything else (a new subtitle, text gone) needs the
        whole keyframe read, when that is due.
        """
        out, kept, unsettled = [], [], False
        for span in self.open:
            if not self._stale(span, grey, frame.time):
                span.extend(frame.time)
                kept.append(span)
                continue
            self.rereads += 1
            if span.crop_text is None:
                span.crop_text = recognize(self.model, span.crop)[0]
            text, score = recognize(self.model, row_crop(frame.image, span.box))
            if score >= self.min_score and same_text(span.crop_text, text):
                span.extend(frame.time)
                span.watch(frame.image, grey, frame.time, text)
                kept.append(span)
            elif score >= self.min_score and next_value(span.crop_text, text):
                out.append(span.observation())
                follower = Span(frame.time, frame.time, Reading(text, span.box, score))
                follower.watch(frame.image, grey, frame.time, text)
                kept.append(follower)
            else:
                unsettled = True
                kept.append(span)
        self.open = kept
        if unsettled and self.gate.due(frame.time):
            return out + self._read(frame, thumb, grey)
        return out

    def _read(self, frame: Frame, thumb: np.ndarray, grey: np.ndarray) -> list[Observation]:
        """Read ``frame`` whole: continue the spans whose text is still there, close the others, open new ones."""
        self.gate.accept(frame.time, thumb)
        self.reads += 1
        still, closed = [], list(self.open)
        for reading in read_frame(self.model, frame.image, self.min_score):
            match = next((s for s in closed if same_text(s.reading.text, reading.text)), None)
            if match is not None:
                closed.remove(match)
                match.extend(frame.time, reading)
                match.box = reading.box
                still.append(match)
            else:
                still.append(Span(frame.time, frame.time, reading))
        for span in still:
            span.watch(frame.image, grey, frame.time)
        self.open = still
        return [s.observation() for s in closed]

    def finish(self) -> list[Observation]:
        """The spans still open at the end of the video."""
        out = [s.observation() for s in self.open]
        self.open = []
        return out
