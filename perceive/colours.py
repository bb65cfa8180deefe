"""Colour names from pixels: basic colour terms from a table of CIE L*C*h regions (no model).

An sRGB pixel is converted to CIE L*a*b* (D65, :func:`srgb_to_lab`), then to
lightness L*, chroma C* and hue angle h; it gets the term of the first row of
``perceive/data/colour_names.tsv`` whose ranges hold it. The terms are Berlin &
Kay's eleven basic colour terms (white, black, grey, red, orange, brown, yellow,
green, blue, purple, pink); each also has a word for hair ("blond" for yellow).

Why a table of hue sectors and not the nearest of eleven Lab centres: Lab's hue
is not uniform in the blues, so navy and pure sRGB blue lie nearer a purple centre
than a blue one. On the 42 named sRGB colours of tests/test_colours.py the nearest
of eleven hand-placed centres got 7 wrong (navy, blue, midnight blue as purple; sky
blue as white), the table none (it was placed with those colours in view).

A region's colour is the term most of its pixels get (:func:`dominant`). The
``colours`` stage (:class:`ColourStage`) names the colours of every tracked
object's box, and of a person's hair, upper and lower body, summed over the track.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from perceive.records import Box, Observation
from perceive.stage import FrameStage
from perceive.video import Frame

TABLE = Path(__file__).resolve().parent / "data" / "colour_names.tsv"
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB ``uint8`` pixels (any shape ending in 3)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ SRGB_TO_XYZ.T / WHITE_D65
    delta = 6 / 29
    f = np.where(xyz > delta ** 3, np.cbrt(xyz), xyz / (3 * delta ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def lch(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lightness, chroma and hue angle (degrees, 0-360) of L*a*b* values."""
    return lab[..., 0], np.hypot(lab[..., 1], lab[..., 2]), np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360


@dataclass(frozen=True)
class ColourTable:
    """The rows of the colour-name table as arrays: each row's term, hair word and L*C*h ranges."""

    terms: tuple[str, ...]
    hair: dict[str, str]
    ranges: np.ndarray   # (rows, 6): h_from, h_to, L_from, L_to, C_from, C_to

    @property
    def names(self) -> list[str]:
        """The distinct terms, in table order (the index :meth:`name_index` returns)."""
        return list(dict.fromkeys(self.terms))

    def name_index(self, lab: np.ndarray) -> np.ndarray:
        """For each L*a*b* value, the index in :attr:`names` of its term (the first row that holds it)."""
        L, C, h = lch(np.asarray(lab, dtype=np.float64).reshape(-1, 3))
        r = self.ranges
        inside = ((h[:, None] >= r[:, 0]) & (h[:, None] < r[:, 1]) & (L[:, None] >= r[:, 2]) & (L[:, None] < r[:, 3])
                  & (C[:, None] >= r[:, 4]) & (C[:, None] < r[:, 5]))
        row = np.argmax(inside, axis=1)   # every value falls in some row: the table covers all of L*C*h
        names = self.names
        to_name = np.array([names.index(t) for t in self.terms])
        return to_name[row]


