"""The answer pipeline end to end with the real default LLM (SmolLM2-135M) on real clips, offline: an author
question answered from the cover and the speech, a Spanish question about English speech not declined, and a
question naming a sign answered from what is said about it. Each is asked through ``python -m chat.cli ask``
in English and once more in another language."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import clip, require_default_llm

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _needs_llm():
    require_default_llm()
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is absent")


def ask(video: Path, *questions: str) -> list[str]:
    """Each question's answer from ``videochat ask`` (offline, speech and on-screen text, no cleanup)."""
    answers = []
    for question in questions:
        result = subprocess.run([sys.executable, "-m", "chat.cli", "ask", str(video), question, "--offline",
                                 "--stages", "asr,ocr", "--no-cleanup", "--max-tokens", "48"],
                                capture_output=True, text=True, timeout=900, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        answers.append(" ".join(result.stdout.split()))
    return answers


def test_the_author_is_named_from_the_cover_and_the_speech_not_invented(tmp_path):
    cut = tmp_path / "audiobook.mp4"   # the first 20 s: the cover is on screen, the title and authors are read
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip("videogrep_manifesto.mp4")), "-t", "20", "-c", "copy",
                    str(cut)], check=True)
    for answer in ask(cut, "Who wrote the book?", "Wer hat das Buch geschrieben?"):
        assert "Marx" in answer and "Engels" in answer, answer
        years = set(re.findall(r"\b1[0-9]{3}\b", answer))
        assert not years, answer   # no year is said or shown in these 20 s


def test_a_spanish_question_about_english_speech_is_not_falsely_declined():
    video = clip("retalking_face_2.mp4")
    for answer in ask(video, "¿Dónde creció el orador?", "Wo ist der Redner aufgewachsen?"):
        assert "California" in answer, answer
        assert "nada al respecto" not in answer and "nichts" not in answer, answer


def test_a_question_naming_a_sign_is_answered_from_the_speech_about_it():
    video = clip("retalking_face_4.mp4")
    for answer in ask(video, "What does the sign represent?", "Was bedeutet das Schild?"):
        assert "Central Bank" in answer, answer
        assert "No on-screen text was read" not in answer, answer
