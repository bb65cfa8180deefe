"""The timeline report's HTML without a browser: lanes match the perception, untrusted text is
escaped, a 1-hour video stays small, and the batch writes one report per video plus an index."""
from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path


from perceive.records import ModelInfo, Note, Observation, Perception, VideoInfo
from prompting.context import video_context
from prompting.report import QA, build_lanes, link_times, render_report, script_json
from prompting.thumbnails import extract_thumbnails, thumbnail_times

ROOT = Path(__file__).resolve().parents[1]
EVIL = ['<script>window.__pwned=1</script>', '</script><script>window.__pwned=2</script>',
        '<img src=x onerror="window.__pwned=3">', '<a href="javascript:window.__pwned=4">click me</a>',
        'line\u2028break & "quotes" \'single\'']


def obs(stage: str, start: float, text: str, end: float | None = None, **kw) -> Observation:
    """An observation of any stage name (``model_construct`` lets a stage unknown to the schema, e.g. ocr, in)."""
    return Observation.model_construct(stage=stage, start=start, end=end, text=text, label=kw.pop("label", None),
                                       score=kw.pop("score", None), box=None, position=kw.pop("position", None),
                                       track_id=kw.pop("track_id", None), language=None, **kw)


def perception(observations: list[Observation], duration: float = 10.0, name: str = "clip.mp4",
               notes: list[Note] | None = None) -> Perception:
    return Perception(video=VideoInfo(path=name, duration=duration, width=320, height=240, fps=25, has_audio=True),
                      fps_sampled=1.0, observations=observations, notes=notes or [],
                      models=[ModelInfo(role="asr", name="tiny.en", source="package", weights="real"),
                              ModelInfo(role="captioner", name="tiny-blip", source="path", weights="random")],
                      timings={"asr": 1.5, "caption": 0.25})


def evil_perception(name: str = 'x"><script>window.__pwned=9</script>.mp4') -> Perception:
    """Speech, on-screen text, captions, track labels and the file name all carrying markup and scripts."""
    observations = []
    for i, text in enumerate(EVIL):
        observations += [obs("asr", i * 2, f"said {text}", end=i * 2 + 1.5, score=0.9),
                         obs("ocr", i * 2 + 1, f"sign {text}"),
                         obs("caption", i * 2, f"caption {text}"),
                         obs("track", i, f"{text}", end=i + 3, label=text, track_id=i)]
    return perception(observations, name=name, notes=[Note(stage="action", reason=EVIL[2])])


def lane_counts(page: str) -> dict[str, tuple[int, int]]:
    """stage -> (data-count of the lane, sum of data-n over its drawn items)."""
    out = {}
    for m in re.finditer(r'<div class="lane" data-stage="([^"]+)" data-count="(\d+)"(.*?)(?=<div class="lane"|<div id="hover")',
                         page, re.S):
        drawn = sum(int(n) for n in re.findall(r'data-n="(\d+)"', m.group(3)))
        out[html.unescape(m.group(1))] = (int(m.group(2)), drawn)
    return out


def test_every_stage_gets_a_lane_and_every_observation_is_drawn_once():
    p = perception([obs("asr", 0.5, "hello there", end=2.0, score=0.8), obs("asr", 3, "bye", end=4),
                    obs("caption", 0, "a man"), obs("caption", 1, "a man"), obs("caption", 2, "a dog"),
                    obs("detection", 0, "person", label="person"), obs("detection", 0, "person", label="person"),
                    obs("detection", 1, "dog", label="dog"),
                    obs("track", 0, "person", end=5, label="person", track_id=1),
                    obs("track", 1, "dog", end=2, label="dog", track_id=2),
                    obs("ocr", 4, "EXIT"), obs("shot", 6, "shot change"), obs("silence", 7, "silence", end=9)],
                   notes=[Note(stage="dense_caption", reason="no model offline"), Note(stage="cleanup", reason="whatever")])
    page = render_report(p, video_context(p), settings={"stages": ["asr", "caption", "action"]})
    counts = lane_counts(page)
    assert list(counts) == ["asr", "ocr", "track", "detection", "caption", "dense_caption", "action", "shot",
                            "silence"]
    for stage in ("asr", "ocr", "track", "detection", "caption", "shot", "silence"):
        assert counts[stage] == (len(p.by_stage(stage)), len(p.by_stage(stage))), stage
    # skipped stages keep their lane, with the reason; a stage asked for that found nothing says so
    assert re.search(r'data-stage="dense_caption" data-count="0" data-skipped>.*?no model offline', page)
    assert re.search(r'data-stage="action" data-count="0" data-skipped>.*?ran, nothing found', page)
    # equal consecutive captions join into one item; two detections of one keyframe are one item
    lanes = {lane.stage: lane for lane in build_lanes(p)}
    assert [(i.label, i.n) for i in lanes["caption"].items] == [("a man", 2), ("a dog", 1)]
    assert [(i.label, i.n) for i in lanes["detection"].items] == [("2 person", 2), ("dog", 1)]
    assert [i.label for i in lanes["track"].items] == ["person #1", "dog #2"]
    assert lanes["track"].rows == 2
    # the header: models with real/random weights, settings, timings, and other notes
    assert "real weights" in page and "random weights" in page and "1.50 s" in page and "cleanup skipped" in page


def test_untrusted_text_is_escaped_everywhere():
    p = evil_perception()
    page = render_report(p, video_context(p), qa=[QA(question="<b>who</b>?", answer=f"{EVIL[3]} (at 0:03)")],
                         video_href="x.mp4")
    # no markup from the data survives: the only <script> elements are the report's own two
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "<img src=x" not in page and 'href="javascript:' not in page and "<b>who" not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    # the JSON block is valid JSON whose strings come back exactly, and cannot close its <script>
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and ">" not in data and "&" not in data
    assert json.loads(data)["path"] == p.video.path
    # the answer's cited time is a link that seeks
    assert '<a class="ts" href="#" data-t="3">0:03</a>' in page


