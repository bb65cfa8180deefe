"""Fitting the context to the LLM window: budgets, retrieval of the relevant segment, summaries."""
from __future__ import annotations

import pytest

from perceive.models import ModelUnavailable
from perceive.records import Box, Observation, Perception, VideoInfo
from prompting.context import video_context
from prompting.retrieve import Embedder, keyword_scores, mentioned_times
from prompting.tokens import approx_tokens
from prompting.window import Segment, split_segments
from prompting.window import fit_context as fit_typed

NEEDLE = "Second 2712: a red giraffe plays the violin"
SCENES = ["a man walks a dog in a park", "a busy street with cars and buses", "a woman cooks pasta in a kitchen",
          "children play football on a grass field", "a cat sleeps on a grey sofa", "people wait at a train station",
          "a boat sails on a calm lake", "a man repairs a bicycle in a garage", "a crowd watches fireworks at night",
          "a horse runs along a sandy beach", "a chef cuts vegetables on a board", "two men talk at an office desk"]
OBJECTS = ["person", "dog", "car", "bus", "cup", "chair", "boat", "bicycle", "horse", "tv"]


def hour_long() -> Perception:
    """A synthetic one-hour perception: a caption and detections every second, speech, actions, one needle."""
    obs = []
    for s in range(3600):
        scene = SCENES[(s // 300) % len(SCENES)]
        caption = "a red giraffe plays the violin" if s == 2712 else scene
        obs.append(Observation(stage="caption", start=s, text=caption))
        labels = ["giraffe"] if s == 2712 else [OBJECTS[(s // 300) % len(OBJECTS)], "person"][: 1 + s % 2]
        for i, label in enumerate(labels):
            x = 0.2 + 0.3 * ((s + i) % 3)
            obs.append(Observation(stage="detection", start=s, text=label, label=label,
                                   box=Box(x1=x - 0.1, y1=0.4, x2=x + 0.1, y2=0.6)))
        if s % 5 == 0:
            obs.append(Observation(stage="dense_caption", start=s, text=f"the {labels[0]} in the frame",
                                   label=labels[0], position="center"))
        if s % 4 == 0:
            obs.append(Observation(stage="action", start=s, end=s + 4, label="walking", score=0.5,
                                   text=f"{['walking', 'talking', 'cooking'][(s // 600) % 3]} (0.50)"))
        if s % 30 == 3:
            obs.append(Observation(stage="asr", start=s, end=s + 4, text=f"this is remark number {s // 30} today"))
    video = VideoInfo(path="hour.mp4", duration=3600.0, width=1280, height=720, fps=30.0, has_audio=True)
    return Perception(video=video, fps_sampled=1.0, observations=obs)


def build_context(perception: Perception) -> str:
    return video_context(perception).render()


def fit_context(perception: Perception, question: str, budget: int, **kw) -> str:
    """The fitted context's text."""
    return fit_typed(video_context(perception), question, budget, **kw).render()


@pytest.fixture(scope="module")
def hour() -> Perception:
    return hour_long()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    try:
        return Embedder.from_registry(device="cpu")
    except ModelUnavailable as exc:
        pytest.skip(f"embedder unavailable: {exc}")


def test_context_that_fits_is_returned_whole():
    p = hour_long()
    p.observations = [o for o in p.observations if o.start < 20]
    full = build_context(p)
    assert fit_context(p, "anything?", 100_000) == full
    context = video_context(p)
    assert fit_typed(context, "anything?", 100_000) is context


def test_hour_long_keyword_fallback_finds_the_needle(hour):
    full = build_context(hour)
    assert approx_tokens(full) > 20 * 4000
    text = fit_context(hour, "What animal plays the violin?", 4000)
    assert approx_tokens(text) <= 4000
    assert NEEDLE in text
    assert text.startswith("Video file name (not evidence of the content): hour.mp4\n")
    assert "Overview of the whole video: objects seen (seconds): person (2100)" in text
    assert "Summary " in text and "Second 2711:" in text


def test_hour_long_real_embedder_and_tokenizer(hour, embedder):
    count = embedder.count_tokens
    for question in ["What animal plays the violin?", "Which creature performs music on a string instrument?"]:
        text = fit_context(hour, question, 4000, count_tokens=count, embedder=embedder)
        assert count(text) <= 4000
        assert NEEDLE in text, question
    # keywords alone cannot answer the paraphrase: nothing in the context shares its words
    assert NEEDLE not in fit_context(hour, "Which creature performs music on a string instrument?", 4000)


def test_fitted_context_is_typed_and_keeps_the_entries_it_shows(hour):
    fitted = fit_typed(video_context(hour), "What animal plays the violin?", 3000)
    assert fitted.fit is not None and fitted.fit.overview.startswith("Overview of the whole video:")
    needle = [e for e in fitted.entries if e.start == 2712 and e.kind == "second"]
    assert needle and needle[0].line().startswith(NEEDLE) and needle[0].observations
    assert any(e.kind == "summary" for e in fitted.entries)
    assert [e.start for e in fitted.entries] == sorted(e.start for e in fitted.entries)


def test_time_in_question_brings_that_moment(hour):
    assert mentioned_times("what happens at 20:00, second 75 or 1:00:05 and 12 s?") == [1200, 75, 3605, 12]
    text = fit_context(hour, "What happens at 20:00?", 2500)
    assert approx_tokens(text) <= 2500
    assert "\nSecond 1200: " in text and NEEDLE not in text


@pytest.mark.parametrize("budget", [0, 5, 40, 200, 600])
def test_tiny_budgets_are_never_exceeded(hour, budget):
    text = fit_context(hour, "What animal plays the violin?", budget)
    assert approx_tokens(text) <= budget
    if budget >= 600:
        assert NEEDLE in text


def test_segment_summary_is_extractive_and_short(hour):
    lines = video_context(hour).entries
    segments = split_segments(lines, 60.0, [0.0] * len(lines))
    assert len(segments) == 60 and segments[45].start == 2700
    summary = segments[45].summary().line()
    assert summary.startswith("Summary 2700-2760 s: a horse runs along a sandy beach (x59); "
                              "a red giraffe plays the violin; objects: ")
    assert summary.endswith('speech: "this is remark number 90 today this is remark number 91 today"')
    assert approx_tokens(summary) < 120
    assert isinstance(segments[0], Segment) and segments[0].relevance == 0.0


def test_keyword_scores_prefer_rare_terms():
    scores = keyword_scores("violin giraffe", ["a dog", "a giraffe", "a giraffe plays the violin", ""])
    assert scores.argmax() == 2 and scores[0] == 0 and scores[1] > 0


FITTED_GOLDEN = __import__("pathlib").Path(__file__).parent / "golden" / "fitted.txt"
FITS = [("What animal plays the violin?", 4000), ("What happens at 20:00?", 2500),
        ("What animal plays the violin?", 600), ("What animal plays the violin?", 200),
        ("What animal plays the violin?", 40), ("anything?", 5)]


def test_fitted_contexts_match_golden(hour):
    """Window fitting, byte for byte: keyword retrieval, summaries, overview and every budget edge."""
    import os

    text = "".join(f"=== {q} @ {budget}\n{fit_context(hour, q, budget)}\n" for q, budget in FITS)
    if os.environ.get("VIDEOCHAT_UPDATE_GOLDEN"):
        FITTED_GOLDEN.write_text(text)
    assert text == FITTED_GOLDEN.read_text()
