"""Citing the time of the context entry that supports an answer."""
from __future__ import annotations

from perceive.records import Box, Observation, Perception, VideoInfo
from prompting.cite import cite, supporting_line
from prompting.context import video_context


def face_context():
    """A face-to-camera clip: a man talking, then a red car."""
    left, center = Box(x1=0.0, y1=0.4, x2=0.2, y2=0.6), Box(x1=0.4, y1=0.4, x2=0.6, y2=0.6)
    observations = [
        Observation(stage="caption", start=0, text="a man in a navy suit"),
        Observation(stage="detection", start=0, text="person", label="person", box=center),
        Observation(stage="asr", start=0, end=3, text="My biggest weakness is asking for help when I need it."),
        Observation(stage="caption", start=4, text="a red car drives left"),
        Observation(stage="detection", start=4, text="car", label="car", box=left),
        Observation(stage="asr", start=3, end=6, text="I'd like to do better at that."),
        Observation(stage="action", start=4, end=8, text="driving car (0.71)", label="driving car", score=0.71),
    ]
    video = VideoInfo(path="face.mp4", duration=8.0, width=640, height=360, fps=25.0, has_audio=True)
    return video_context(Perception(video=video, fps_sampled=1.0, observations=observations))


CONTEXT = face_context()


def test_the_context_is_the_one_cited():
    assert [e.line() for e in CONTEXT.entries] == [
        "Second 0: a man in a navy suit; objects: 1 person (center).",
        'Speech 0:00-0:03: "My biggest weakness is asking for help when I need it."',
        'Speech 0:03-0:06: "I\'d like to do better at that."',
        "Second 4: a red car drives left; objects: 1 car (left).",
        "Action 4-8 s: driving car (0.71)"]


def test_answer_gets_time_of_supporting_line():
    assert cite("His biggest weakness is asking for help.", CONTEXT) == " (at 0:00)"
    assert cite("A red car drives to the left.", CONTEXT) == " (at 0:04)"
    assert supporting_line("He would like to do better", CONTEXT).start == 3.0


def test_no_citation_without_support_or_when_time_given():
    assert cite("The video does not show that.", CONTEXT) == ""
    assert cite("A giraffe plays the violin.", CONTEXT) == ""
    assert cite("At 0:04 a red car drives left.", CONTEXT) == ""
    assert cite("", CONTEXT) == ""
