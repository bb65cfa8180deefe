"""The subtitles stage: text subtitle streams (mov_text in .mp4, SubRip in .mkv), sidecar files, bitmap streams."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import clip
from perceive.pipeline import PerceptionSettings, perceive_video
from perceive.subtitles import SubtitleStage, language_code, sidecars

SECRET = "The secret word is pineapple."
SRT = f"""1
00:00:00,500 --> 00:00:02,000
Good evening.

2
00:00:02,200 --> 00:00:03,800
{SECRET}
"""
GERMAN_SRT = """1
00:00:00,500 --> 00:00:03,000
Das geheime Wort ist Ananas, und es ist nicht das Wort, das man sagt.
"""


def ffmpeg(*args: str) -> None:
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    result = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"ffmpeg cannot make this sample: {result.stderr.strip()[-200:]}")


def video(folder: Path, name: str = "plain.mp4") -> Path:
    """A 4 s grey clip without audio or subtitles."""
    out = folder / name
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=160x90:d=4:r=5", "-pix_fmt", "yuv420p", str(out))
    return out


def with_stream(folder: Path, name: str, codec: str, language: str = "eng", srt: str = SRT) -> Path:
    """A 4 s clip with ``srt`` muxed in as one subtitle stream of ``codec`` (mov_text, srt, ass, webvtt)."""
    source = folder / f"{name}.source.srt"
    source.write_text(srt)
    out = folder / name
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=160x90:d=4:r=5", "-i", str(source), "-map", "0:v", "-map", "1:s",
           "-c:v", "libx264" if out.suffix != ".webm" else "libvpx", "-pix_fmt", "yuv420p", "-c:s", codec,
           "-metadata:s:s:0", f"language={language}", str(out))
    source.unlink()
    return out


def subtitles(path: Path, **options):
    stage = SubtitleStage(**options)
    p = perceive_video(path, PerceptionSettings(stages=("subtitles",)), stages=[stage], notes=[])
    return p.by_stage("subtitle"), p.notes


@pytest.mark.parametrize("name, codec", [("movtext.mp4", "mov_text"), ("subrip.mkv", "srt"), ("styled.mkv", "ass")])
def test_a_text_subtitle_stream_becomes_timed_cues_with_its_language(tmp_path, name, codec):
    cues, notes = subtitles(with_stream(tmp_path, name, codec))
    assert [c.text for c in cues] == ["Good evening.", SECRET] and notes == []
    assert cues[1].start == pytest.approx(2.2, abs=0.02) and cues[1].end == pytest.approx(3.8, abs=0.02)
    assert {c.language for c in cues} == {"en"} and cues[0].label.startswith("stream ")


def test_sidecar_files_are_found_with_the_language_their_name_gives(tmp_path):
    clip_path = video(tmp_path)
    (tmp_path / "plain.srt").write_text(SRT)
    (tmp_path / "plain.de.srt").write_text(GERMAN_SRT)
    (tmp_path / "plain.notes.txt").write_text("not a subtitle")
    (tmp_path / "plainer.srt").write_text(SRT)          # another video's
    assert [p.name for p in sidecars(clip_path)] == ["plain.de.srt", "plain.srt"]
    cues, _ = subtitles(clip_path)
    assert {(c.label, c.language) for c in cues} == {("plain.srt", None), ("plain.de.srt", "de")}
    assert SECRET in [c.text for c in cues]


def test_a_named_file_replaces_the_search_and_max_seconds_cuts(tmp_path):
    clip_path = video(tmp_path)
    (tmp_path / "plain.srt").write_text(SRT)
    named = tmp_path / "elsewhere.vtt"
    named.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<i>Only</i> this one.\n")
    stage = SubtitleStage(path=str(named))
    p = perceive_video(clip_path, PerceptionSettings(stages=("subtitles",), max_seconds=1.5), stages=[stage], notes=[])
    [cue] = p.by_stage("subtitle")
    assert cue.text == "Only this one." and cue.end == pytest.approx(1.5)   # styling gone, cut at --max-seconds


def test_a_sidecar_is_part_of_the_cache_key(tmp_path):
    clip_path = video(tmp_path)
    stage = SubtitleStage()
    settings = PerceptionSettings(stages=("subtitles",))
    bare = settings.cache_key([stage], clip_path)
    (tmp_path / "plain.srt").write_text(SRT)
    first = settings.cache_key([stage], clip_path)
    (tmp_path / "plain.srt").write_text(SRT.replace("pineapple", "mango"))
    assert len({bare, first, settings.cache_key([stage], clip_path)}) == 3


def test_bitmap_streams_are_one_note_not_an_error(tmp_path, monkeypatch):
    """ffmpeg cannot make a PGS/DVB stream from text, so ffprobe's records of two are given here."""
    import perceive.subtitles as subs

    clip_path = video(tmp_path)
    found = [{"index": 2, "codec_name": "hdmv_pgs_subtitle", "tags": {"language": "eng"}},
             {"index": 3, "codec_name": "dvb_subtitle"}]
    monkeypatch.setattr(subs, "subtitle_streams", lambda _video: found)
    cues, notes = subtitles(clip_path)
    assert cues == []
    assert len(notes) == 1 and "bitmap subtitle streams" in notes[0].render()
    assert "stream 2 (hdmv_pgs_subtitle, eng)" in notes[0].render() and "stream 3 (dvb_subtitle)" in notes[0].render()


