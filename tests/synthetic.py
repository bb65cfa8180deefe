"""Test fixtures: synthetic speech (espeak-ng) and long synthetic videos (ffmpeg lavfi), made on the fly."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

SENTENCES = (
    "The committee met on Tuesday to discuss the budget for next year.",
    "Seven orange boats sailed slowly past the old lighthouse.",
    "Please remember to water the plants before you leave.",
    "A quiet library is the best place to read a long novel.",
)


def need_tools() -> None:
    """Skip the calling test unless espeak-ng and ffmpeg are installed."""
    for tool in ("espeak-ng", "ffmpeg"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")


def speech_wav(text: str, path: Path) -> Path:
    """``text`` spoken by espeak-ng into a 16 kHz mono WAV at ``path``."""
    need_tools()
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(raw), "-ac", "1", "-ar", "16000",
                    str(path)], check=True)
    raw.unlink()
    return path


def speech(text: str, folder: Path) -> np.ndarray:
    """``text`` spoken by espeak-ng as 16 kHz mono float32."""
    import wave

    with wave.open(str(speech_wav(text, folder / "speech.wav"))) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768.0


def talk_video(path: Path, seconds: float, folder: Path, pause: float = 20.0) -> Path:
    """A ``seconds`` long video of ffmpeg's test picture (160x90, 2 fps) whose audio says :data:`SENTENCES`
    one after the other, each followed by ``pause`` seconds of silence, over and over."""
    need_tools()
    parts = []
    for i, text in enumerate(SENTENCES):
        parts.append(speech_wav(text, folder / f"s{i}.wav"))
    unit = folder / "unit.wav"
    inputs = [arg for p in parts for arg in ("-i", str(p))]
    pads = "".join(f"[{i}]apad=pad_dur={pause}[p{i}];" for i in range(len(parts)))
    joined = "".join(f"[p{i}]" for i in range(len(parts)))
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *inputs, "-filter_complex",
                    f"{pads}{joined}concat=n={len(parts)}:v=0:a=1[a]", "-map", "[a]", str(unit)], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=2:duration={seconds}",
                    "-stream_loop", "-1", "-i", str(unit), "-t", f"{seconds}", "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "20", "-c:a", "aac", "-b:a", "32k",
                    str(path)], check=True)
    return path
