"""Search latency of a library of synthetic videos: ``python scripts/library_latency.py [--videos 10000]``.

Builds (once) a library file of ``--videos`` videos with ``--entries`` synthetic
entries each (random words from a 5,000-word vocabulary, random unit vectors of
384 dimensions, MiniLM's size), then times :func:`library.search.search` for
``--queries`` queries of 2-3 words: words + vectors fused (a synthetic query
vector), each part alone, and the real embedder's query vector when it is
installed. Wall and CPU time are both printed: on a shared machine the wall
time grows with the load, the CPU time much less.
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
from library.search import CANDIDATES, embedder_name, search, words_query
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
        parts = {"search (words + vectors, fused)": lambda q: search(lib, q, fake),
                 "words only (FTS5 BM25)": lambda q: lib.words(words_query(q), CANDIDATES),
                 "vectors only (bits + exact rerank)": lambda q: lib.nearest(fake.embed([q])[0], CANDIDATES)}
        if real:
            parts["query embedding (MiniLM)"] = lambda q: real.embed([q + " ?"])
        for name, run in parts.items():
            wall, cpu = [], []
            for q in queries:
                t, c = time.perf_counter(), time.process_time()
                run(q)
                wall.append(1000 * (time.perf_counter() - t))
                cpu.append(1000 * (time.process_time() - c))
            wall.sort()
            print(f"{name}: wall median {statistics.median(wall):.1f} ms, p95 {wall[int(0.95 * len(wall)) - 1]:.1f} ms; "
                  f"CPU median {statistics.median(cpu):.1f} ms ({len(queries)} queries)")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
