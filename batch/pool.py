"""The worker side of the local process pool, kept free of heavy imports.

A pool process imports this module first and runs :func:`init_worker` before
numpy, CTranslate2 or torch are loaded, so the thread counts it sets
(``OMP_NUM_THREADS`` and friends) take effect: each worker gets its share of
the cores, like a Ray actor gets the CPUs it asked for. Results depend on it
(int8 and float kernels round differently with another thread count), so the
same share gives the same observations on both engines.
"""
from __future__ import annotations

import os
import threading
import time

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_events = None  # the parent's progress queue, set by init_worker


def init_worker(events, threads: int, parent: int) -> None:
    """Set this worker's thread count and progress queue; exit when the parent process goes away."""
    global _events
    _events = events
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, str(threads))

    def watch_parent() -> None:  # a parent killed with SIGKILL must not leave workers running
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch_parent, daemon=True).start()


def work(unit, job):
    """Run ``unit`` on one job in this worker; progress events go to the parent's queue."""
    return unit(job, _events.put, f"pid {os.getpid()}")
