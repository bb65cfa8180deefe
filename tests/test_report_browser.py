"""The timeline report in a real browser: Debian's chromium, headless, driven by playwright, no network.

Reports open from ``file://``; every request that is not a file is aborted. The
screenshots are saved under pytest's tmp dir (their paths are printed: ``-s``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import CLIPS, SAMPLES
from perceive.records import Perception
from prompting.context import video_context
from test_report import evil_perception, hour_perception

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--no-proxy-server", "--disable-background-networking",
                                           "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page that may load local files only, and that records dialogs and script errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs, page.errors, page.blocked = [], [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: page.errors.append(str(e)))

    def only_files(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_files)
    yield page
    context.close()


@pytest.fixture
def real_report(tmp_path_factory, tiny_models) -> tuple[Path, Perception]:
    """`videochat report` on a real clip with speech (real ASR; tiny random models for the visual stages)."""
    from chat.cli import app

    video = CLIPS / "retalking_face_1.mp4"
    if not video.exists():
        video = SAMPLES / "talk.mp4"
    out = tmp_path_factory.mktemp("report") / "report.html"
    args = ["report", str(video), "-o", str(out), "--offline", "--copy-video",
            "--stages", "asr,detection,caption,action",
            "-m", f"detector={tiny_models['detector']}", "-m", f"captioner={tiny_models['captioner']}",
            "-m", f"action={tiny_models['action']}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    from perceive.cache import cache_dir

    [cached] = cache_dir().glob("*.json")
    return out, Perception.model_validate_json(cached.read_text())


def test_real_clip_report_shows_every_lane_and_seeks_on_click(page, real_report, tmp_path):
    path, perception = real_report
    page.goto(path.as_uri())
    page.wait_for_function("document.documentElement.dataset.ready === '1'")
    lanes = page.eval_on_selector_all(
        ".lane[data-stage]", "ls => ls.map(l => [l.dataset.stage, +l.dataset.count, "
        "[...l.querySelectorAll('.it')].reduce((n, i) => n + +i.dataset.n, 0)])")
    stages = {o.stage for o in perception.observations}
    asked = ["asr", "track", "detection", "caption", "action"]  # track: what the detection stage tracked
    assert [s for s, _, _ in lanes] == [s for s in asked if s in stages or s != "track"]
    for stage, count, drawn in lanes:
        assert count == drawn == len(perception.by_stage(stage)), stage
    assert len(perception.by_stage("asr")) > 0
    assert page.locator(".thumb").count() == min(16, int(perception.video.duration))
    assert page.locator("text=real weights").count() >= 1 and page.locator("text=random weights").count() >= 3

    # the copied video beside the report plays from file://; clicking a speech item seeks it there
    page.wait_for_function("document.getElementById('video').readyState >= 1", timeout=15000)
    speech = page.locator(".lane[data-stage=asr] .it").last
    start = float(speech.get_attribute("data-t"))   # 0 where the ASR heard one sentence (samples/talk.mp4)
    page.evaluate(f"document.getElementById('video').currentTime = {start + 1.5}")   # elsewhere: the click must seek
    speech.click()
    page.wait_for_function(f"Math.abs(document.getElementById('video').currentTime - {start}) < 0.05")
    assert page.inner_text("#hover").strip().endswith(perception.by_stage("asr")[-1].text.strip())
    assert page.inner_text("#now") == f"0:{int(start):02d}"

    # a time on the axis seeks too
    page.locator(".tick[data-t='1']").click()
    page.wait_for_function("Math.abs(document.getElementById('video').currentTime - 1) < 0.05")
    assert not page.errors and not page.blocked
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")


def test_untrusted_text_runs_nothing_in_the_browser(page, tmp_path):
    from prompting.report import QA, render_report

    perception = evil_perception()
    report = tmp_path / "evil.html"
    report.write_text(render_report(perception, video_context(perception), video_href="missing.mp4",
                                    qa=[QA(question="<img src=x onerror=alert(2)>",
                                           answer='<a href="javascript:alert(3)">see</a> (at 0:03)')]))
    page.goto(report.as_uri())
    page.wait_for_function("document.documentElement.dataset.ready === '1'")
    page.locator("details summary").click()
    for item in page.locator(".it").all():  # hovering shows the text; clicking seeks
        item.hover()
        item.click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == [] and page.errors == []
    assert page.locator("img:not(.thumb)").count() == 0 and page.locator("a[href^='javascript']").count() == 0
    assert page.locator("script").count() == 2
    # the text is there, shown as text
    speech = page.locator(".lane[data-stage=asr] .it").first.inner_text()
    assert speech == "said <script>window.__pwned=1</script>"
    ocr = page.locator(".lane[data-stage=ocr] .it").all_inner_texts()
    assert 'sign <img src=x onerror="window.__pwned=3">' in ocr
    assert page.locator("h1").inner_text() == perception.video.path.rsplit("/", 1)[-1]
    assert '<a href="javascript:alert(3)">see</a>' in page.locator(".qa .a").inner_text()
    page.screenshot(path=str(tmp_path / "evil.png"), full_page=True)
    print(f"\nscreenshot: {tmp_path / 'evil.png'}")


def test_an_hour_long_report_loads_and_seeks(page, tmp_path):
    from prompting.report import render_report

    report = tmp_path / "hour.html"
    hour = hour_perception()
    report.write_text(render_report(hour, video_context(hour), video_href="missing.mp4"))
    page.goto(report.as_uri())
    page.wait_for_function("document.documentElement.dataset.ready === '1'", timeout=10000)
    item = page.locator(".lane[data-stage=asr] .it").nth(300)
    start = float(item.get_attribute("data-t"))
    item.click(timeout=5000)
    minutes, seconds = divmod(int(start), 60)
    assert page.inner_text("#now") == f"{minutes}:{seconds:02d}"
    assert not page.errors
