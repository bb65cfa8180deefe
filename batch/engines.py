"""Where a batch runs its videos: in this process, on a local process pool, or on Ray.

Every engine takes the same :class:`~batch.records.Job` list and a :class:`Unit`
(what to do to one video) and yields one :class:`~batch.records.TextualizedVideo`
per job, in completion order, to the parent, which alone writes the output. Each worker process (or Ray actor)
builds the perception stages once and keeps their models loaded for every video
it is given. A worker that dies takes only its current video down: that video
gets an error record and a fresh worker carries on with the rest.
"""
from __future__ import annotations

import os
import queue
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from batch import pool
from batch.records import Job, Report, StageEvent, TextualizedVideo

# environment a worker needs to resolve and load models the way the parent does
FORWARDED_ENV_PREFIXES = ("VIDEOCHAT_", "HF_", "TRANSFORMERS_", "YOLO_")


class Unit(Protocol):
    """What a batch does to one video. It is pickled to worker processes and Ray actors."""

    device: str | None

    def __call__(self, job: Job, report: Report, worker: str) -> TextualizedVideo:
        """The record of ``job``'s video (never raises: a failure is a record with an ``error``)."""

    def failed(self, job: Job, why: str) -> TextualizedVideo:
        """The error record of a job that could not run."""

    def key(self) -> str:
        """The settings key records are resumed by (resolving every model: a bad one fails here)."""

    def on_device(self, device: str) -> "Unit":
        """A copy of this unit that runs on ``device``."""


def forwarded_env() -> dict[str, str]:
    """The variables (offline mode, model overrides, cache folder) workers must share with the parent."""
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV_PREFIXES)}


class InlineEngine:
    """Run every video in this process, one after the other (``--workers 1``)."""

    def run(self, jobs: list[Job], unit: Unit, report: Report) -> Iterator[TextualizedVideo]:
        for job in jobs:
            yield unit(job, report, "main")


# --- local process pool ------------------------------------------------------------------------