@lru_cache(maxsize=1)
def colour_table(path: Path = TABLE) -> ColourTable:
    """The colour-name table (``perceive/data/colour_names.tsv``), read once."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"))
    ranges = np.array([[float(r[k]) for k in ("h_from", "h_to", "L_from", "L_to", "C_from", "C_to")] for r in rows])
    return ColourTable(tuple(r["term"] for r in rows), {r["term"]: r["hair"] for r in rows}, ranges)


SKIN = {"h": (30.0, 75.0), "L": (25.0, 85.0), "C": (10.0, 45.0)}
"""Where skin tones lie in L*C*h: the body regions of a person leave such pixels out (:func:`colour_counts`)."""


def colour_counts(rgb: np.ndarray, table: ColourTable | None = None, skip_skin: bool = False) -> np.ndarray:
    """How many pixels of an RGB region get each term (counts in the order of ``table.names``).

    ``skip_skin`` leaves out skin-toned pixels (:data:`SKIN`: a face or arms in a body region) unless
    nearly all pixels are (a garment of that colour).
    """
    table = table or colour_table()
    pixels = np.asarray(rgb).reshape(-1, 3)
    if not len(pixels):
        return np.zeros(len(table.names))
    lab = srgb_to_lab(pixels)
    if skip_skin:
        L, C, h = lch(lab)
        skin = ((h >= SKIN["h"][0]) & (h < SKIN["h"][1]) & (L >= SKIN["L"][0]) & (L < SKIN["L"][1])
                & (C >= SKIN["C"][0]) & (C < SKIN["C"][1]))
        if skin.mean() < 0.8:
            lab = lab[~skin]
    return np.bincount(table.name_index(lab), minlength=len(table.names)).astype(np.float64)


def dominant(counts: np.ndarray, table: ColourTable | None = None, second: float = 0.35) -> list[str]:
    """The term most pixels got, and the runner-up too when it holds at least ``second`` of them.

    ``[]`` for a region without pixels.
    """
    table = table or colour_table()
    total = counts.sum()
    if not total:
        return []
    order = np.argsort(-counts)
    names = [table.names[order[0]]]
    if len(order) > 1 and counts[order[1]] / total >= second:
        names.append(table.names[order[1]])
    return names


# --- the colours stage: colour names for each track's regions ------------------------------------------------

PERSON_REGIONS = {   # region -> (top, bottom, left, right) as shares of the person box
    "full": {"hair": (0.0, 0.06, 0.35, 0.65), "upper body": (0.2, 0.45, 0.3, 0.7), "lower body": (0.55, 0.85, 0.3, 0.7)},
    "bust": {"hair": (0.0, 0.08, 0.35, 0.65), "upper body": (0.75, 1.0, 0.2, 0.8)},
}
"""Where hair, upper and lower body lie in a person's box: a box at least ``FULL_BODY`` times as tall as wide
shows the whole body; a squatter one head and shoulders (or a seated person), so no lower body."""
FULL_BODY = 1.8
OBJECT_REGION = (0.2, 0.8, 0.2, 0.8)
"""The middle of an object's box, where it is least likely to be background."""
SIDE = 32
"""Each region is scaled down to at most this many pixels a side before its pixels are named."""
BACKGROUND_SHARE = 0.5
"""How much of a person's region may be background: that share of its pixels, named as the background beside
(or, for hair, above) the box is, is taken off before the dominant colour is chosen (:func:`foreground`)."""


def person_regions(box: Box, width: int, height: int) -> dict[str, tuple[int, int, int, int]]:
    """Pixel rectangles (y1, y2, x1, x2) of a person's hair, upper and lower body in a ``width`` x ``height`` frame."""
    w, h = (box.x2 - box.x1) * width, (box.y2 - box.y1) * height
    shape = "full" if h >= FULL_BODY * w else "bust"
    return {name: _pixels(box, part, width, height) for name, part in PERSON_REGIONS[shape].items()}


