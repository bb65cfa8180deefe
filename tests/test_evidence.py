"""Evidence first: question parsing, evidence selection, facts-made drafts, answer tidying, the file name."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from answer.stream import AnswerStream, strip_preamble
from perceive.records import Box, ModelInfo, Observation, Perception, VideoInfo
from prompting.context import Entry, VideoContext, quote, video_context
from answer.checks import borrows_file_name, keeps_facts
from answer.facts import silences
from answer.pipeline import gather as select_evidence
from answer.question import parse_question, resolve_spans

CLIPS = Path(__file__).resolve().parents[1].parent / "shared" / "clips"
ASR = ModelInfo(role="asr", name="tiny.en", source="package", weights="real", backend="faster-whisper")
DET = ModelInfo(role="detector", name="yolo", source="path", weights="real", backend="ultralytics")


@pytest.mark.parametrize("question, spans", [
    ("What is said at 40 seconds?", [(40, 41)]),
    ("What happens at 1:05?", [(65, 66)]),
    ("What happens at one minute five seconds?", [(65, 66)]),
    ("What is said between 18 s and 39 s?", [(18, 39)]),
    ("Who talks between 18 and 39 seconds?", [(18, 39)]),
    ("What happens from 0:10 to 0:20?", [(10, 20)]),
    ("What happens in the first minute?", [(0, 60)]),
    ("What happens in the last 30 seconds?", [(90, 120)]),
    ("What is shown after 1:30?", [(90, 120)]),
    ("What happens before 10 s?", [(0, 10)]),
    ("What is on screen at second 12?", [(12, 13)]),
    ("What is the man wearing?", []),
    ("What was the room used for?", []),            # "was" holds no "a s" (one second)
    ("What has he got in his glass?", []),
    ("What is said at 40s?", [(40, 41)]),
])
def test_times_named_in_a_question(question, spans):
    got = resolve_spans(parse_question(question), 120.0)
    assert [(s.start, s.end) for s in got] == spans


@pytest.mark.parametrize("question, count, said, written, silent", [
    ("How many people are in the room?", "people", False, False, False),
    ("How many dogs are visible?", "dogs", False, False, False),
    ("What does the teacher say about homework?", None, True, False, False),
    ("What is written on the banner?", None, False, True, False),
    ("When is nobody speaking?", None, True, False, True),
    ("Which colour is the car?", None, False, False, False),
])
def test_what_a_question_asks_for(question, count, said, written, silent):
    q = parse_question(question)
    assert (q.count_of, q.wants("said"), q.wants("written"), q.wants("silence")) == (count, said, written, silent)


def lecture() -> VideoContext:
    """A 60 s video: speech at 2-8 s and 30-36 s, a sign with text at 20-24 s, two people at 40-44 s."""
    video = VideoInfo(path="/v/cooking_show_final.mp4", duration=60.0, width=640, height=360, fps=25, has_audio=True)
    obs = [Observation(stage="asr", start=2, end=8, text="Welcome to the physics lecture on magnets."),
           Observation(stage="asr", start=30, end=36, text="Magnets attract iron but not copper.")]
    for t in range(40, 45):
        obs += [Observation(stage="detection", start=t, text="person", label="person",
                            box=Box(x1=x, y1=0.2, x2=x + 0.2, y2=0.8)) for x in (0.1, 0.6)]
    obs.append(Observation(stage="detection", start=50, text="person", label="person",
                           box=Box(x1=0.4, y1=0.2, x2=0.6, y2=0.8)))
    context = video_context(Perception(video=video, fps_sampled=1.0, observations=obs, models=[ASR, DET]))
    # on-screen text entries (from an OCR stage) plug in as entries of kind "text"
    sign = Observation.model_construct(stage="ocr", start=20, end=24, text="ROOM 101")   # the OCR stage is not on main yet
    context.entries.append(Entry(20, 24, "text", quote(sign.text), (sign,), search=quote(sign.text)))
    return context


def test_speech_at_a_named_time_is_the_draft():
    evidence = select_evidence(lecture(), "What is said at 0:32?")
    assert "Magnets attract iron but not copper." in evidence.draft
    assert [e.kind for e in evidence.entries][:1] == ["speech"] and "welcome" not in evidence.draft.lower()


def test_nothing_said_at_a_silent_time():
    evidence = select_evidence(lecture(), "What does she say at 15 seconds?")
    assert evidence.draft.startswith("Nothing is said at 0:15")


def test_silences_are_the_gaps_between_speech():
    context = lecture()
    assert silences(context.entries, 60.0) == [(0.0, 2.0), (8.0, 30.0), (36.0, 60.0)]
    assert "0:08-0:30" in select_evidence(context, "When is it quiet?").draft


def test_count_comes_from_the_detections():
    evidence = select_evidence(lecture(), "How many people appear?")
    assert "Up to 2 persons at once" in evidence.draft and "2 separate appearances" in evidence.draft
    assert "Up to 1 person at once" in select_evidence(lecture(), "How many people are there after 0:48?").draft


def test_on_screen_text_answers_what_is_written():
    evidence = select_evidence(lecture(), "What is written on the sign?")
    assert '"ROOM 101"' in evidence.draft and any(e.kind == "text" for e in evidence.entries)


def test_retrieval_picks_the_entry_about_the_question_and_not_the_file_name():
    evidence = select_evidence(lecture(), "What do magnets attract?")
    assert [e.said for e in evidence.entries] == ["Magnets attract iron but not copper."]
    assert "cooking" not in evidence.render()
    # the question restates the spoken sentence (magnets, attract): the sentence, quoted, is the draft answer
    assert evidence.draft == 'At 0:30-0:36 the speech says: "Magnets attract iron but not copper."'


def test_nothing_bears_on_an_unrelated_question():
    assert select_evidence(lecture(), "What colour is the sky?").empty


def test_a_question_about_the_whole_video_reads_entries_spread_over_it():
    """"What is this video about?" has no word but stop words: not "nothing bears", but an overview."""
    evidence = select_evidence(lecture(), "What is this video about?")
    assert not evidence.empty
    said = [e.said for e in evidence.entries if e.kind in ("speech", "text")]
    assert said == ["Welcome to the physics lecture on magnets.", "Magnets attract iron but not copper.",
                    "ROOM 101"] and len(evidence.entries) <= 6          # all that is said and written first ...
    assert max(e.start for e in evidence.entries) >= 40                 # ... then the rest, to the end


def test_header_facts_of_other_stages_plug_in_by_kind():
    from dataclasses import dataclass, replace

    @dataclass(frozen=True)
    class ShotFact:
        kind: str
        text: str

    context = lecture()
    context.header = replace(context.header)
    object.__setattr__(context.header, "facts", (ShotFact("shots", "Shots: 3 shots, cuts at about 12, 40 s"),))
    evidence = select_evidence(context, "How many shots are there?")
    assert any(f.text.startswith("Shots: 3 shots") for f in evidence.facts)


def test_draft_is_kept_only_when_the_answer_keeps_its_facts():
    draft = 'At 0:30-0:36 the speech says: "Magnets attract iron but not copper."'
    assert keeps_facts("She says that magnets attract iron, not copper.", draft)
    assert not keeps_facts("The video is a classic example of an immersive experience.", draft)
    assert not keeps_facts("Up to 3 persons", "Up to 2 persons at once")


def test_file_name_words_are_caught_even_misspelled():
    header = lecture().header
    assert borrows_file_name("This is a cookin show.", header, "Speech: magnets", "What is it?") == {"cooking"}
    assert borrows_file_name("A lecture on magnets.", header, "Speech: magnets", "What is it?") == set()
    assert borrows_file_name("A cooking show.", header, "Speech: we are cooking", "What is it?") == set()
    assert lecture().render().startswith("Video file name (not evidence of the content): cooking_show_final.mp4")


def test_preamble_and_rambling_are_cut():
    assert strip_preamble("Based on the video context, the man waves.") == "The man waves."
    assert strip_preamble("According to the evidence: he sings.") == "He sings."
    assert strip_preamble("The video context is a classic example of how to cook. Add cocoa to a jug.") \
        == "Add cocoa to a jug."
    shown = []
    stream = AnswerStream(shown.append)
    for piece in ["The cocoa goes", " into a little jug. It is", " brown. It is brown. It is brown."]:
        if not stream.feed(piece):
            break
    assert stream.close() == "The cocoa goes into a little jug. It is brown." == "".join(shown)
    stream = AnswerStream(shown.append)
    stream.feed("In London.\n\nQuestion: what else")
    assert stream.close() == "In London."


def test_an_answer_about_the_notes_gives_way_to_the_best_entry():
    from answer.checks import is_meta
    from answer.records import plain_answer

    evidence = select_evidence(lecture(), "What do magnets attract?")
    text = evidence.content()
    assert is_meta("The answer can only be determined by the notes from the video.", text)
    assert is_meta("It can only be determined by the notes, which are based on audio and text analysis of speech.",
                   text)
    assert not is_meta("Magnets attract iron but not copper.", text) and not is_meta("In London.", text)
    assert plain_answer(evidence.best) == 'At 0:30-0:36 the speech says: "Magnets attract iron but not copper."'


def test_text_shown_for_most_of_the_video_goes_with_every_question():
    """A title or cover on screen for at least half the video is a fact for any question; a short caption is not."""
    from perceive.records import ModelInfo, Observation, Perception, VideoInfo
    from prompting.context import video_context
    from answer.pipeline import gather as select_evidence

    observations = [Observation(stage="ocr", start=0.0, end=80.0, text="Treasure Island by Robert Louis Stevenson",
                                label="center"),
                    Observation(stage="ocr", start=30.0, end=32.0, text="Chapter One", label="top center")]
    observations += [Observation(stage="asr", start=t, end=t + 3.0, text=f"Sentence number {t} of the reading.")
                     for t in range(0, 80, 5)]
    models = [ModelInfo(role=r, name="m", source="path", weights="real") for r in ("asr", "ocr")]
    context = video_context(Perception(video=VideoInfo(path="v.mp4", duration=80.0, width=320, height=180, fps=25,
                                                       has_audio=True), fps_sampled=1.0, models=models,
                                       observations=observations))
    facts = [f.text for f in select_evidence(context, "Which novel is this?").facts]
    assert facts == ['On screen for most of the video (0:00-1:20): "Treasure Island by Robert Louis Stevenson"']


@pytest.mark.parametrize("question, shots", [
    ("Is it all filmed in a single take?", True), ("How often does the camera angle change?", True),
    ("Was the video edited?", True), ("Are there any cuts?", True), ("What colour is the shirt?", False),
])
def test_questions_about_the_shots(question, shots):
    assert parse_question(question).wants("shots") is shots


def test_the_shots_fact_is_the_draft_for_a_question_about_cuts():
    video = VideoInfo(path="v.mp4", duration=10.0, width=320, height=180, fps=25, has_audio=False)
    cut = [Observation(stage="shot", start=a, end=b, text="shot") for a, b in ((0, 1.2), (1.2, 3.0), (3.0, 10.0))]
    context = video_context(Perception(video=video, fps_sampled=1.0, observations=cut, models=[DET]))
    evidence = select_evidence(context, "Are there any cuts?")
    assert evidence.draft == "Yes. Shots: 3 shots, cuts at about 1.2, 3 s."    # a yes/no question on cuts: yes first
    assert select_evidence(context, "Gibt es Schnitte im Video?").draft == "Ja. Shots: 3 shots, cuts at about 1.2, 3 s."
    assert select_evidence(context, "How many shots are there?").draft == "Shots: 3 shots, cuts at about 1.2, 3 s."
    one = [Observation(stage="shot", start=0, end=10.0, text="shot")]
    still = video_context(Perception(video=video, fps_sampled=1.0, observations=one, models=[DET]))
    assert select_evidence(still, "Was it edited?").draft == "No. Shots: one continuous shot (no cut)."
    assert select_evidence(still, "¿Hay cortes?").draft == "No. Shots: one continuous shot (no cut)."
    plain = video_context(Perception(video=video, fps_sampled=1.0, observations=[], models=[DET]))
    assert evidence.draft and select_evidence(plain, "Any cuts?").draft is None
    assert "Shot changes were not analysed" in select_evidence(plain, "Any cuts?").render()


UNBROKEN = [("Was the whole clip filmed in a single take?", "Yes.", "No."),
            ("Is the footage uncut?", "Yes.", "No."), ("Was it recorded in one go, without any cuts?", "Yes.", "No."),
            ("Is the video one unbroken shot?", "Yes.", "No."),
            ("Wurde das Video ohne Schnitt in einer Einstellung gedreht?", "Ja.", "Nein."),
            ("Ist das Video ungeschnitten?", "Ja.", "Nein."),
            ("Est-ce un plan-séquence ?", "Oui.", "Non."), ("La vidéo est-elle filmée sans coupe ?", "Oui.", "Non."),
            ("¿Está grabado en una sola toma?", "Sí.", "No."), ("¿Es un plano secuencia sin cortes?", "Sí.", "No."),
            ("这个视频是一镜到底的吗？", "是。", "不是。"), ("这是一个连续的镜头吗？", "是。", "不是。"),
            ("この動画はワンカットですか？", "はい。", "いいえ。")]


@pytest.mark.parametrize("question, yes, no", UNBROKEN)
def test_a_question_whether_it_is_one_unbroken_take_is_answered_yes_only_without_cuts(question, yes, no):
    """The opposite polarity of "Are there cuts?": "one take", "uncut", "ohne Schnitt", "一镜到底" ask for none."""
    video = VideoInfo(path="v.mp4", duration=10.0, width=320, height=180, fps=25, has_audio=False)
    cut = [Observation(stage="shot", start=a, end=b, text="shot") for a, b in ((0, 1.2), (1.2, 3.0), (3.0, 10.0))]
    one = [Observation(stage="shot", start=0, end=10.0, text="shot")]
    asked = parse_question(question)
    assert asked.yes_no and asked.wants("shots") and asked.wants("one_shot")
    for observations, lead in ((cut, no), (one, yes)):
        context = video_context(Perception(video=video, fps_sampled=1.0, observations=observations, models=[DET]))
        draft = select_evidence(context, question).draft
        assert draft.startswith(lead + " Shots: "), draft


@pytest.mark.parametrize("question", ["Is the speech continuous?", "Did he speak in one go?",
                                      "Ist die Musik durchgehend laut?"])
def test_continuity_words_without_a_shot_word_ask_nothing_about_cuts(question):
    video = VideoInfo(path="v.mp4", duration=10.0, width=320, height=180, fps=25, has_audio=False)
    one = [Observation(stage="shot", start=0, end=10.0, text="shot")]
    context = video_context(Perception(video=video, fps_sampled=1.0, observations=one, models=[DET]))
    assert not parse_question(question).wants("shots")
    assert not (select_evidence(context, question).draft or "").startswith(("Yes", "No", "Ja", "Nein"))


def test_what_is_read_aloud_is_the_speech_that_reads_on_screen_text():
    """"Which book is read aloud?": the sentence that reads the on-screen title out, with that text."""
    observations = [Observation(stage="ocr", start=0.0, end=60.0, text="Treasure Island Robert Louis Stevenson",
                                label="center"),
                    Observation(stage="asr", start=2.0, end=5.0, text="This recording is in the public domain."),
                    Observation(stage="asr", start=6.0, end=9.0, text="Treasure Island, by Robert Louis Stevenson."),
                    Observation(stage="asr", start=10.0, end=14.0, text="Squire Trelawney asked me to write it down.")]
    models = [ASR, ModelInfo(role="ocr", name="m", source="path", weights="real")]
    context = video_context(Perception(video=VideoInfo(path="v.mp4", duration=60.0, width=320, height=180, fps=25,
                                                       has_audio=True), fps_sampled=1.0, models=models,
                                       observations=observations))
    evidence = select_evidence(context, "Which book does the narrator read out?")
    assert evidence.draft.startswith('At 0:06-0:09 the speech reads out the on-screen text: "Treasure Island, by '
                                     'Robert Louis Stevenson." (on screen 0:00-1:00: "Treasure Island Robert Louis '
                                     'Stevenson").'), evidence.draft
    assert evidence.quoting
    untitled = video_context(Perception(video=context.header.video, fps_sampled=1.0, models=models,
                                        observations=[o for o in observations if o.stage == "asr"]))
    assert "reads out" not in (select_evidence(untitled, "Which book does the narrator read out?").draft or "")


def test_a_question_restating_one_spoken_sentence_gets_it_as_draft():
    """Two or more of the question's words, half of them at least, in one sentence: that sentence, quoted."""
    evidence = select_evidence(lecture(), "Which metals do magnets attract?")
    assert evidence.draft == 'At 0:30-0:36 the speech says: "Magnets attract iron but not copper."'
    assert evidence.quoting
    assert select_evidence(lecture(), "Why are magnets useful in kitchens?").draft is None   # one word: no draft
    assert select_evidence(lecture(), "Do magnets attract iron?").draft is None   # yes/no: the LLM says which


