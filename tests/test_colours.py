"""Colour names in CIE Lab, the colours stage on synthetic frames, and the ``Looks`` context lines."""
from __future__ import annotations

import numpy as np
import pytest

from perceive.colours import ColourStage, colour_table, srgb_to_lab
from perceive.records import Box, Observation, Perception, VideoInfo
from perceive.video import Frame
from prompting.context import video_context

NAMED = {   # CSS named colours (sRGB) whose basic colour term is not in doubt
    "blue": [(0, 0, 128), (0, 0, 139), (65, 105, 225), (135, 206, 235), (173, 216, 230), (70, 130, 180),
             (0, 0, 255), (30, 144, 255), (25, 25, 112)],
    "red": [(139, 0, 0), (220, 20, 60), (178, 34, 34), (255, 0, 0)],
    "orange": [(255, 165, 0), (255, 140, 0)],
    "yellow": [(255, 215, 0), (255, 255, 0)],
    "green": [(0, 128, 0), (0, 100, 0), (34, 139, 34), (0, 255, 0), (46, 139, 87), (107, 142, 35)],
    "purple": [(128, 0, 128), (75, 0, 130), (148, 0, 211), (102, 51, 153)],
    "pink": [(255, 105, 180), (255, 192, 203), (255, 182, 193), (255, 20, 147)],
    "brown": [(139, 69, 19), (160, 82, 45), (101, 67, 33)],
    "white": [(255, 255, 255), (245, 245, 245), (255, 250, 250)],
    "grey": [(128, 128, 128), (169, 169, 169), (105, 105, 105)],
    "black": [(0, 0, 0), (20, 20, 20)],
}


def test_lab_conversion_matches_the_published_values():
    lab = srgb_to_lab(np.array([[255, 255, 255], [255, 0, 0], [0, 0, 255], [0, 0, 0]], np.uint8))
    expected = [(100.0, 0.0, 0.0), (53.24, 80.09, 67.20), (32.30, 79.19, -107.86), (0.0, 0.0, 0.0)]
    assert np.allclose(lab, expected, atol=0.05)


def test_named_colours_get_their_basic_term():
    table = colour_table()
    wrong = [(term, rgb, table.names[i]) for term, colours in NAMED.items() for rgb in colours
             for i in table.name_index(srgb_to_lab(np.array(rgb, np.uint8)))
             if table.names[i] != term]
    assert wrong == []


def test_the_table_covers_every_colour():
    rng = np.random.default_rng(0)
    table = colour_table()
    names = table.name_index(srgb_to_lab(rng.integers(0, 256, (5000, 3), dtype=np.uint8)))
    # every random pixel falls in a row (no silent default), and every term is used somewhere
    assert len(names) == 5000 and set(names) == set(range(len(table.names)))


def detection(box: tuple, label: str, track: int, t: float) -> Observation:
    b = Box(x1=box[0], y1=box[1], x2=box[2], y2=box[3])
    return Observation(stage="detection", start=t, text=label, label=label, score=0.9, box=b, track_id=track)


def person_frame(t: float, hair, upper, lower, thing, noise: int = 12, seed: int = 0) -> Frame:
    """A grey 200x320 frame: a standing person (60x180 px) with these colours, and a 40x40 thing beside."""
    rng = np.random.default_rng(seed)
    image = np.full((200, 320, 3), 128, np.uint8)
    image[10:25, 40:100] = hair
    image[25:40, 40:100] = (224, 172, 140)        # face
    image[40:100, 40:100] = upper
    image[100:190, 40:100] = lower
    image[80:120, 200:240] = thing
    image = np.clip(image.astype(int) + rng.integers(-noise, noise + 1, image.shape), 0, 255).astype(np.uint8)
    return Frame(t, image)


BOXES = {"person": (40 / 320, 10 / 200, 100 / 320, 190 / 200), "cup": (200 / 320, 80 / 200, 240 / 320, 120 / 200)}


