"""``python -m bench.ocr_text``: character error rate of the OCR models on burnt-in English in the shared clips.

The frames are taken with ffmpeg at the times below (640 px wide) from ``../shared/clips``; their text
was typed by a person looking at each frame (not taken from any question file). Each variant reads
every frame with :func:`perceive.ocr.read_frame`; the lines (Chinese subtitle lines left out) are
joined in reading order, lower-cased and compared with the truth, spaces included (a missing space
is an error: "fromchildren" is not "from children"). Variants: every ``--model`` folder (default: the
PP-OCRv6 and PP-OCRv4 packages) without and with the edge padding, and with a word segmenter
(PyPI ``wordninja``, when installed) on run-together Latin words.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from perceive.models import ModelUnavailable, resolve_value
from perceive.ocr import BORDER, load_rapidocr, read_frame

CLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "clips"
FRAMES = [  # (clip, second, the English text on that frame, in reading order)
    ("pllava_1917.mp4", 8, "Sorry, Sarge."),
    ("pllava_1917.mp4", 10, "Pick a man, bring your kit."),
    ("videogrep_manifesto.mp4", 5, "Audible Socialism Manifesto of the Communist Party by Karl Marx & Friedrich Engels"),
    ("videollava_sample_demo_3.mp4", 0, "clideo.com Keep laundry pacs away from children."),
    ("videollava_sample_demo_3.mp4", 3, "3 clideo.com Keep laundry pacs away from children."),
    ("videollava_sample_demo_3.mp4", 5, "1 clideo.com Keep laundry pacs away from children."),
    ("videollava_sample_demo_1.mp4", 4, "clideo.com"),
    ("videollama_silence_girl.mp4", 4, "shutterstock"),
]
MODELS = ("rapidocr:pkg:rapidocr", "rapidocr:pkg:rapidocr-onnxruntime")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def frame(clip: Path, second: float) -> np.ndarray:
    """The keyframe at ``second`` of ``clip``, 640 px wide, RGB."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "frame.png"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-ss", str(second), "-i", str(clip),
                        "-frames:v", "1", "-vf", "scale=640:-2", str(out)], check=True)
        return np.asarray(Image.open(out).convert("RGB"))


def segmented(text: str) -> str:
    """``text`` with run-together Latin words of 6 letters or more split by ``wordninja`` (letters kept as read)."""
    import wordninja

    def split(match: re.Match) -> str:
        word, out, i = match.group(0), [], 0
        if len(word) < 6:
            return word
        for part in wordninja.split(word):
            out.append(word[i:i + len(part)])
            i += len(part)
        return " ".join(out)

    return re.sub(r"[A-Za-z]+", split, text)


def score(engine, images: list[np.ndarray], border: int, post=None) -> tuple[float, float, list[str]]:
    """(character error rate over all frames, seconds per frame, what was read on each frame)."""
    import jiwer

    reads, t0 = [], time.perf_counter()
    for image in images:
        text = " ".join(r.text for r in read_frame(engine, image, border=border) if not _CJK.search(r.text))
        reads.append(" ".join((post(text) if post else text).lower().split()))
    seconds = (time.perf_counter() - t0) / len(images)
    truths = [t.lower() for _, _, t in FRAMES]
    edits = sum(jiwer.cer(t, r) * len(t) if r else len(t) for t, r in zip(truths, reads))
    return edits / sum(len(t) for t in truths), seconds, reads


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="OCR model values to compare (default: PP-OCRv6 and v4)")
    args = parser.parse_args(argv)
    images = [frame(CLIPS / clip, second) for clip, second, _ in FRAMES]
    try:
        import wordninja  # noqa: F401
        posts = [("", None), (" + wordninja", segmented)]
    except ImportError:
        posts = [("", None)]
    print(f"{len(FRAMES)} frames, {sum(len(t) for *_, t in FRAMES)} characters of English")
    for value in args.model or MODELS:
        try:
            engine = load_rapidocr(resolve_value("ocr", value).location)
        except ModelUnavailable as exc:
            print(f"{value}: not available ({exc})")
            continue
        for border in (0, BORDER):
            for name, post in posts if border else posts[:1]:
                cer, seconds, reads = score(engine, images, border, post)
                print(f"{value}  border {border}{name}: CER {cer:.3f}, {seconds:.2f} s per frame")
                for (clip, second, _), read in zip(FRAMES, reads):
                    print(f"    {clip}@{second}: {read!r}")


if __name__ == "__main__":
    main()
