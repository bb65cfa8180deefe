"""On-screen text (``ocr``): burnt-in titles, signs, slides and subtitles, read with RapidOCR.

Reading costs about a second per 640-px keyframe on two CPU cores, so a keyframe
is read only when its content changed since the last one read (the
near-duplicate rule of :mod:`perceive.novelty`) and at most every ``interval``
seconds. A text read on consecutive keyframes becomes one span: one ``ocr``
observation from its first to its last sighting, with its box, a position word
and the best recognition score. Keyframes that did not change carry the texts
of the last reading on; a changed keyframe that was not read ends no span, the
next reading decides.

The model is PP-OCRv4 (detection, direction, recognition) as ONNX files, which
the ``rapidocr-onnxruntime`` wheel ships: ``--model ocr=pkg:rapidocr-onnxruntime``
(the default) or a folder with ``*det*.onnx``, ``*rec*.onnx`` and ``*cls*.onnx``.
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


@dataclass
class Span:
    """A text seen over consecutive keyframes."""

    start: float
    end: float
    reading: Reading

    def extend(self, time: float, reading: Reading | None = None) -> None:
        """Seen again at ``time``; the most confident reading is kept."""
        self.end = max(self.end, time)
        if reading is not None and reading.score > self.reading.score:
            self.reading = reading

    def observation(self) -> Observation:
        r = self.reading
        return Observation(stage="ocr", start=self.start, end=self.end, text=r.text, box=r.box,
                           position=r.box.position(), score=round(r.score, 3))


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


def upscaled(image: np.ndarray, min_side: int) -> np.ndarray:
    """``image`` enlarged (bicubic) so that its longer side is at least ``min_side`` pixels."""
    h, w = image.shape[:2]
    if max(h, w) >= min_side:
        return image
    scale = min_side / max(h, w)
    return np.asarray(Image.fromarray(image).resize((round(w * scale), round(h * scale)), Image.BICUBIC))


def read_frame(engine: Any, image: np.ndarray, min_score: float = 0.6, min_side: int = 640) -> list[Reading]:
    """The text lines RapidOCR finds in an RGB keyframe, top to bottom, scored at least ``min_score``.

    A small keyframe is enlarged to ``min_side`` pixels first: on a 320-px frame
    the recognizer drops the spaces between words ("CommunistParty").
    """
    image = upscaled(image, min_side)
    h, w = image.shape[:2]
    result, _ = engine(np.ascontiguousarray(image[..., ::-1]))  # RapidOCR expects BGR like OpenCV
    out = []
    for points, text, score in result or []:
        text = _SPACE.sub(" ", str(text)).strip()
        if float(score) < min_score or len(normalize(text)) < 2:
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        box = Box(x1=max(0.0, min(xs) / w), y1=max(0.0, min(ys) / h),
                  x2=min(1.0, max(xs) / w), y2=min(1.0, max(ys) / h))
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
    """Read on-screen text on changed keyframes, at most every ``interval`` seconds; merge it into spans.

    Options (``stage_options["ocr"]``): ``interval`` (s), ``change_threshold``
    (grey levels, see :class:`~perceive.novelty.ChangeGate`), ``min_score``.
    """

    name = "ocr"

    def __init__(self, model: ResolvedModel, device: str = "cpu", interval: float = 2.0,
                 change_threshold: float = 3.0, min_score: float = 0.6):
        super().__init__(model, device)
        self.gate = ChangeGate(change_threshold, interval)
        self.min_score = min_score
        self.reads = 0
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
            if not self.gate.changed(thumb):
                for span in self.open:
                    span.extend(frame.time)
            elif self.gate.due(frame.time):
                self.gate.accept(frame.time, thumb)
                out += self._read(frame)
        return out

    def _read(self, frame: Frame) -> list[Observation]:
        """Read ``frame``: continue the spans whose text is still there, close the others, open new ones."""
        self.reads += 1
        still, closed = [], list(self.open)
        for reading in read_frame(self.model, frame.image, self.min_score):
            match = next((s for s in closed if same_text(s.reading.text, reading.text)), None)
            if match is not None:
                closed.remove(match)
                match.extend(frame.time, reading)
                still.append(match)
            else:
                still.append(Span(frame.time, frame.time, reading))
        self.open = still
        return [s.observation() for s in closed]

    def finish(self) -> list[Observation]:
        """The spans still open at the end of the video."""
        out = [s.observation() for s in self.open]
        self.open = []
        return out
