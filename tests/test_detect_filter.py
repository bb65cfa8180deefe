"""The track filter: per-class minimum scores and a minimum track length, on synthetic tracks."""
from __future__ import annotations

from types import SimpleNamespace

import torch

from bench.detections import Expected, replay, score, table
from perceive.detect import DetectionStage, TrackGate, TrackRule, default_rule
from perceive.records import Box, Observation

RULE = TrackRule(min_track=2, min_score=0.25, class_scores={"toothbrush": 0.7}, once_score=0.5)


def sighting(t: float, label: str, score: float, track: int | None) -> Observation:
    box = Box(x1=0.1, y1=0.1, x2=0.3, y2=0.5)
    return Observation(stage="detection", start=t, text=label, label=label, score=score, box=box,
                       position=box.position(), track_id=track)


def test_a_track_waits_until_it_is_seen_twice_then_comes_with_its_first_box():
    gate = TrackGate(RULE)
    first, second, third = (sighting(t, "person", 0.4, 1) for t in (0.0, 1.0, 2.0))
    assert gate.add(first) == []
    assert gate.add(second) == [first, second]
    assert gate.add(third) == [third]


def test_a_track_seen_once_is_dropped_unless_that_sighting_is_sure():
    kept = replay([sighting(0.0, "dog", 0.45, 1), sighting(3.0, "cat", 0.8, 2)], RULE)
    assert [(o.label, o.track_id) for o in kept] == [("cat", 2)]


def test_a_class_with_its_own_minimum_needs_it_in_two_keyframes():
    frames = [sighting(float(t), label, 0.65, track) for t in range(5) for label, track in
              (("toothbrush", 1), ("person", 2))]
    kept = replay(frames, RULE)
    assert {o.label for o in kept} == {"person"} and len(kept) == 5
    sure = replay([sighting(0.0, "toothbrush", 0.75, 3), sighting(1.0, "toothbrush", 0.72, 3)], RULE)
    assert len(sure) == 2


def test_each_class_of_a_track_is_gated_on_its_own():
    kept = replay([sighting(0.0, "cat", 0.4, 1), sighting(1.0, "bird", 0.6, 1), sighting(2.0, "bird", 0.6, 1)], RULE)
    assert [o.label for o in kept] == ["bird", "bird"]


def test_boxes_without_a_track_count_only_when_sure_at_once():
    kept = replay([sighting(0.0, "cup", 0.3, None), sighting(0.0, "cup", 0.9, None)], RULE)
    assert [o.score for o in kept] == [0.9]


def test_no_filter_keeps_every_box():
    boxes = [sighting(0.0, "toothbrush", 0.3, 1), sighting(1.0, "cup", 0.26, None)]
    assert replay(boxes, TrackRule()) == boxes


def test_the_measured_rule_is_read_from_its_data_file():
    rule = default_rule()
    assert rule.min_track >= 2 and 0 < rule.min_score <= rule.once_score <= 1
    assert rule.class_scores and all(rule.min_score < s < 1 for s in rule.class_scores.values())


class Boxes(SimpleNamespace):
    """The part of an ultralytics ``Boxes`` the stage reads."""

    def __len__(self) -> int:
        return len(self.cls)


def fake_result(boxes: list[tuple[int, float, int]]) -> SimpleNamespace:
    """An ultralytics-like tracking result: (class index, score, track id) per box."""
    return SimpleNamespace(names={0: "person", 1: "toothbrush"}, boxes=Boxes(
        xyxyn=torch.tensor([[0.1, 0.1, 0.3, 0.5]] * len(boxes)), cls=torch.tensor([c for c, _, _ in boxes]),
        conf=torch.tensor([s for _, s, _ in boxes]), id=torch.tensor([i for _, _, i in boxes])))


def test_the_stage_reports_only_the_tracks_that_count():
    stage = DetectionStage(None, "cpu", min_track=2, class_scores={"toothbrush": 0.7})
    out = []
    for t in range(4):
        boxes = [(0, 0.8, 1), (1, 0.6, 2)] + ([(0, 0.3, 5)] if t == 2 else [])
        out += stage._observations(float(t), fake_result(boxes))
        stage.last_time = float(t)
    assert {(o.label, o.track_id) for o in out} == {("person", 1)} and len(out) == 4
    [track] = stage.finish()
    assert track.track_id == 1 and "visible until the end" in track.text


def test_bench_counts_false_and_missed_classes():
    expected = Expected(frozenset({"person", "dog"}), frozenset({"chair"}))
    before = score([sighting(0.0, "person", 0.9, 1), sighting(0.0, "chair", 0.4, 2),
                    sighting(0.0, "toothbrush", 0.6, 3)], expected)
    assert before.false == ("toothbrush",) and before.missed == ("dog",)
    text = table([("clip.mp4", before, before)])
    assert "| clip.mp4 | 1 (toothbrush) | 1 (toothbrush) | 1 (dog) | 1 (dog) |" in text and "**all 1 clips**" in text
