"""Before an answer: a second look at the times the question names (``ask`` uses it).

``"What is written at 0:05?"`` names the second ``[5, 6)``; :func:`look_again`
has :mod:`perceive.relook` decode it again at 4 fps (within the time budget of
:class:`~perceive.relook.Relook`), and puts what OCR and detection found there
into the session's context, marked ``re-look 4 fps`` (:mod:`prompting.relook`).
Times are read by :func:`answer.question.parse_question`, so every wording it
knows (clocks, ``40 seconds``, ``between ... and ...``, ``at the end``) works here.
"""
from __future__ import annotations

from perceive.callbacks import PipelineCallbacks
from perceive.pipeline import PerceptionSettings
from perceive.relook import RELOOK_STAGES, Relook, relook_windows, windows
from answer.question import parse_question, resolve_spans
from prompting.relook import with_relook


def look_again(session, question: str, settings: PerceptionSettings | None = None, relook: Relook | None = None,
               callbacks: PipelineCallbacks | None = None) -> bool:
    """Re-look at the spans ``question`` names and add what was found to ``session.context``; whether it did.

    Nothing happens when the question names no time, when ``relook.seconds`` is 0, or when neither OCR
    nor detection is among ``settings``' stages.
    """
    relook = relook or Relook()
    settings = settings or PerceptionSettings()
    video = session.context.header.video
    spans = resolve_spans(parse_question(question), video.duration)
    if relook.seconds <= 0 or not spans or not any(s in RELOOK_STAGES for s in settings.stages):
        return False
    looked = windows([(s.start, s.end, s.point) for s in spans], video.duration, relook.margin)
    if not looked:
        return False
    extra = relook_windows(video, looked, settings, relook, callbacks)
    session.context = with_relook(session.context, extra, relook.tag)
    return True