@pytest.mark.parametrize("hair, upper, lower, thing, text, thing_text", [
    ((230, 200, 110), (245, 245, 245), (40, 70, 160), (200, 20, 30),
     "blond hair, white upper body, blue lower body", "red"),
    ((20, 20, 20), (30, 120, 40), (90, 90, 90), (250, 240, 20),
     "black hair, green upper body, grey lower body", "yellow"),
    ((110, 70, 40), (255, 150, 190), (25, 25, 25), (130, 20, 140),
     "brown hair, pink upper body, black lower body", "purple"),
])
def test_the_stage_names_a_persons_colours_and_a_things(hair, upper, lower, thing, text, thing_text):
    stage = ColourStage()
    for t in range(3):
        frame = person_frame(float(t), hair, upper, lower, thing, seed=t)
        earlier = [detection(BOXES[label], label, track, float(t)) for label, track in (("person", 1), ("cup", 2))]
        assert stage.process([frame], earlier) == []
    person, cup = stage.finish()
    assert (person.stage, person.track_id, person.label, person.start, person.end) == ("colour", 1, "person", 0.0, 2.0)
    assert person.text == text and cup.text == thing_text
    assert stage.finish() == []   # forgotten: the next video starts afresh


def test_a_head_and_shoulders_box_has_no_lower_body():
    image = np.full((200, 200, 3), 128, np.uint8)
    image[0:30] = (20, 20, 20)
    image[120:200] = (250, 250, 250)
    stage = ColourStage()
    stage.process([Frame(0.0, image)], [detection((0.0, 0.0, 1.0, 1.0), "person", 4, 0.0)])
    [person] = stage.finish()
    assert person.text == "black hair, white upper body"


def looks_perception() -> Perception:
    video = VideoInfo(path="clip.mp4", duration=10.0, width=320, height=200, fps=25.0, has_audio=False)
    return Perception(video=video, fps_sampled=1.0, observations=[
        Observation(stage="track", start=1.0, end=8.0, text="person #1 appears at 1 s", label="person", track_id=1),
        Observation(stage="colour", start=1.0, end=8.0, text="blond hair, white upper body, blue lower body",
                    label="person", track_id=1),
        Observation(stage="clothing", start=1.0, end=8.0, text="apron", label="apron", score=0.41, track_id=1),
        Observation(stage="clothing", start=1.0, end=8.0, text="suit", label="suit", score=0.12, track_id=1),
        Observation(stage="setting", start=0.0, end=9.0, text="library", label="library", score=0.3),
    ])


def test_context_marks_each_look_by_its_source():
    lines = video_context(looks_perception()).render().splitlines()
    assert ("Looks 0:01-0:08: person #1 (colour analysis): blond hair, white upper body, blue lower body; "
            "(ImageNet) apron 0.41, suit 0.12") in lines
    assert "Scene 0:00-0:09 (ImageNet setting, may be wrong): library 0.30" in lines
    [fact] = [line for line in lines if line.startswith("Fact: No image captions")]
    assert "unknown" not in fact and "Looks lines" in fact


def test_without_looks_the_caption_fact_still_says_they_are_unknown():
    perception = looks_perception()
    perception.observations = [o for o in perception.observations if o.stage == "track"]
    lines = video_context(perception).render().splitlines()
    assert "Fact: No image captions: clothes, colours and setting are unknown" in lines


def test_background_beside_a_person_is_not_taken_for_their_colour():
    frame = person_frame(0.0, (20, 20, 20), (40, 70, 160), (40, 70, 160), (200, 20, 30))
    image = frame.image.copy()
    image[:, :40] = image[:, 100:200] = (30, 150, 40)      # green wall beside the person
    image[10:25, 40:100] = (30, 150, 40)                   # hair hidden by the same green: box top shows wall
    image[0:10, 40:100] = (30, 150, 40)
    image[17:25, 40:100] = (20, 20, 20)                    # the hair, under a band of wall colour
    image[40:100, 40:52] = (30, 150, 40)                   # wall showing inside the box's edge
    stage = ColourStage()
    stage.process([Frame(0.0, image)], [detection(BOXES["person"], "person", 1, 0.0)])
    [person] = stage.finish()
    assert person.text.startswith("black hair, blue upper body")
