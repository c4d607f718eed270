"""Signals and workers: a killed run leaves no process behind; SIGTERM ends a run as Ctrl-C does.

The runs are real ``python -m rmtverify`` processes with two local workers; their children are found in /proc
(Linux) before the parent is signalled, and must all be gone a few seconds after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PYTHON, REPO

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to find child processes")


def _children(pid: int) -> set:
    """Every descendant of ``pid`` (from /proc/*/stat's parent field)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    out, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(tmp_path, *extra):
    argv = [PYTHON, "-m", "rmtverify", "simulate", "isotropic", "--alpha", "2", "--lam", "0.1", "--d", "800", "--seeds", "400",
            "--jobs", "2", "--cache-dir", str(tmp_path / "cache"), *extra]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _wait_for_workers(proc, count=2, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if len(_children(proc.pid)) >= count:  # the pool's workers (and the resource tracker)
            time.sleep(2.0)  # let them start computing samples
            return _children(proc.pid)
        time.sleep(0.2)
    raise AssertionError("the workers did not start")


def _gone(pids, timeout=15) -> set:
    t0 = time.time()
    while time.time() - t0 < timeout:
        alive = {p for p in pids if _alive(p)}
        if not alive:
            return set()
        time.sleep(0.3)
    return {p for p in pids if _alive(p)}


@pytest.mark.slow
def test_sigkill_of_a_parallel_run_leaves_no_worker_behind(tmp_path):
    proc = _start(tmp_path, "--quiet")
    kids = _wait_for_workers(proc)
    assert len(kids) >= 2
    proc.kill()
    proc.wait(timeout=10)
    assert _gone(kids) == set(), "worker processes survived their killed parent"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_end_a_parallel_run_cleanly(tmp_path, sig):
    proc = _start(tmp_path, "--quiet")
    kids = _wait_for_workers(proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err)
    assert "interrupted" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert _gone(kids) == set(), "worker processes survived the interrupted run"
    # and the finished samples are in the cache, whole
    assert list((tmp_path / "cache").rglob("*.json"))


def test_children_are_found(tmp_path):
    """The /proc scan the tests above rely on finds a real child."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in _children(os.getpid())
        assert _alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not _alive(child.pid)
