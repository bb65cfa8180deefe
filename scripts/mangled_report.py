"""Run the mangled-video corpus through perceive, context, ask and textualize and print a Markdown table.

    python scripts/mangled_report.py [--long] [--only NAME ...] [--timeout S]

Each (file, command) pair runs as its own process, offline, under a time limit,
with tiny random-weight models for the ASR and action stages (the weights are not
what is tested: decoding, memory and time are) and the real default LLM
(SmolLM2, a few tokens) for ``ask``. A row gives the exit code, the wall time,
the peak RSS of the largest process (videochat or one of its ffmpeg children)
and the outcome: the ``error:`` line, the notes, or ``ok``; TRACEBACK or TIMEOUT
mark a failure, except where a row expects the limit (the whole 3-hour file at
1 fps: it must say up front that it will take long, then keep going). Every
command gets a fresh perception cache, so each one pays for its own perception.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from scripts.make_mangled import Mangled, make_corpus  # noqa: E402

COMMANDS = ("perceive", "context", "ask", "textualize")
BOUNDED = ["--max-seconds", "600"]
LONG_RUNS = {
    "frame-8k.mp4": [(c, [], "ok") for c in COMMANDS],
    "three-hours.mp4": [("perceive", [], "slow")] + [(c, BOUNDED, "ok") for c in COMMANDS],
    "three-hours-silence.mp4": [("perceive", ["--stages", "asr"], "slow"), ("ask", BOUNDED, "ok")],
}
"""What runs on each long file: (command, extra options, expectation). ``slow``: the limit may stop it."""


def run(cmd: list[str], timeout: float, env: dict) -> tuple[int | None, float, float, str, str]:
    """Run ``cmd`` in its own process group: (exit code or None on timeout, seconds, peak RSS MB, out, err)."""
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
        return code, seconds, usage.ru_maxrss / 1024, out.read().decode(errors="replace"), \
            err.read().decode(errors="replace")


def outcome(code: int | None, stdout: str, stderr: str, record: dict | None) -> str:
    """One line that says what happened (with the notes a user sees about truncation or length)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    notes = [line.removeprefix("note: ") for line in lines if line.startswith("note: ")
             and any(w in line for w in ("truncated", "keyframes", "to transcribe", "--max-seconds"))]
    told = ("; " + "; ".join(notes)) if notes else ""
    if code is None:
        return "TIMEOUT" + told
    if "Traceback" in stderr:
        return "TRACEBACK: " + stderr.strip().splitlines()[-1]
    if record is not None:
        if record.get("error"):
            return "record error: " + record["error"]
        kept = [n for n in record.get("notes", []) if any(w in n for w in ("truncated", "--max-seconds"))]
        return "record ok" + ("; " + "; ".join(kept) if kept else "")
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        return errors[0] if len(errors) == 1 and code == 1 else f"{len(errors)} error lines (exit {code})"
    return "ok" + told


def expected(expect: str, code: int | None, line: str) -> bool:
    """Whether the outcome is what ``expect`` (ok, error, either, slow) allows."""
    if expect == "slow" and code is None:
        return "to perceive" in line or "to transcribe" in line   # stopped by the limit, but the user was told up front
    if code is None or "TRACEBACK" in line:
        return False
    failed = code != 0 or line.startswith("record error")
    return {"ok": not failed, "error": failed, "either": True, "slow": not failed}[expect]


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
    make = ("import json, sys; from perceive.testing import make_tiny_models; "
            "print(json.dumps({r: str(p) for r, p in make_tiny_models(sys.argv[1]).items()}))")
    code, _, _, stdout, stderr = run([sys.executable, "-c", make, str(work / "tiny")], 900, env)
    if code != 0:
        print(f"error: cannot build the tiny models: {stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return 1
    tiny = json.loads(stdout)
    models = ["--stages", "asr,action", "-m", f"asr={tiny['asr']}", "-m", f"action={tiny['action']}"]
    corpus = [item for item in make_corpus(work / "corpus", long=args.long)
              if (item.name in args.only if args.only else item.long == args.long)]
    rows, failures = [], 0
    for item in corpus:
        runs = LONG_RUNS.get(item.name, [(c, [], item.expect) for c in COMMANDS])
        for command, options, expect in runs:
            env["VIDEOCHAT_CACHE"] = str(work / f"cache-{len(rows)}")
            out = work / f"out-{len(rows)}.jsonl"
            extra = {"perceive": [], "context": ["--no-cleanup"], "ask": ["--no-cleanup", "--max-tokens", "8"],
                     "textualize": ["--no-cleanup", "-o", str(out), "-j", "1"]}[command]
            question = ["What happens in the video?"] if command == "ask" else []
            cmd = [sys.executable, "-m", "chat.cli", command, str(item.path), *question, "--offline",
                   *models, *options, *extra]
            code, seconds, rss, stdout, stderr = run(cmd, args.timeout, env)
            record = json.loads(out.read_text().splitlines()[0]) if out.exists() and out.read_text() else None
            line = outcome(code, stdout, stderr, record)
            good = expected(expect, code, line)
            failures += not good
            shown = " ".join([command, *options])
            rows.append(f"| {item.name} | {shown} | {'-' if code is None else code} | {seconds:.1f} | "
                        f"{rss:.0f} | {line.replace('|', '/')} | {'yes' if good else '**NO**'} |")
            print(rows[-1], file=sys.stderr, flush=True)
    print(f"Mangled-video report, {date.today()}: {cpu_model()}, {len(os.sched_getaffinity(0))} cores, "
          f"Python {platform.python_version()}; "
          f"1 fps; tiny random ASR and action models, SmolLM2 for ask; per-command limit {args.timeout:.0f} s.\n")
    print("| file | command | exit | s | peak RSS MB | outcome | as expected |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
