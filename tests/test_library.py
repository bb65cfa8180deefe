"""The library: its SQLite store (FTS5 + sqlite-vec), hybrid search, indexing real clips (kill -9 safe),
textualize JSONL ingest, the search command and its HTML page."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from library.records import EntryRecord
from library.search import fuse, search, words_query
from library.store import Library, is_sqlite
from tests.conftest import clip

GRID = ["grid_bbaf2n.mpg", "grid_brbk7n.mpg", "grid_lbax4n.mpg", "grid_swiz3n.mpg"]


def _row(text: str, start: float = 0.0, kind: str = "speech") -> EntryRecord:
    return EntryRecord(kind=kind, start=start, end=start + 2, text=f'"{text}"', line=f'Speech: "{text}"', search=text)


class Unit:
    """A stand-in embedder for store tests: a fixed unit vector per word set (bag of hashed words)."""

    spec = None

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % 64] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_fusion_prefers_what_both_rankings_place_high():
    scores = fuse([[1, 2, 3], [3, 1, 4]])
    assert max(scores, key=scores.get) == 1 and scores[3] > scores[2] and scores[4] < scores[3]
    assert words_query("Where are the banks?") == '"bank"*'   # stop words out, plural s dropped, prefix match


def test_store_words_vectors_and_replacing_a_video(tmp_path):
    unit = Unit()
    texts = ["the central bank sets rates", "a dog runs on the beach", "rates of interest rise"]
    with Library(tmp_path / "lib.db") as lib:
        lib.put_video("/v/a.mp4", "aa", "k", 10.0, {"fps": 1}, [_row(t, i * 3) for i, t in enumerate(texts)],
                      unit.embed(texts), "Unit")
        lib.put_video("/v/b.mp4", "bb", "k", 5.0, {}, [_row("a cat sleeps")], unit.embed(["a cat sleeps"]), "Unit")
        assert lib.count("videos") == 2 and lib.count("entries") == 4 and lib.count("entry_vectors") == 4
        assert lib.current("/v/a.mp4", "aa", "k") and not lib.current("/v/a.mp4", "changed", "k")
        hits = search(lib, "interest rates", unit, limit=3)
        assert hits[0].line.endswith('"rates of interest rise"') and hits[0].span() == "0:06-0:08"
        assert lib.nearest(unit.embed(["a dog runs on the beach"])[0], 1) == [hits[0].video_id + 1]   # its own vector
        # a changed video replaces its rows: old words and vectors are gone, others stay
        lib.put_video("/v/a.mp4", "a2", "k", 10.0, {}, [_row("a horse jumps")], unit.embed(["a horse jumps"]), "Unit")
        assert lib.count("videos") == 2 and lib.count("entries") == 2 and lib.count("entry_vectors") == 2
        assert not lib.words(words_query("central bank"), 10) and lib.words(words_query("horse"), 10)
        with pytest.raises(ValueError, match="holds vectors of Unit"):
            lib.put_video("/v/c.mp4", "cc", "k", 1.0, {}, [_row("x")], unit.embed(["x"]), "Other")
    assert is_sqlite(tmp_path / "lib.db") and not is_sqlite(tmp_path)


def test_a_failed_write_leaves_the_library_as_it_was(tmp_path):
    unit = Unit()
    with Library(tmp_path / "lib.db") as lib:
        lib.put_video("/v/a.mp4", "aa", "k", 1.0, {}, [_row("kept words")], unit.embed(["kept words"]), "Unit")
        wrong = np.ones((2, 8), np.float32) / np.sqrt(8)   # vectors of another size: the write fails after the rows
        with pytest.raises(Exception, match="[Dd]imension"):
            lib.put_video("/v/a.mp4", "a2", "k", 1.0, {}, [_row("new words"), _row("more")], wrong, "Unit")
        assert lib.count("videos") == 1 and lib.words(words_query("kept"), 5) and not lib.words(words_query("new"), 5)
        assert lib.current("/v/a.mp4", "aa", "k") and lib.count("entry_vectors") == 1


@pytest.fixture
def grid_folder(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in GRID:
        shutil.copyfile(clip(name), folder / name)
    return folder


def _index_cmd(folder: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "chat.cli", "index", str(folder), "--db", str(db), "--stages", "asr",
            "--no-cleanup", "--offline"]


def _videos(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with Library(db) as lib:
            return lib.count("videos")
    except Exception:   # the schema is being made
        return 0


def test_kill_9_mid_index_loses_nothing_committed_and_a_rerun_continues(grid_folder, tmp_path):
    db = tmp_path / "lib.db"
    proc = subprocess.Popen(_index_cmd(grid_folder, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while _videos(db) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    committed = _videos(db)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    assert 1 <= committed < len(GRID)   # killed after the first video committed, before the last
    with Library(db) as lib:
        kept = {v.path for v in lib.videos()}
    done = subprocess.run(_index_cmd(grid_folder, db), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{committed} unchanged" in done.stdout, done.stdout
    with Library(db) as lib:
        videos = lib.videos()
        assert sorted(Path(v.path).name for v in videos) == sorted(GRID) and kept <= {v.path for v in videos}
        for v in videos:
            rows = lib.db.execute("select kind, language from entries where video_id = ?", (v.id,)).fetchall()
            assert ("speech", "en") in rows and v.duration == pytest.approx(3.0, abs=0.1)
            assert v.settings["stages"] == ["asr"] and len(v.content_hash) == 16
        assert lib.count("entries_fts") == lib.count("entries") == lib.count("entry_vectors")


def test_textualize_jsonl_fills_the_same_rows_as_indexing(tmp_path):
    from chat import api
    from perceive.pipeline import PerceptionSettings

    video = tmp_path / "face.mp4"
    shutil.copyfile(clip("retalking_face_4.mp4"), video)
    settings = PerceptionSettings(stages=("asr",))
    api.textualize([video], tmp_path / "out.jsonl", settings, cleanup=False, workers=1)
    from_records = api.index([], tmp_path / "records.db", settings, cleanup=False, from_jsonl=tmp_path / "out.jsonl")
    direct = api.index([video], tmp_path / "direct.db", settings, cleanup=False)
    assert len(from_records.added) == len(direct.added) == 1

    def rows(db):
        with Library(db) as lib:
            return lib.db.execute('select kind, start, "end", line, language from entries order by id').fetchall(), \
                lib.videos()[0]

    (ingested, v1), (indexed, v2) = rows(tmp_path / "records.db"), rows(tmp_path / "direct.db")
    assert ingested == indexed and ingested
    assert (v1.content_hash, v1.settings_key, v1.duration) == (v2.content_hash, v2.settings_key, v2.duration)
    again = api.index([], tmp_path / "records.db", settings, cleanup=False, from_jsonl=tmp_path / "out.jsonl")
    assert again.current and not again.added   # a second ingest finds it current


@pytest.fixture
def faces_db(tmp_path):
    from chat import api
    from perceive.pipeline import PerceptionSettings

    folder = tmp_path / "faces"
    folder.mkdir()
    for name in ("retalking_face_1.mp4", "retalking_face_4.mp4", "grid_lbax4n.mpg"):
        shutil.copyfile(clip(name), folder / name)
    db = tmp_path / "faces.db"
    api.index([folder], db, PerceptionSettings(stages=("asr",)), cleanup=False)
    return db


def test_search_command_json_and_page(faces_db, tmp_path):
    page = tmp_path / "page" / "hits.html"
    done = subprocess.run([sys.executable, "-m", "chat.cli", "search", str(faces_db), "money of the central bank",
                           "--json", "--report", str(page), "--offline"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    assert hits and Path(hits[0]["video"]).name == "retalking_face_4.mp4" and hits[0]["kind"] == "speech"
    assert all(a["score"] >= b["score"] for a, b in zip(hits, hits[1:]))
    html = page.read_text()
    assert html.count('src="data:image/jpeg;base64,') == len(hits)   # a thumbnail per hit
    report = next((page.parent / "hits_reports").glob("retalking_face_4-*.html"))
    assert f'href="hits_reports/{report.name}#t={hits[0]["start"]:g}"' in html
    assert "location.hash" in report.read_text()   # the report seeks to #t=
    plain = subprocess.run([sys.executable, "-m", "chat.cli", "search", str(faces_db), "money of the central bank",
                            "--offline"], capture_output=True, text=True, timeout=600)
    first = plain.stdout.splitlines()[0]
    assert first.startswith("retalking_face_4.mp4  0:") and "  speech  Speech " in first


def test_search_of_a_missing_library_is_one_error_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "chat.cli", "search", str(tmp_path / "none.db"), "x", "--offline"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.startswith("error:") and len(done.stderr.splitlines()) == 1
