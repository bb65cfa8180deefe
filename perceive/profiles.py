"""Speed profiles and batch sizes: the one place that says how a run trades quality for time.

A *profile* is a named set of :class:`~perceive.pipeline.PerceptionSettings`
defaults (``--profile fast``); command-line flags given explicitly win over it.
``default`` changes nothing: full quality, the outputs every earlier release gave.
``fast`` is the CPU profile (2 cores): every change in it that alters the
outputs is listed here and measured in the README (ASR word error rate on the
GRID clips; captions and actions only with random weights offline, so their
quality effect is NOT measured).

*Batch sizes* never change the outputs (tested: batched and unbatched runs give
identical observations), so they depend only on the device: small on a CPU,
large on a GPU, where one ``generate`` of 128 images costs about what one of 8 does.
"""
from __future__ import annotations

PROFILES: dict[str, dict] = {
    "default": {},
    "fast": {
        # ASR runs in a thread beside the visual stages, on one CTranslate2 thread (2-core plan:
        # torch keeps both cores for the visual stages, ASR takes turns on them); the spoken language is
        # detected once per 30 s of speech instead of per 3 s (fewer encoder passes; a switch of language
        # inside 30 s of speech is not found)
        "concurrent_audio": True,
        "stage_options": {
            "asr": {"cpu_threads": 1, "language_window": 30.0},
            # on-screen text read at most every 4 s instead of 2 s (text shown for less may be missed)
            "ocr": {"interval": 4.0},
            # a caption only for a novel keyframe, at most one every 5 s; 224 px, 12 tokens;
            # int8 linear layers on a CPU (perceive.stage.int8_linear; ignored on CUDA)
            "caption": {"image_size": 224, "max_new_tokens": 12, "min_interval": 5.0, "int8": True},
            # region captions every 10 s, two regions, none when the detections and frame repeat
            "dense_caption": {"image_size": 224, "max_new_tokens": 12, "interval": 10.0, "top_k": 2,
                              "skip_repeats": True, "int8": True},
            # a 4 s action window every 10 s instead of back to back, int8 linear layers on a CPU
            "action": {"stride_s": 10.0, "int8": True},
        },
    },
}


def profile(name: str | None) -> dict:
    """The settings a profile sets (a copy); ``None`` is ``default``. Unknown names raise ``ValueError``."""
    import copy

    name = name or "default"
    if name not in PROFILES:
        raise ValueError(f"unknown profile '{name}'; choose from {', '.join(PROFILES)}")
    return copy.deepcopy(PROFILES[name])


# Batch sizes per device kind: keyframes per pipeline batch, images per captioner `generate`,
# action windows per forward pass.
BATCHES = {
    "cpu": {"frames": 8, "generate": 8, "windows": 4},
    "cuda": {"frames": 64, "generate": 128, "windows": 32},
}


def batch_size(device: str | None, what: str) -> int:
    """The default batch size of ``what`` (``frames``, ``generate``, ``windows``) on ``device``."""
    kind = "cuda" if (device or "cpu").startswith("cuda") else "cpu"
    return BATCHES[kind][what]