def test_what_is_said_about_a_topic_is_quoted_from_the_best_matching_speech():
    """No time named: the speech entry sharing the question's topic words is the fact and the draft."""
    evidence = select_evidence(lecture(), "What does the teacher say about copper?")
    assert evidence.draft == 'At 0:30-0:36 the speech says: "Magnets attract iron but not copper."'
    assert any(f.kind == "speech" and "copper" in f.text for f in evidence.facts)
    assert select_evidence(lecture(), "What does he say about dinner?").draft is None   # no speech on that topic


def test_a_yes_no_draft_replaces_an_answer_with_the_other_yes_or_no():
    from answer.checks import keeps_facts

    draft = "No. Shots: 3 shots, cuts at about 1.2, 3 s."
    assert keeps_facts("No, there are 3 shots, with cuts at about 1.2 and 3 s.", draft)
    assert not keeps_facts("Yes, there are 3 shots, with cuts at about 1.2 and 3 s.", draft)
    assert keeps_facts("Yes, it says 3 shots.", "Said at 0:03: \"3 shots\".") is True   # not a yes/no draft


def test_strays_counts_the_answer_words_the_given_text_does_not_hold():
    from answer.checks import strays

    known = 'Speech 1:13-1:18: "communists of various nationalities have assembled in London"'
    assert not strays("They assembled in London.", known, "Where did communists assemble?")
    assert strays("Communism was practiced and supported by a variety of nations.", known,
                  "Where did communists assemble?")
    assert not strays("In Paris.", known)   # one unsupported word is below min_words


