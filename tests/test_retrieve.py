"""Retrieval scores (prompting/retrieve.py): a long run-on sentence is judged by its best passage."""
from __future__ import annotations

import numpy as np
import pytest

from perceive.models import ModelUnavailable
from prompting.retrieve import PASSAGE_WORDS, Embedder, embedding_scores, passages, scored_texts

RUN_ON = ("thanks for watching today's show and before we go I wanted to remind everybody that the full recipe "
          "for tonight's soup is printed on the back of the free booklet at the door and next week we will be "
          "cooking with our friend from Lyon who runs a small bakery near the river")
RUN_ON_2 = ("so after the meeting we drove out past the old mill and the farm where my grandfather used to keep "
            "horses and that is where the festival tickets can be bought every summer from the little kiosk "
            "beside the church and then we went home for dinner")
SHORT = ["The soup tasted wonderful.", "The festival is very popular."]


def test_short_texts_have_no_passages_and_long_ones_are_covered_by_overlapping_ones():
    assert passages("a few words only") == []
    assert passages(" ".join(["w"] * int(1.5 * PASSAGE_WORDS))) == []
    words = RUN_ON.split()
    parts = passages(RUN_ON)
    assert len(parts) >= 3 and all(len(p.split()) <= PASSAGE_WORDS for p in parts)
    covered = [w for p in parts for w in p.split()]
    assert set(covered) == set(words) and parts[-1].split()[-1] == words[-1]
    for a, b in zip(parts, parts[1:]):   # neighbours overlap: a clause cut at one passage's edge is whole in the next
        assert set(a.split()[PASSAGE_WORDS // 2:]) <= set(b.split())
    assert scored_texts([RUN_ON, "x", RUN_ON]) == [RUN_ON, "x", *parts]


class WordCounts:
    """A fake embedder: one dimension per word of a fixed vocabulary, so a passage scores its own words."""

    def __init__(self, vocabulary: list[str]):
        self.vocabulary = vocabulary

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = np.array([[t.lower().split().count(w) for w in self.vocabulary] for t in texts], dtype=float)
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def test_a_long_text_scores_its_best_passage_and_a_short_one_itself():
    embedder = WordCounts(["recipe", "soup", "festival", "tickets", "the"])
    whole = embedder.embed(["recipe soup", RUN_ON])
    scores = embedding_scores("recipe soup", [RUN_ON, SHORT[0], RUN_ON], embedder)
    assert scores[0] == scores[2] > whole[1] @ whole[0]          # the passage with both words, not the whole
    assert scores[1] == pytest.approx(embedder.embed(["recipe soup", SHORT[0]])[1] @ whole[0])


@pytest.fixture(scope="module")
def embedder():
    try:
        return Embedder.from_registry(device="cpu")
    except ModelUnavailable as exc:
        pytest.skip(f"embedder unavailable: {exc}")


@pytest.mark.parametrize("question, answer", [
    ("Where can people find the soup recipe?", 0), ("Where is the recipe written down?", 0),
    ("How do I get the recipe for the soup?", 0), ("Where are festival tickets sold?", 1),
    ("Where can one buy tickets for the festival?", 1)])
def test_the_run_on_sentence_that_answers_outranks_a_short_one_sharing_a_word(embedder, question, answer):
    texts = [RUN_ON, RUN_ON_2, *SHORT]
    scores = embedding_scores(question, texts, embedder)
    assert int(np.argmax(scores)) == answer


@pytest.mark.parametrize("question, said", [
    ("What fruits are mentioned?", "We bought apples, pears and bananas at the market."),
    ("What sports does he like?", "I love playing tennis and football on weekends."),
    ("What is the weather forecast?", "Tomorrow it will rain in the north."),
    ("Where is the get-together?", "We will gather in the town hall at noon.")])
def test_a_close_paraphrase_is_quoted_rather_than_declined(embedder, question, said):
    """The speech shares no word with the question, but its meaning is close: an invented answer gives way to
    it, quoted with its time, not to "cannot tell"."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from chat.llm import ChatLLM
    from chat.session import ChatSession
    from perceive.records import ModelInfo, Observation, Perception, VideoInfo
    from prompting.context import video_context

    video = VideoInfo(path="v.mp4", duration=30.0, width=64, height=64, fps=25, has_audio=True)
    obs = [Observation(stage="asr", start=2, end=6, text=said, language="en"),
           Observation(stage="asr", start=12, end=15, text="Press the red button to start.", language="en")]
    info = ModelInfo(role="asr", name="asr", source="path", weights="real")
    context = video_context(Perception(video=video, fps_sampled=1.0, models=[info], observations=obs))
    invented = "The video is about a famous chef who cooks dinner for the president in Paris."
    llm = ChatLLM(GenericFakeChatModel(messages=iter([AIMessage(invented)])),
                  ModelInfo(role="llm", name="scripted", source="path", weights="random"), 2048, 40,
                  lambda text: len(text.split()))
    session = ChatSession(llm, context, embedder=embedder, evidence=True, cite=False)
    answer = session.ask(question)
    assert session.last_answer.source == "quote" and said in answer and "cannot tell" not in answer, answer
