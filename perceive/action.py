"""Action recognition: a Kinetics-400 video classifier over sliding windows of keyframes.

Keyframes arrive batch after batch in time order. The stage keeps only the
frames of the window it is filling; once a keyframe at or past the window's end
has arrived, the window is complete. Its frames are resampled by index to the
model's ``num_frames`` and classified; every window completed by one batch goes
through the model in a single forward pass. :meth:`ActionStage.finish` classifies
the last, possibly shorter, window.

Each window gives one observation: ``label``/``score`` are the top-1 class and
its probability, and ``text`` lists the top-k classes with their probabilities,
most likely first, e.g. ``"arm wrestling (0.82), shaking hands (0.05), tickling (0.03)"``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from perceive.models import ResolvedModel
from perceive.records import Observation
from perceive.stage import FrameStage, int8_linear
from perceive.video import Frame


@dataclass
class VideoClassifier:
    """A loaded video classifier: the model and the processor that prepares its frames."""

    model: Any
    processor: Any
    num_frames: int
    labels: dict[int, str]


class ActionStage(FrameStage):
    """Label what happens in each ``window_s``-second window with Kinetics-400 actions."""

    name = "action"

    def __init__(self, model: ResolvedModel, device: str = "cpu", window_s: float = 4.0,
                 stride_s: float | None = None, top_k: int = 3, windows_per_pass: int | None = None,
                 int8: bool = False):
        """``windows_per_pass`` windows share a forward pass (default by device, :func:`perceive.profiles.batch_size`);
        ``int8`` quantizes the classifier's linear layers on a CPU (faster; it changes the scores a little)."""
        from perceive.profiles import batch_size

        super().__init__(model, device)
        if window_s <= 0 or (stride_s is not None and stride_s <= 0):
            raise ValueError("window_s and stride_s must be positive")
        self.window_s = float(window_s)
        self.stride_s = float(stride_s or window_s)
        self.top_k = max(1, int(top_k))
        self.windows_per_pass = max(1, int(windows_per_pass or batch_size(device, "windows")))
        self.int8 = int8 and device == "cpu"
        self.start()

    def load_options(self) -> tuple:
        return ("int8",) if self.int8 else ()

    def start(self, video=None) -> None:
        """Drop any frames left over: the new video's first window starts at its first keyframe."""
        self._buffer: list[Frame] = []
        self._start: float | None = None  # start of the window being filled

    def load_model(self) -> VideoClassifier:
        from transformers import AutoImageProcessor, AutoModelForVideoClassification

        location = self.spec.location
        processor = AutoImageProcessor.from_pretrained(location)
        model = AutoModelForVideoClassification.from_pretrained(location).to(self.device).eval()
        if self.int8:
            model = int8_linear(model)
        labels = {int(k): v for k, v in model.config.id2label.items()}
        return VideoClassifier(model, processor, int(model.config.num_frames), labels)

    def process(self, frames: list[Frame], earlier: list[Observation]) -> list[Observation]:
        self._buffer += frames
        if self._start is None and self._buffer:
            self._start = self._buffer[0].time
        windows = []
        while self._buffer and self._buffer[-1].time >= self._start + self.window_s:
            windows += self._take_window(final=False)
        return self._classify(windows)

    def finish(self) -> list[Observation]:
        """Classify the last, possibly shorter, window."""
        windows = self._take_window(final=True) if self._buffer else []
        self.start()
        return self._classify(windows)

    def _take_window(self, final: bool) -> list[tuple[float, float, list[Frame]]]:
        """Cut the current window out of the buffer and move on to the next one."""
        start, end = self._start, self._start + self.window_s
        inside = [f for f in self._buffer if start <= f.time < end]
        if final:
            # the video ends inside this window: it spans up to the last keyframe
            end = max(f.time for f in inside) if inside else start
        self._start = start + self.stride_s
        self._buffer = [f for f in self._buffer if f.time >= self._start]
        if self._buffer and self._buffer[0].time >= self._start + self.window_s:
            # a gap in the keyframes: jump to the first window that can hold the next frame
            self._start += math.floor((self._buffer[0].time - self._start) / self.stride_s) * self.stride_s
        return [(start, end, inside)] if inside else []

    def _classify(self, windows: list[tuple[float, float, list[Frame]]]) -> list[Observation]:
        """One observation per window; up to ``windows_per_pass`` windows share a forward pass."""
        if not windows:
            return []
        import torch

        clf: VideoClassifier = self.model
        probs = []
        for b in range(0, len(windows), self.windows_per_pass):
            videos = [[np.array(frames[i].image) for i in sample_indices(len(frames), clf.num_frames)]
                      for _, _, frames in windows[b:b + self.windows_per_pass]]
            inputs = clf.processor(videos, return_tensors="pt")
            with torch.inference_mode():
                logits = clf.model(pixel_values=inputs["pixel_values"].to(self.device)).logits
            probs.append(logits.float().softmax(-1).cpu())
        probs = torch.cat(probs)
        top = probs.topk(min(self.top_k, probs.shape[-1]), dim=-1)
        out = []
        for (start, end, _), values, indices in zip(windows, top.values.tolist(), top.indices.tolist()):
            names = [clf.labels.get(i, str(i)) for i in indices]
            text = ", ".join(f"{n} ({p:.2f})" for n, p in zip(names, values))
            out.append(Observation(stage="action", start=round(start, 3), end=round(end, 3), text=text,
                                   label=names[0], score=round(values[0], 4)))
        return out


def sample_indices(count: int, num_frames: int) -> list[int]:
    """``num_frames`` frame indices spread evenly over ``count`` frames (repeating when too few)."""
    return np.linspace(0, count - 1, num_frames).round().astype(int).tolist()
