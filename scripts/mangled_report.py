"""Run the mangled-video corpus through perceive, ask and textualize and print a Markdown table.

    python scripts/mangled_report.py [--long] [--only NAME ...] [--timeout S]

Each (file, command) pair runs as its own process, offline, under a time limit,
with tiny random-weight models for the visual stages (the weights are not what
is tested) and the default offline ASR; ``ask`` talks to a local fake
OpenAI-compatible server (tests/fake_llm.py), so no LLM runtime is needed. A row
gives the exit code, the wall and CPU time, the peak RSS of the largest process
(videochat or one of its ffmpeg children) and the outcome: the ``error:`` line,
the truncation note, or ``ok``; TRACEBACK or TIMEOUT mark a failure. Every
command gets a fresh perception cache, so each one pays for its own perception.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_llm import FakeChatServer  # noqa: E402
from scripts.make_mangled import Mangled, make_corpus  # noqa: E402

COMMANDS = ("perceive", "ask", "textualize")
LONG_FPS = {"three-hours.mp4": 0.01, "three-hours-silence.mp4": 0.01}
"""Keyframe rates for the 3-hour files: tiny random detectors take ~0.2 s a frame here, so 10,800
keyframes would measure the detector, not robustness; the audio is decoded whole either way."""


def run(cmd: list[str], timeout: float, env: dict) -> tuple[int | None, float, float, float, str, str]:
    """Run ``cmd`` in its own process group.

    Returns (exit code or None on timeout, wall seconds, CPU seconds, peak RSS MB, stdout, stderr); CPU
    time and RSS include the children it waited for (ffmpeg).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        pid = os.posix_spawnp(cmd[0], cmd, env, file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                                                (os.POSIX_SPAWN_DUP2, err.fileno(), 2)],
                              setsid=True)
        code = None
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() - start > timeout:
                os.killpg(pid, signal.SIGKILL)
                _, _, usage = os.wait4(pid, 0)
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        return code, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode(errors="replace"), \
            err.read().decode(errors="replace")


def outcome(code: int | None, stdout: str, stderr: str, record: dict | None) -> str:
    """One line that says what happened."""
    if code is None:
        return "TIMEOUT"
    if "Traceback" in stderr:
        return "TRACEBACK: " + stderr.strip().splitlines()[-1]
    if record is not None:
        if record.get("error"):
            return "record error: " + record["error"]
        notes = [n for n in record.get("notes", []) if "truncated" in n]
        return "record ok" + (f"; note: {notes[0]}" if notes else "")
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        return errors[0] if len(errors) == 1 and code == 1 else f"{len(errors)} error lines (exit {code})"
    notes = [line for line in lines if "truncated" in line]
    return "ok" + (f"; {notes[0]}" if notes else "")


def expected(item: Mangled, code: int | None, line: str) -> bool:
    if code is None or "TRACEBACK" in line:
        return False
    failed = code != 0 or line.startswith("record error")
    return {"ok": not failed, "error": failed, "either": True}[item.expect]


def cpu_model() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="the 8K and 3-hour files instead of the fast ones")
    parser.add_argument("--only", nargs="*", help="only these file names")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command (default 600)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="mangled-"))
    env = dict(os.environ, VIDEOCHAT_OFFLINE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    # built in a child process: this one stays small, since a spawned child starts counting its peak
    # RSS from its parent's (Linux keeps the larger of the two across exec)
    make = ("import json, sys; from perceive.tiny import make_tiny_models; "
            "print(json.dumps({r: str(p) for r, p in make_tiny_models(sys.argv[1], sys.argv[2:]).items()}))")
    code, _, _, _, stdout, stderr = run([sys.executable, "-c", make, str(work / "tiny"), "detector", "captioner",
                                      "action"], 600, env)
    if code != 0:
        print(f"error: cannot build the tiny models: {stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return 1
    models = [a for role, path in json.loads(stdout).items() for a in ("-m", f"{role}={path}")]
    corpus = [item for item in make_corpus(work / "corpus", long=args.long)
              if (item.name in args.only if args.only else item.long == args.long)]
    rows, failures = [], 0
    with FakeChatServer() as llm:
        for item in corpus:
            fps = ["--fps", str(LONG_FPS[item.name])] if item.name in LONG_FPS else []
            for command in COMMANDS:
                env["VIDEOCHAT_CACHE"] = str(work / f"cache-{len(rows)}")
                out = work / f"out-{len(rows)}.jsonl"
                extra = {"perceive": [], "ask": ["--no-cleanup", "-m", "llm=openai:fake", "--base-url", llm.url],
                         "textualize": ["-o", str(out), "-j", "1"]}[command]
                question = ["What happens in the video?"] if command == "ask" else []
                cmd = [sys.executable, "-m", "chat.cli", command, str(item.path), *question, "--offline",
                       *fps, *models, *extra]
                code, seconds, cpu, rss, stdout, stderr = run(cmd, args.timeout, env)
                record = json.loads(out.read_text().splitlines()[0]) if out.exists() and out.read_text() else None
                line = outcome(code, stdout, stderr, record).replace(f"{work / 'corpus'}/", "")
                good = expected(item, code, line)
                failures += not good
                rows.append(f"| {item.name} | {command} | {'-' if code is None else code} | {seconds:.1f} | {cpu:.1f} | "
                            f"{rss:.0f} | {line.replace('|', '/')} | {'yes' if good else '**NO**'} |")
                print(rows[-1], file=sys.stderr, flush=True)
    print(f"Mangled-video report, {date.today()}: {cpu_model()}, {len(os.sched_getaffinity(0))} cores, "
          f"Python {platform.python_version()}; "
          f"fps {LONG_FPS} for the 3-hour files, else 1; per-command limit {args.timeout:.0f} s.\n")
    print("| file | command | exit | wall s | CPU s | peak RSS MB | outcome | as expected |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
