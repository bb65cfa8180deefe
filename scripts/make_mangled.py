"""Write a corpus of mangled videos, made from samples/*.mp4 and ffmpeg test sources, into a folder.

    python scripts/make_mangled.py OUT_DIR [--long]

Every file is a way a real input can be broken: truncated at several offsets, bytes
zeroed in the middle, a wrong extension, no streams or streams without data, an
empty file, audio only, a PNG or random bytes named .mp4, a name that is not UTF-8.
``--long`` adds the slow ones: a 7680x4320 video and a 3-hour video (one frame per
10 minutes, so ffmpeg writes 18 frames, not 3 hours of them). Each file comes with
what videochat must do with it: give a result (``ok``), one ``error:`` line
(``error``), or either; ``says`` is text the result or the error must contain.
Never commit the generated files.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
NON_UTF8_NAME = b"clip-\xff\xfe.mp4"
"""A file name that is not valid UTF-8 (Linux names are bytes)."""


@dataclass(frozen=True)
class Mangled:
    """One file of the corpus and what videochat must make of it."""

    path: Path
    what: str
    expect: str = "ok"   # ok | error | either
    says: str = ""       # text the output (result or error line) must contain
    long: bool = False

    @property
    def name(self) -> str:
        """The file name, printable (U+FFFD for bytes that are not UTF-8)."""
        return os.fsencode(self.path.name).decode("utf-8", "replace")


def ffmpeg(*args: str | Path) -> None:
    """Run ffmpeg quietly; raise if it fails."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *map(str, args)], check=True, timeout=600)


def top_level_atoms(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of the top-level boxes of an MP4 file."""
    atoms, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        if size == 1:
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
        end = len(data) if size == 0 else pos + size
        atoms.append((kind, pos, end))
        if end <= pos:
            break
        pos = end
    return atoms


def make_corpus(folder: str | Path, long: bool = False) -> list[Mangled]:
    """Write the mangled files into ``folder`` (created); the slow ones only with ``long``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    talk, silent = SAMPLES / "talk.mp4", SAMPLES / "silent.mp4"
    data = talk.read_bytes()
    files: list[Mangled] = []

    def write(name: str | bytes, content: bytes, what: str, expect: str = "ok", says: str = "") -> None:
        path = out / os.fsdecode(name)  # bytes names become surrogate escapes, as os.listdir gives them
        path.write_bytes(content)
        files.append(Mangled(path, what, expect, says))

    # talk.mp4 keeps its index (moov) at the end: a cut file has no index at all.
    for frac in (0.01, 0.5, 0.9):
        write(f"cut-{int(frac * 100)}pct.mp4", data[:int(len(data) * frac)],
              f"talk.mp4 cut to its first {frac:.0%}", "error", "not a readable video")
    # With the index first (faststart) a cut file declares 8 s and decodes part of it.
    fast = out / ".talk-faststart.mp4"
    ffmpeg("-i", talk, "-c", "copy", "-movflags", "+faststart", fast)
    fdata = fast.read_bytes()
    fast.unlink()
    moov_end = next(end for kind, _, end in top_level_atoms(fdata) if kind == b"moov")
    mdat = next(start for kind, start, _ in top_level_atoms(fdata) if kind == b"mdat")
    write("faststart-cut-30pct.mp4", fdata[:mdat + int((len(fdata) - mdat) * 0.3)],
          "faststart talk.mp4 cut at 30% of its media data", "ok", "the file looks truncated")
    write("faststart-cut-90pct.mp4", fdata[:mdat + int((len(fdata) - mdat) * 0.9)],
          "faststart talk.mp4 cut at 90% of its media data", "ok")
    write("header-only.mp4", fdata[:moov_end], "streams declared (8 s) but no media data at all", "ok",
          "decoded 0.0 s of 8.0 s: the file looks truncated")
    zeroed = bytearray(data)
    a, b = int(len(data) * 0.4), int(len(data) * 0.6)
    zeroed[a:b] = bytes(b - a)
    write("zeroed-middle.mp4", bytes(zeroed), "talk.mp4 with bytes 40-60% zeroed", "ok")
    write("talk.avi", data, "an MP4 named .avi (wrong extension)", "ok")
    mkv = out / "mkv-named.mp4"
    ffmpeg("-i", talk, "-c", "copy", "-f", "matroska", mkv)
    files.append(Mangled(mkv, "a Matroska file named .mp4", "ok"))
    write("empty.mp4", b"", "an empty file (0 bytes)", "error", "empty file")
    nostreams = out / "no-streams.mp4"
    ffmpeg("-i", talk, "-c", "copy", "-frames:v", "0", "-frames:a", "0", nostreams)
    files.append(Mangled(nostreams, "an MP4 container with no streams", "error", "not a readable video"))
    audio = out / "audio-only.mp4"
    ffmpeg("-i", talk, "-vn", "-c:a", "copy", audio)
    files.append(Mangled(audio, "the audio track of talk.mp4 alone, named .mp4", "error", "has no video stream"))
    png = out / "picture.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=1", "-frames:v", "1", "-f", "image2", "-c:v", "png", png)
    files.append(Mangled(png, "a PNG image renamed .mp4", "either"))
    write("noise.mp4", random.Random(0).randbytes(100_000), "100 kB of random bytes named .mp4", "error")
    write("text.mp4", b"not a video\n" * 100, "a text file named .mp4", "error", "not a readable video")
    write(NON_UTF8_NAME, silent.read_bytes(), "silent.mp4 under a name that is not UTF-8", "ok", "clip-\ufffd\ufffd.mp4")

    if long:
        big = out / "frame-8k.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=7680x4320:rate=1:duration=3", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", big)
        files.append(Mangled(big, "3 s of 7680x4320 frames (1 fps)", "ok", long=True))
        hours = out / "three-hours.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=1/600:duration=10800", "-c:v", "libx264",
               "-pix_fmt", "yuv420p", "-an", hours)
        files.append(Mangled(hours, "3 h of video, one frame per 10 min, no audio", "ok", long=True))
        hours_audio = out / "three-hours-silence.mp4"
        ffmpeg("-i", hours, "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "10800", "-c:v", "copy",
               "-c:a", "aac", "-b:a", "16k", hours_audio)
        files.append(Mangled(hours_audio, "the same 3 h with a silent audio track", "ok", long=True))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the files into")
    parser.add_argument("--long", action="store_true", help="also the 8K and the 3-hour videos (slower)")
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        print("error: ffmpeg is not installed", file=sys.stderr)
        return 1
    for item in make_corpus(args.out, args.long):
        print(f"{item.name}\t{item.path.stat().st_size}\t{item.expect}\t{item.what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