def test_the_context_block_is_the_rendered_context_with_each_entry_time_a_seek_link():
    p = perception([obs("asr", 3.2, "hello <there>", end=5.0), obs("caption", 1, "a man & a dog"),
                    obs("caption", 7, "a cat")], notes=[Note(stage="dense_caption", reason="no model offline")])
    context = video_context(p)
    page = render_report(p, context)
    block = re.search(r'<pre class="context">(.*?)</pre>', page, re.S).group(1)
    assert html.unescape(re.sub(r"<[^>]+>", "", block)) == context.render()
    links = re.findall(r'<a class="ts" href="#" data-t="([\d.]+)">([^<]*)</a>', block)
    assert links == [(f"{e.start:g}", html.escape(e.prefix())) for e in context.entries]
    assert [float(t) for t, _ in links] == [1.0, 3.2, 5.0, 7.0]   # 5.0: the silence after the speech


def test_script_json_escapes_what_could_end_or_break_a_script():
    text = script_json({"a": "</script><!-- & \u2028\u2029"})
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {"a": "</script><!-- & \u2028\u2029"}


def test_link_times_turns_times_into_seek_links_and_escapes_the_rest():
    out = link_times("<i>at 1:02:03</i>, then second 5 and (at 0:07)")
    assert re.findall(r'data-t="([\d.]+)"', out) == ["3723", "5", "7"]
    assert out.startswith("&lt;i&gt;at ")


def hour_perception(hour: int = 3600) -> Perception:
    """A synthetic 1-hour perception: a caption and two detections per second, speech and OCR every 5 s."""
    observations = []
    for t in range(hour):
        observations.append(obs("caption", t, f"a long caption number {t // 3} about the scene"))
        observations += [obs("detection", t, "person", label="person", score=0.9),
                         obs("detection", t, "car", label="car", score=0.5)]
        if t % 5 == 0:
            observations.append(obs("asr", t, f"this is remark number {t} of the talk today", end=t + 4))
            observations.append(obs("ocr", t + 1, f"SLIDE {t}"))
        if t % 30 == 0:
            observations.append(obs("track", t, "person", end=t + 45, label="person", track_id=t))
    return perception(observations, duration=hour)


def test_an_hour_long_video_stays_small_and_fast():
    hour = 3600
    p = hour_perception(hour)
    context = video_context(p)
    started = time.perf_counter()
    page = render_report(p, context)
    elapsed = time.perf_counter() - started
    assert len(page.encode()) < 3_000_000, len(page.encode())
    assert elapsed < 10
    counts = lane_counts(page)
    for stage in ("asr", "ocr", "track", "detection", "caption"):
        assert counts[stage] == (len(p.by_stage(stage)),) * 2, stage
    # the drawn items of a lane row start at least 1/500 of the video apart
    for lane in build_lanes(p):
        for row in range(lane.rows):
            starts = sorted(i.start for i in lane.items if i.row == row)
            assert all(b - a >= hour / 500 for a, b in zip(starts, starts[1:])), lane.stage
    assert page.count('class="it') < 4 * 500 + 6 * 500


def test_thumbnails_are_few_small_and_spread(tmp_path):
    assert thumbnail_times(3600) == [round((i + 0.5) * 225, 3) for i in range(16)]
    assert thumbnail_times(3) == [0.5, 1.5, 2.5]
    thumbs = extract_thumbnails(ROOT / "samples" / "talk.mp4", 8.0)
    assert [t.time for t in thumbs] == thumbnail_times(8.0)
    assert all(t.jpeg.startswith(b"\xff\xd8") for t in thumbs)
    assert sum(len(t.jpeg) for t in thumbs) < 100_000


def test_textualize_report_dir_writes_a_report_per_video_and_an_index(tmp_path, tiny_models):
    from typer.testing import CliRunner

    from chat.cli import app

    video = tmp_path / "in" / "talk <b>.mp4"
    video.parent.mkdir()
    video.write_bytes((ROOT / "samples" / "talk.mp4").read_bytes())
    (tmp_path / "in" / "broken.mp4").write_bytes(b"not a video")
    args = ["textualize", str(tmp_path / "in"), "-o", str(tmp_path / "out.jsonl"), "--report-dir",
            str(tmp_path / "reports"), "--offline", "--stages", "asr,caption", "-j", "1",
            "-m", f"asr={tiny_models['asr']}", "-m", f"captioner={tiny_models['captioner']}"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    index = (tmp_path / "reports" / "index.html").read_text()
    rows = re.findall(r'<tr class="(\w+)"><td>(.*?)</td>', index)
    assert sorted(status for status, _ in rows) == ["failed", "ok"]
    assert "talk &lt;b&gt;.mp4" in index and "<b>" not in index.split("<table>")[1]
    report = tmp_path / "reports" / "talk <b>.html"
    page = report.read_text()
    assert 'href="talk%20%3Cb%3E.html"' in index
    assert 'src="../in/talk%20%3Cb%3E.mp4"' in page and "random weights" in page
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    index = (tmp_path / "reports" / "index.html").read_text()
    # a rerun skips both videos (already in the output) and still lists them, the good one with its report
    assert re.findall(r'<tr class="(\w+)">', index) == ["skipped", "skipped"]
    assert 'href="talk%20%3Cb%3E.html"' in index and "not a readable video" in index
