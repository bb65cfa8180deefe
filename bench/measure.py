"""Wall clock and memory measurements: resident set size now, at peak, and per phase.

CPU seconds count every thread of the process (``time.process_time``): on a
busy machine wall time grows while CPU time stays near what the work costs.
The process peak comes from ``getrusage(RUSAGE_SELF).ru_maxrss``; the peak of
one phase (a stage's model load, its processing) from a background thread that
samples ``/proc/self/statm`` every few milliseconds while the phase runs.
"""
from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

MB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """This process's resident set size now, in MiB."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / MB
    except OSError:  # not Linux: fall back to the peak
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if os.uname().sysname != "Darwin" else peak / MB


@dataclass
class Phase:
    """What one named phase cost: wall and CPU seconds (all threads), RSS growth and peak (MiB)."""

    seconds: float = 0.0
    cpu_s: float = 0.0
    rss_delta_mb: float = 0.0
    rss_peak_mb: float = 0.0
    calls: int = 0


@dataclass
class Meter:
    """Time phases and sample memory while they run; phases with one name add up."""

    interval: float = 0.005
    phases: dict[str, Phase] = field(default_factory=dict)

    def __post_init__(self):
        self._peak = 0.0
        self._active = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            self._wake.wait()
            while self._active:
                value = rss_mb()
                with self._lock:
                    self._peak = max(self._peak, value)
                time.sleep(self.interval)

    @contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        """Measure the ``with`` block as phase ``name``."""
        entry = self.phases.setdefault(name, Phase())
        before = rss_mb()
        with self._lock:
            outer_peak, self._peak = self._peak, before
            self._active += 1
        self._wake.set()
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield entry
        finally:
            seconds = time.perf_counter() - start
            entry.cpu_s += time.process_time() - cpu
            after = rss_mb()
            with self._lock:
                self._active -= 1
                if not self._active:
                    self._wake.clear()
                peak = max(self._peak, after)
                self._peak = max(outer_peak, peak)
            entry.seconds += seconds
            entry.rss_delta_mb += after - before
            entry.rss_peak_mb = max(entry.rss_peak_mb, peak)
            entry.calls += 1
