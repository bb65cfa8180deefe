"""Bad inputs on the command line: one clear error line, non-zero exit, no traceback."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.test_video import make_bad_input


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chat.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "text"])
def test_perceive_bad_input_is_one_line(tmp_path, kind):
    result = run_cli("perceive", str(make_bad_input(tmp_path, kind)), "--stages", "asr", "--offline")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr


def test_unknown_stage_is_one_line(tmp_path):
    result = run_cli("perceive", str(tmp_path), "--stages", "telepathy")
    assert result.returncode == 1 and "unknown stage" in result.stderr and "Traceback" not in result.stderr


def test_help_explains_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("perceive", "models"):
        assert command in result.stdout