def test_language_codes():
    assert [language_code(c) for c in ("eng", "ger", "deu", "fre", "pt-BR", "und", "", "xx-yy")] == \
        ["en", "de", "de", "fr", "pt", None, None, "xx"]


def test_subtitles_reach_the_context_in_their_language_and_are_quoted_evidence(tmp_path):
    from prompting.context import video_context
    from answer.pipeline import gather as select_evidence
    from answer.records import QUOTED_KINDS

    clip_path = with_stream(tmp_path, "movtext.mp4", "mov_text", language="und")   # no language tag: detected
    (tmp_path / "movtext.de.srt").write_text(GERMAN_SRT)
    p = perceive_video(clip_path, PerceptionSettings(stages=("subtitles",)), stages=[SubtitleStage()], notes=[])
    context = video_context(p)
    lines = context.render().splitlines()
    assert 'Subtitle 0:02-0:04 (English): "The secret word is pineapple."' in lines
    assert any(line.startswith("Subtitle 0:00-0:03 (German): \"Das geheime Wort") for line in lines)
    assert "subtitle" in QUOTED_KINDS
    evidence = select_evidence(context, "Which fruit is the secret word?")
    assert any("pineapple" in e.line() for e in evidence.entries)


@pytest.mark.parametrize("container, codec", [("mp4", "mov_text"), ("mkv", "srt")])
def test_videochat_context_prints_an_embedded_stream(tmp_path, container, codec):
    clip_path = with_stream(tmp_path, f"secret.{container}", codec)
    result = subprocess.run([sys.executable, "-m", "chat.cli", "context", str(clip_path), "--offline", "--no-cleanup",
                             "--stages", "subtitles"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f'Subtitle 0:02-0:04 (English): "{SECRET}"' in result.stdout


def test_videochat_context_prints_a_sidecar_and_a_named_file(tmp_path):
    clip_path = video(tmp_path, "secret.mp4")
    (tmp_path / "secret.en.srt").write_text(SRT)
    named = tmp_path / "other.srt"
    named.write_text(SRT.replace("pineapple", "mango"))
    run = [sys.executable, "-m", "chat.cli", "context", str(clip_path), "--offline", "--no-cleanup", "--stages", "subtitles"]
    found = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stderr
    assert f'Subtitle 0:02-0:04 (English): "{SECRET}"' in found.stdout
    given = subprocess.run([*run, "--subtitles", str(named)], capture_output=True, text=True, timeout=300)
    assert given.returncode == 0, given.stderr
    assert "mango" in given.stdout and "pineapple" not in given.stdout


def test_the_manifesto_sidecar_is_read():
    video_path = clip("videogrep_manifesto.mp4")
    cues, notes = subtitles(video_path)
    assert len(cues) > 10 and notes == [] and all(c.end >= c.start for c in cues)
    assert "communist" in " ".join(c.text for c in cues).lower()


def test_the_report_has_a_subtitles_lane():
    from perceive.records import Observation, Perception, VideoInfo
    from prompting.report import build_lanes

    p = Perception(video=VideoInfo(path="/v.mp4", duration=4.0, width=160, height=90, fps=5.0, has_audio=False),
                   fps_sampled=1.0, observations=[Observation(stage="subtitle", start=2.2, end=3.8, text=SECRET,
                                                              label="stream 2", language="en")])
    [lane] = build_lanes(p)
    assert (lane.stage, lane.title, lane.count) == ("subtitle", "Subtitles", 1)
    assert lane.items[0].label == SECRET and "· en" in lane.items[0].tip
