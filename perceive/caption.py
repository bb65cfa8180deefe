"""Image captions for keyframes (``caption``) and for their main regions (``dense_caption``).

Both stages share one transformers image-to-text model, loaded once: the whole
keyframe gets a caption every sampled frame; every ``interval`` seconds the
largest, most confident detected objects (or, without detections, the left,
center and right thirds of the frame) get their own.

The default model is Florence-2-base (``florence-community/Florence-2-base``:
0.23 B parameters, MIT licence, native in transformers 5), asked for its
``<CAPTION>`` task with greedy decoding; BLIP-base
(``-m captioner=Salesforce/blip-image-captioning-base``) and any other BLIP-style
model still work: the model's config says which kind it is (:data:`TASK_PROMPTS`).
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from PIL import Image

from perceive.models import ResolvedModel
from perceive.novelty import ChangeGate, difference, thumbnail
from perceive.records import Box, Observation
from perceive.stage import FrameStage, int8_linear
from perceive.video import Frame

# BLIP's well-known artifacts ("arafed man ...", "there is a ...") carry no content
_JUNK = re.compile(r"\b(arafed|araffe|arafe|araf)\b\s*|^there (is|are) ", re.IGNORECASE)
THIRDS = tuple(Box(x1=i / 3, y1=0.0, x2=(i + 1) / 3, y2=1.0) for i in range(3))


TASK_PROMPTS = {"florence2": "<CAPTION>"}
"""The task prompt of each model type that takes one (by its config's ``model_type``); others caption unprompted."""


class Captioner(NamedTuple):
    """A loaded image-to-text model with its processor, and its task prompt (None: it captions unprompted)."""

    processor: Any
    model: Any
    device: str
    prompt: str | None = None


def load_captioner(location: str, device: str = "cpu", int8: bool = False) -> Captioner:
    """Load a transformers image-to-text model (Florence-2, BLIP-style) and its processor from a folder or hub id.

    ``int8`` on a CPU quantizes its linear layers (:func:`~perceive.stage.int8_linear`).
    """
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    processor = AutoProcessor.from_pretrained(location)
    model = AutoModelForImageTextToText.from_pretrained(location, dtype=dtype).to(device).eval()
    if int8 and device == "cpu":
        model = int8_linear(model)
    return Captioner(processor, model, device, TASK_PROMPTS.get(model.config.model_type))


def clean_caption(text: str) -> str:
    """Drop BLIP artifacts and extra spaces from a generated caption."""
    return " ".join(_JUNK.sub("", text.strip()).split())


class CaptionerStage(FrameStage):
    """Shared base of the two caption stages: one model, ``caption(images)``.

    ``generate_batch`` images go through one ``generate`` call (default: by device,
    :func:`perceive.profiles.batch_size`); the batch size never changes a caption.
    ``image_size`` (e.g. 224) captions at a lower resolution than the model's own
    (position embeddings interpolated; BLIP-style models only, a prompted model such as
    Florence-2 keeps its own size): faster, and it changes the captions. ``int8``
    quantizes the model's linear layers on a CPU: faster, and it changes the captions.
    """

    def __init__(self, model: ResolvedModel, device: str = "cpu", max_new_tokens: int = 20,
                 generate_batch: int | None = None, image_size: int | None = None, int8: bool = False):
        from perceive.profiles import batch_size

        super().__init__(model, device)
        self.max_new_tokens = max_new_tokens
        self.generate_batch = max(1, int(generate_batch or batch_size(device, "generate")))
        self.image_size = image_size
        self.int8 = int8 and device == "cpu"

    def load_options(self) -> tuple:
        return ("int8",) if self.int8 else ()

    def load_model(self) -> Captioner:
        return load_captioner(self.spec.location, self.device, int8=self.int8)

    def caption(self, images: list[Image.Image]) -> list[str]:
        """One caption per image, ``generate_batch`` images per ``generate`` call."""
        out: list[str] = []
        for b in range(0, len(images), self.generate_batch):
            out += self._generate(images[b:b + self.generate_batch])
        return out

    def _generate(self, images: list[Image.Image]) -> list[str]:
        import torch

        cap = self.model
        if cap.prompt:   # Florence-2: its task prompt, greedy (its model card decodes with 3 beams: slower on a CPU)
            inputs = cap.processor(text=[cap.prompt] * len(images), images=images, return_tensors="pt")
            extra = {"num_beams": 1}
        else:
            size = {"size": {"height": self.image_size, "width": self.image_size}} if self.image_size else {}
            inputs = cap.processor(images=images, return_tensors="pt", **size)
            extra = {"interpolate_pos_encoding": bool(self.image_size)}
        inputs = inputs.to(cap.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(cap.model.dtype)
        with torch.inference_mode():
            ids = cap.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, **extra)
        return [clean_caption(t) for t in cap.processor.batch_decode(ids, skip_special_tokens=True)]


class CaptionStage(CaptionerStage):
    """A caption for every keyframe; a near-duplicate of the last captioned keyframe reuses its caption.

    Keyframes whose 32x32 grey thumbnail differs from the last captioned one by less
    than ``reuse_below`` grey levels on average (0 turns this off) are not captioned
    again: a talking head or a static shot costs one caption, not one per second.
    ``min_interval`` (seconds, 0 by default; the ``fast`` profile sets 5) also reuses the
    last caption until that much time has passed since it was made.
    """

    name = "caption"

    def __init__(self, model: ResolvedModel, device: str = "cpu", max_new_tokens: int = 20,
                 reuse_below: float = 3.0, min_interval: float = 0.0, **batching):
        super().__init__(model, device, max_new_tokens, **batching)
        self.gate = ChangeGate(reuse_below, min_interval)
        self.start()

    def start(self, video=None) -> None:
        """Forget the last captioned keyframe: the new video starts afresh."""
        self.gate.reset()
        self.text = ""

    @property
    def reuse_below(self) -> float:
        """The grey-level difference below which a keyframe reuses the last caption."""
        return self.gate.threshold

    @reuse_below.setter
    def reuse_below(self, value: float) -> None:
        self.gate.threshold = value

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        fresh = [i for i, f in enumerate(frames) if self.gate.offer(f.time, thumbnail(f.image))]
        captions = dict(zip(fresh, self.caption([Image.fromarray(frames[i].image) for i in fresh])))
        out = []
        for i, frame in enumerate(frames):
            self.text = captions.get(i, self.text)
            if self.text:
                out.append(Observation(stage="caption", start=frame.time, text=self.text))
        return out


class Region(NamedTuple):
    """A part of a keyframe to caption, with the detected class it shows (if any)."""

    time: float
    box: Box
    label: str | None


class DenseCaptionStage(CaptionerStage):
    """Every ``interval`` seconds, captions of the ``top_k`` main regions of the keyframe."""

    name = "dense_caption"

    def __init__(self, model: ResolvedModel, device: str = "cpu", max_new_tokens: int = 20,
                 interval: float = 5.0, top_k: int = 3, skip_repeats: bool = False, repeat_below: float = 8.0,
                 **batching):
        """``skip_repeats``: no region captions for a keyframe whose regions (class and box on a 10 %
        grid) are those of the last captioned one and whose thumbnail differs from it by less than
        ``repeat_below`` grey levels (the ``fast`` profile; it changes the output)."""
        super().__init__(model, device, max_new_tokens, **batching)
        self.interval, self.top_k = interval, top_k
        self.skip_repeats, self.repeat_below = skip_repeats, repeat_below
        self.start()

    def start(self, video=None) -> None:
        """The new video's first keyframe gets region captions."""
        self.next_time = 0.0
        self.last_seen: tuple | None = None   # (regions' signature, thumbnail) of the last captioned keyframe

    def repeats(self, frame: Frame, regions: list[Region]) -> bool:
        """Whether ``frame``'s regions repeat the last captioned keyframe's (always False without ``skip_repeats``)."""
        if not self.skip_repeats:
            return False
        signature = tuple((r.label, *(round(v * 10) for v in (r.box.x1, r.box.y1, r.box.x2, r.box.y2)))
                          for r in regions)
        thumb = thumbnail(frame.image)
        last, self.last_seen = self.last_seen, (signature, thumb)
        if last is None or last[0] != signature or difference(thumb, last[1]) >= self.repeat_below:
            return False
        self.last_seen = last   # compare later keyframes with the one whose captions stand
        return True

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        regions, crops = [], []
        for frame in frames:
            if frame.time + 1e-6 < self.next_time:
                continue
            self.next_time = (frame.time // self.interval + 1) * self.interval
            found = self.regions(frame.time, earlier)
            if self.repeats(frame, found):
                continue
            for region in found:
                regions.append(region)
                crops.append(crop(frame.image, region.box))
        texts = self.caption(crops)
        return [Observation(stage="dense_caption", start=r.time, text=t, box=r.box, position=r.box.position(),
                            label=r.label) for r, t in zip(regions, texts) if t]

    def regions(self, time: float, earlier: list[Observation]) -> list[Region]:
        """The largest, most confident detections at ``time``, else the frame's thirds."""
        found = [o for o in earlier if o.stage == "detection" and o.box is not None and abs(o.start - time) < 1e-6]
        found.sort(key=lambda o: o.box.area * (o.score if o.score is not None else 1.0), reverse=True)
        if found:
            return [Region(time, o.box, o.label) for o in found[: self.top_k]]
        return [Region(time, box, None) for box in THIRDS]


def crop(image, box: Box) -> Image.Image:
    """The part of an RGB array inside a normalized box (at least one pixel)."""
    h, w = image.shape[:2]
    x1, y1 = min(int(box.x1 * w), w - 1), min(int(box.y1 * h), h - 1)
    x2, y2 = max(int(round(box.x2 * w)), x1 + 1), max(int(round(box.y2 * h)), y1 + 1)
    return Image.fromarray(image[y1:y2, x1:x2])