class Preferring:
    """A fake embedder: the question and one chosen sentence point the same way, every other text elsewhere."""

    def __init__(self, favourite: str):
        self.favourite = favourite

    def embed(self, texts):
        import numpy as np

        return np.array([[1.0, 0.0] if i == 0 or self.favourite in t else [0.6, 0.8] for i, t in enumerate(texts)])


@pytest.mark.parametrize("question, short, long", [
    ("Where can the lyrics of the song be downloaded?", "The song is very old.",
     "before we start let me say that you can download the lyrics of the song from our website for free and then "
     "sing along with the choir at home"),
    ("¿Dónde se compran las entradas del concierto?", "El concierto es mañana.",
     "después de la reunión fuimos al parque y allí se compran las entradas del concierto en la taquilla junto "
     "a la iglesia antes de volver a casa"),
])
def test_the_best_entry_is_the_one_sharing_most_asked_words_not_the_one_a_vector_prefers(question, short, long):
    video = VideoInfo(path="v.mp4", duration=30.0, width=320, height=180, fps=25, has_audio=True)
    obs = [Observation(stage="asr", start=1, end=3, text=short), Observation(stage="asr", start=4, end=17, text=long)]
    context = video_context(Perception(video=video, fps_sampled=1.0, observations=obs, models=[ASR]))
    evidence = select_evidence(context, question, Preferring(short))
    assert evidence.scores[id(evidence.entries[0])] > evidence.scores[id(evidence.entries[1])]   # the vector's pick
    assert evidence.best.said == long


@pytest.mark.parametrize("question, one_word, preferred", [
    ("What is the chef doing with the knife?", "I am doing fine, thank you.", "He slices onions on a wooden board."),
    ("Was macht die Köchin mit dem Messer?", "Das macht nichts, danke.", "Sie schneidet Zwiebeln auf einem Brett."),
])
def test_one_shared_word_does_not_outrank_the_entry_the_scores_prefer(question, one_word, preferred):
    video = VideoInfo(path="v.mp4", duration=30.0, width=320, height=180, fps=25, has_audio=True)
    obs = [Observation(stage="asr", start=1, end=3, text=one_word), Observation(stage="asr", start=5, end=8,
                                                                                text=preferred)]
    context = video_context(Perception(video=video, fps_sampled=1.0, observations=obs, models=[ASR]))
    evidence = select_evidence(context, question, Preferring(preferred))
    assert evidence.best.said == preferred
