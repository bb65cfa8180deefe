"""Citing the time of the context line that supports an answer."""
from __future__ import annotations

from prompting.cite import cite, supporting_line

CONTEXT = """Video: face.mp4
Timeline (times in seconds from the start; speech spans in m:ss):
Second 0: a man in a navy suit; objects: 1 person (center).
Speech 0:00-0:03: "My biggest weakness is asking for help when I need it."
Second 4: a red car drives left; objects: 1 car (left).
Speech 0:03-0:06: "I'd like to do better at that."
Action 4-8 s: driving car (0.71)"""


def test_answer_gets_time_of_supporting_line():
    assert cite("His biggest weakness is asking for help.", CONTEXT) == " (at 0:00)"
    assert cite("A red car drives to the left.", CONTEXT) == " (at 0:04)"
    assert supporting_line("He would like to do better", CONTEXT).start == 3.0


def test_no_citation_without_support_or_when_time_given():
    assert cite("The video does not show that.", CONTEXT) == ""
    assert cite("A giraffe plays the violin.", CONTEXT) == ""
    assert cite("At 0:04 a red car drives left.", CONTEXT) == ""
    assert cite("", CONTEXT) == ""
