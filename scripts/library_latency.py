"""Search latency of a library of synthetic videos: ``python scripts/library_latency.py [--videos 10000]``.

Builds (once) a library file of ``--videos`` videos with ``--entries`` synthetic
entries each (random words from a 5,000-word vocabulary, random unit vectors of
384 dimensions, MiniLM's size), then times :func:`library.search.search` for
``--queries`` queries of 2-3 words: words + vectors fused, with the query
vector computed by the real embedder when it is installed (reported apart).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

import numpy as np

from library.records import EntryRecord
from library.search import embedder_name, search
from library.store import Library

SYLLABLES = ["ka", "lo", "mi", "ta", "ren", "sol", "vi", "dar", "po", "nek", "us", "bri", "tor", "sa", "el", "gon"]


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Synthetic:
    """A stand-in embedder: a fixed random unit vector per text (same name as the library's vectors)."""

    spec = None

    def __init__(self, dim: int):
        self.dim = dim

    def embed(self, texts):
        rng = np.random.default_rng(abs(hash(tuple(texts))) % 2**32)
        v = rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(path: Path, videos: int, entries: int, dim: int, name: str) -> None:
    rng, nrng = random.Random(7), np.random.default_rng(7)
    words = vocabulary(rng)
    with Library(path) as lib:
        done = lib.count("videos")
        for v in range(done, videos):
            rows = []
            for i in range(entries):
                text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 14)))
                rows.append(EntryRecord(kind=rng.choice(["speech", "text", "second"]), start=i * 3.0,
                                        end=i * 3.0 + 2.5, text=text, line=f"Speech: {text}", search=text))
            vectors = nrng.standard_normal((entries, dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            lib.put_video(f"/videos/synthetic_{v:05d}.mp4", f"{v:016x}", "synthetic", entries * 3.0, {},
                          rows, vectors, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--db", type=Path, default=Path("/tmp/videochat-latency.sqlite"))
    args = parser.parse_args()
    dim, real = 384, None
    try:
        from prompting.retrieve import Embedder

        real = Embedder.from_registry()
        real.embed(["warm up"])
    except Exception as exc:   # no embedder installed: vectors are timed with a synthetic query vector
        print(f"no real embedder ({exc}); query vectors are synthetic")
    fake = Synthetic(dim)
    name = embedder_name(real) if real else "synthetic"
    t0 = time.perf_counter()
    build(args.db, args.videos, args.entries, dim, name)
    print(f"library: {args.videos} videos x {args.entries} entries, built/checked in {time.perf_counter() - t0:.0f} s, "
          f"{args.db.stat().st_size / 1e6:.0f} MB")
    rng = random.Random(11)
    words = vocabulary(random.Random(7))
    queries = [" ".join(rng.choice(words) for _ in range(rng.randint(2, 3))) for _ in range(args.queries)]
    with Library(args.db) as lib:
        fake.spec = real.spec if real else None
        search(lib, queries[0], fake)   # page cache warm
        times, embed = [], []
        for q in queries:
            t = time.perf_counter()
            search(lib, q, fake)
            times.append(time.perf_counter() - t)
            if real:
                t = time.perf_counter()
                real.embed([q + " ?"])
                embed.append(time.perf_counter() - t)
    ms = sorted(1000 * t for t in times)
    print(f"search (words + vectors, fused): median {statistics.median(ms):.1f} ms, "
          f"p95 {ms[int(0.95 * len(ms)) - 1]:.1f} ms, max {ms[-1]:.1f} ms over {len(ms)} queries")
    if embed:
        e = sorted(1000 * t for t in embed)
        print(f"query embedding (MiniLM, NumPy): median {statistics.median(e):.1f} ms, max {e[-1]:.1f} ms")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
