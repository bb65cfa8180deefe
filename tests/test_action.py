"""Action stage: a tiny random VideoMAE, loaded by path through the registry, on real keyframes."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import clip
from perceive.action import ActionStage, sample_indices
from perceive.testing.tiny import tiny_action as build_tiny
from perceive.models import resolve_value
from perceive.video import Frame, iter_keyframes, probe


@pytest.fixture(scope="module")
def tiny_action(tmp_path_factory):
    return resolve_value("action", str(build_tiny(tmp_path_factory.mktemp("action"))))


def run(stage: ActionStage, batches):
    out = []
    for batch in batches:
        out += stage.process(batch, [])
    return out + stage.finish()


def test_tiny_model_is_marked_random(tiny_action):
    assert tiny_action.weights == "random"
    assert tiny_action.source == "path"
    assert tiny_action.info().weights == "random"


def test_windows_cover_real_clip_in_order(tiny_action):
    info = probe(clip("mmaction2_demo.mp4"))
    stage = ActionStage(tiny_action, window_s=4, top_k=3)
    obs = run(stage, iter_keyframes(info, fps=2, batch_size=3, max_side=160))
    labels = set(stage.model.labels.values())
    # 10 s at 2 fps: keyframes 0.0 .. 9.5 -> windows [0,4) [4,8) [8,9.5]
    assert [(o.start, o.end) for o in obs] == [(0.0, 4.0), (4.0, 8.0), (8.0, 9.5)]
    for o in obs:
        assert o.stage == "action"
        assert o.label in labels
        assert 0.0 <= o.score <= 1.0
        assert 0.0 <= o.start <= o.end <= info.duration
        parts = o.text.split(", ")
        assert len(parts) == 3 and parts[0] == f"{o.label} ({o.score:.2f})"
        probs = [float(p.rsplit("(", 1)[1].rstrip(")")) for p in parts]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.01


def test_batch_boundaries_do_not_change_windows(tiny_action):
    info = probe(clip("mmaction2_demo.mp4"))
    frames = [f for batch in iter_keyframes(info, fps=2, batch_size=8, max_side=160) for f in batch]
    one_batch = run(ActionStage(tiny_action, window_s=3, stride_s=2), [frames])
    many = run(ActionStage(tiny_action, window_s=3, stride_s=2, windows_per_pass=1),
               [frames[i:i + 2] for i in range(0, len(frames), 2)])
    assert len(one_batch) == len(many) == 5
    for a, b in zip(one_batch, many):  # same windows, same labels, scores equal up to batching noise
        assert (a.start, a.end, a.label) == (b.start, b.end, b.label)
        assert a.score == pytest.approx(b.score, abs=1e-4)
    # overlapping windows every 2 s, the last one ends at the last keyframe
    assert [o.start for o in many] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert [o.end for o in many] == [3.0, 5.0, 7.0, 9.0, 9.5]


def test_buffer_holds_only_the_current_window(tiny_action):
    stage = ActionStage(tiny_action, window_s=2)
    frames = [Frame(t / 4, np.full((48, 64, 3), t * 10 % 255, np.uint8)) for t in range(40)]  # 10 s at 4 fps
    emitted = []
    for i in range(0, len(frames), 5):
        emitted += stage.process(frames[i:i + 5], [])
        assert all(f.time >= stage._start for f in stage._buffer)
        assert len(stage._buffer) <= 8  # at most one 2 s window of 4 fps frames
    emitted += stage.finish()
    assert [o.start for o in emitted] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert stage._buffer == []


def test_gap_in_keyframes_skips_empty_windows(tiny_action):
    frames = [Frame(t, np.zeros((32, 32, 3), np.uint8)) for t in (0.0, 1.0, 9.0, 10.0)]
    obs = run(ActionStage(tiny_action, window_s=2), [frames])
    assert [(o.start, o.end) for o in obs] == [(0.0, 2.0), (8.0, 10.0), (10.0, 10.0)]


def test_sample_indices_spread_and_repeat():
    assert sample_indices(8, 4) == [0, 2, 5, 7]
    assert sample_indices(2, 4) == [0, 0, 1, 1]
    assert sample_indices(1, 3) == [0, 0, 0]