def _pixels(box: Box, part: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    top, bottom, left, right = part
    bw, bh = box.x2 - box.x1, box.y2 - box.y1
    return (round((box.y1 + top * bh) * height), round((box.y1 + bottom * bh) * height),
            round((box.x1 + left * bw) * width), round((box.x1 + right * bw) * width))


def beside(rect: tuple[int, int, int, int], hair: bool) -> list[tuple[int, int, int, int]]:
    """Background rectangles next to a region: above it for hair, left and right of the box's rows otherwise."""
    y1, y2, x1, x2 = rect
    h, w = y2 - y1, x2 - x1
    if hair:
        return [(y1 - max(h, 4), y1, x1, x2)]
    return [(y1, y2, x1 - w, x1 - w // 2), (y1, y2, x2 + w // 2, x2 + w)]


def foreground(counts: np.ndarray, background: np.ndarray | None) -> np.ndarray:
    """``counts`` less up to :data:`BACKGROUND_SHARE` of them named as the background is; unchanged when that
    would leave under a fifth (the region is the background's colour: a white shirt on a white wall)."""
    if background is None or not background.sum():
        return counts
    rest = np.clip(counts - background / background.sum() * counts.sum() * BACKGROUND_SHARE, 0, None)
    return rest if rest.sum() >= 0.2 * counts.sum() else counts


def region_counts(image: np.ndarray, rect: tuple[int, int, int, int], table: ColourTable,
                  skip_skin: bool = False) -> np.ndarray | None:
    """Pixel counts per term in ``rect`` of ``image`` (scaled down to ``SIDE``), or None when it is under 4 px a side."""
    y1, y2, x1, x2 = rect
    crop = image[max(0, y1):max(0, y2), max(0, x1):max(0, x2)]
    if crop.shape[0] < 4 or crop.shape[1] < 4:
        return None
    step = max(1, max(crop.shape[:2]) // SIDE)
    return colour_counts(crop[::step, ::step], table, skip_skin)


@dataclass
class Looked:
    """One track's colour counts so far, per region, and when it was seen."""

    label: str
    first: float
    last: float
    counts: dict[str, np.ndarray]
    analysed_at: float

    def text(self, table: ColourTable) -> str:
        """``blond hair, white upper body, blue lower body`` (a person) or ``red`` / ``red and white`` (a thing)."""
        parts = []
        for region, counts in self.counts.items():
            names = dominant(counts, table)
            if region == "hair":
                names = list(dict.fromkeys(table.hair[n] for n in names))
            words = " and ".join(names)
            parts.append(words if region == "object" else f"{words} {region}")
        return ", ".join(parts)


class ColourStage(FrameStage):
    """Colour names of every tracked object (a person's hair, upper and lower body) from its boxes' pixels.

    Options (``stage_options["colours"]``): ``interval`` (s between the keyframes of one track that are
    analysed). One ``colour`` observation per track at the end, spanning the track.
    """

    name = "colours"

    def __init__(self, model=None, device: str = "cpu", interval: float = 1.0):
        super().__init__(None, device)
        self.interval = interval
        self.start()

    def start(self, video=None) -> None:
        """Forget the tracks of the previous video."""
        self.looked: dict[tuple[int, str], Looked] = {}

    def load_model(self) -> ColourTable:
        return colour_table()

    def info(self) -> None:
        """No model: nothing to name in the header."""
        return None

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        table = self.model
        for frame in frames:
            for o in earlier:
                if o.stage == "detection" and o.box and o.track_id is not None and abs(o.start - frame.time) < 1e-6:
                    self._see(frame, o, table)
        return []

    def _see(self, frame: Frame, o: Observation, table: ColourTable) -> None:
        key = (o.track_id, o.label or "object")
        seen = self.looked.get(key)
        if seen is not None and frame.time - seen.analysed_at < self.interval - 1e-6:
            seen.last = frame.time
            return
        height, width = frame.image.shape[:2]
        rects = (person_regions(o.box, width, height) if key[1] == "person"
                 else {"object": _pixels(o.box, OBJECT_REGION, width, height)})
        if seen is None:
            seen = self.looked[key] = Looked(key[1], frame.time, frame.time, {}, frame.time)
        seen.last = seen.analysed_at = frame.time
        for region, rect in rects.items():
            counts = region_counts(frame.image, rect, table, skip_skin=region.endswith("body"))
            if counts is None:
                continue
            if key[1] == "person":
                around = [c for r in beside(rect, region == "hair") if (c := region_counts(frame.image, r, table))
                          is not None]
                counts = foreground(counts, sum(around) if around else None)
            seen.counts[region] = seen.counts.get(region, 0) + counts

    def finish(self) -> list[Observation]:
        """One ``colour`` observation per track that had pixels to name; then forget the tracks."""
        table = self.model
        out = [Observation(stage="colour", start=seen.first, end=seen.last, text=seen.text(table), label=seen.label,
                           track_id=track_id)
               for (track_id, _), seen in sorted(self.looked.items(), key=lambda kv: (kv[1].first, kv[0]))
               if seen.counts]
        self.start()
        return out