class LocalEngine:
    """A pool of ``workers`` spawned processes on this machine (default: one per core)."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)

    def run(self, jobs: list[Job], unit: Unit, report: Report) -> Iterator[TextualizedVideo]:
        workers = min(self.workers, len(jobs))
        if workers <= 1:
            yield from InlineEngine().run(jobs, unit, report)
            return
        import multiprocessing

        from perceive.models import select_device

        # decided once here, so that workers need not import torch just to look for a GPU
        unit = unit.on_device(select_device(unit.device))
        context = multiprocessing.get_context("spawn")
        events = context.Queue()
        threads = max(1, (os.cpu_count() or 1) // workers)

        def new_pool() -> ProcessPoolExecutor:
            return ProcessPoolExecutor(workers, mp_context=context, initializer=pool.init_worker,
                                       initargs=(events, threads, os.getpid()))

        pending, running = deque(jobs), {}
        executor = new_pool()
        try:
            while pending or running:
                while pending and len(running) < workers:  # a window: a crash loses in-flight jobs only
                    job = pending.popleft()
                    running[executor.submit(pool.work, unit, job)] = job
                done, _ = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
                _drain(events, report)
                broken = False
                for future in done:
                    job = running.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken = True
                        yield unit.failed(job, "worker process died while textualizing this video")
                if broken:
                    for job in running.values():
                        yield unit.failed(job, "worker process died while textualizing this video")
                    running.clear()
                    _stop(executor)
                    executor = new_pool()
            _drain(events, report)
        finally:
            _stop(executor)
            events.close()


def _drain(events, report: Report) -> None:
    while True:
        try:
            report(events.get_nowait())
        except queue.Empty:
            return


def _stop(executor: ProcessPoolExecutor) -> None:
    processes = list(getattr(executor, "_processes", {}).values())  # terminate: an interrupt must not wait
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()


# --- Ray ---------------------------------------------------------------------------------------


class TextualizeWorker:
    """A Ray actor holding one set of loaded models; ``events`` reports its progress while it works."""

    def __init__(self, unit: Unit, env: dict[str, str], name: str):
        os.environ.update(env)
        self.unit, self.name = unit, name
        self._events: list[StageEvent] = []
        self._lock = threading.Lock()

    def _report(self, event: StageEvent) -> None:
        with self._lock:
            self._events.append(event)

    def run(self, job: Job) -> str:
        """Textualize one video; the record comes back as its JSON line."""
        return self.unit(job, self._report, self.name).model_dump_json()

    def events(self) -> list[StageEvent]:
        """Progress events since the last call."""
        with self._lock:
            out, self._events = self._events, []
        return out


class RayEngine:
    """Run on a Ray cluster (``address``; default: ``$RAY_ADDRESS`` or a local instance).

    One actor per worker, each with its own models. When the cluster has GPUs
    (and ``--device`` is not cpu), actors ask for them: one GPU each by default,
    a share of them when ``workers`` exceeds the GPU count.
    """

    def __init__(self, workers: int | None = None, address: str | None = None):
        self.workers, self.address = workers, address

    def run(self, jobs: list[Job], unit: Unit, report: Report) -> Iterator[TextualizedVideo]:
        import ray

        started = not ray.is_initialized()
        if started:
            local = not (self.address or os.environ.get("RAY_ADDRESS"))
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     **({"num_cpus": self.workers or os.cpu_count()} if local else {}))
        actors: list = []
        try:
            worker_cls, count, use_gpu = self._actor_class(ray, unit, len(jobs))
            # the device follows from what the actors asked for; they need not import torch to find out
            unit = unit.on_device(unit.device or ("cuda" if use_gpu else "cpu"))
            env = forwarded_env()
            spawn = lambda i: worker_cls.remote(unit, env, f"ray {i}")  # noqa: E731
            actors = [spawn(i) for i in range(count)]
            yield from self._dispatch(ray, jobs, unit, report, actors, spawn)
        finally:
            for actor in actors:
                ray.kill(actor)
            if started:
                ray.shutdown()

    def _actor_class(self, ray, unit: Unit, jobs: int):
        resources = ray.cluster_resources()
        gpus = resources.get("GPU", 0.0)
        use_gpu = gpus > 0 and not (unit.device or "").startswith("cpu")
        count = self.workers or (int(gpus) if use_gpu else int(resources.get("CPU", 1)))
        count = max(1, min(count, jobs))
        num_gpus = min(1.0, gpus / count) if use_gpu else 0
        return ray.remote(num_cpus=1, num_gpus=num_gpus, max_concurrency=2)(TextualizeWorker), count, use_gpu

    def _dispatch(self, ray, jobs, unit: Unit, report, actors, spawn) -> Iterator[TextualizedVideo]:
        """Hand jobs to idle actors; a job whose actor died (its node went away) goes to another one.

        A dead actor is replaced when the cluster has a CPU for it (or when none is left),
        and its video is tried again, up to ``MAX_ATTEMPTS`` times, so a node lost
        mid-batch loses no video.
        """
        from ray.exceptions import GetTimeoutError, RayActorError, RayError

        pending, idle, running = deque(jobs), list(actors), {}
        attempts: dict[str, int] = {}
        while pending or running:
            while pending and idle:
                actor, job = idle.pop(), pending.popleft()
                running[actor.run.remote(job)] = (actor, job)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            try:
                for events in ray.get([a.events.remote() for a, _ in running.values()], timeout=5):
                    for event in events:
                        report(event)
            except (GetTimeoutError, RayError):
                pass  # progress is best effort; results are not
            for ref in ready:
                actor, job = running.pop(ref)
                try:
                    yield TextualizedVideo.model_validate_json(ray.get(ref))
                    idle.append(actor)
                except RayActorError:
                    attempts[job.path] = attempts.get(job.path, 0) + 1
                    if attempts[job.path] < MAX_ATTEMPTS:
                        pending.appendleft(job)
                    else:
                        yield unit.failed(job, "Ray worker died while textualizing this video")
                    busy = {a for a, _ in running.values()}
                    alive = [a for a in idle if a is not actor] + list(busy)
                    if not alive or ray.available_resources().get("CPU", 0.0) >= 1.0:
                        replacement = spawn(len(actors))
                        actors.append(replacement)
                        idle.append(replacement)
                except RayError as exc:
                    yield unit.failed(job, f"Ray task failed: {exc}")
                    idle.append(actor)


MAX_ATTEMPTS = 3
"""Tries per video on Ray: a video whose actor died (e.g. its node was lost) runs again elsewhere."""


def make_engine(name: str, workers: int | None = None, ray_address: str | None = None):
    """The engine called ``name``: ``local`` (process pool; in-process for one worker) or ``ray``."""
    if name == "local":
        return LocalEngine(workers)
    if name == "ray":
        return RayEngine(workers, ray_address)
    raise ValueError(f"unknown engine '{name}'; choose local or ray")
