"""URL input: ``videochat ask URL`` fetches the video once (yt-dlp) from a loopback HTTP server; no network is
one ``error:`` line. Never an outside address."""
from __future__ import annotations

import functools
import http.server
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from tests.conftest import clip


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server over a folder holding one shared clip; yields (base URL, request log)."""
    root = tmp_path / "site"
    root.mkdir()
    shutil.copyfile(clip("retalking_face_1.mp4"), root / "talk.mp4")
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_a_url_is_fetched_once_into_the_cache(served):
    from library.fetch import download_dir, fetch, fetched

    base, requests = served
    url = f"{base}/talk.mp4"
    path = fetch(url)
    assert path.parent == download_dir(url) and path.read_bytes() == clip("retalking_face_1.mp4").read_bytes()
    asked = len(requests)
    assert asked >= 1 and fetch(url) == path == fetched(url) and len(requests) == asked   # the second time: no request


def test_context_of_a_url_reads_the_fetched_video(served, tmp_path):
    from chat import api
    from perceive.pipeline import PerceptionSettings

    base, _ = served
    written = api.export_context(f"{base}/talk.mp4", ["txt"], tmp_path, PerceptionSettings(stages=("asr",)),
                                 cleanup=False)
    text = written[0].read_text()
    assert "Speech 0:0" in text and "help" in text.lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]   # closed again: nothing listens there


def test_an_unreachable_url_is_one_error_line():
    url = f"http://127.0.0.1:{_free_port()}/talk.mp4"
    done = subprocess.run([sys.executable, "-m", "chat.cli", "ask", url, "What is said?", "--offline"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"error: cannot fetch {url}") and len(done.stderr.strip().splitlines()) == 1, \
        done.stderr


@pytest.mark.slow
def test_ask_a_url(served):
    from tests.conftest import require_default_llm

    require_default_llm()
    base, _ = served
    done = subprocess.run([sys.executable, "-m", "chat.cli", "ask", f"{base}/talk.mp4", "What is his biggest weakness?",
                           "--stages", "asr", "--no-cleanup", "--offline"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "help" in done.stdout.lower()
