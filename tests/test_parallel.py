"""Parallel and distributed sweeps: serial, local processes and a real Dask LocalCluster give the same
numbers bit for bit; an interrupted (SIGKILLed) run loses no finished sample and leaves no broken file;
the progress line works when samples finish out of order."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rmtverify.core.exceptions import InputError
from rmtverify.core.storage import SampleCache
from rmtverify.models import make_model
from rmtverify.montecarlo.engine import SpikeObservables, SsrEigenvalues, measure_ladder, sample_size, simulate, simulate_ladder
from rmtverify.montecarlo.executor import DaskExecutor, ExecutorSpec, ProcessExecutor, executor_spec
from rmtverify.montecarlo.kernels import OBSERVABLES, SPIKE_CONTROLS, SPIKE_OBSERVABLES
from rmtverify.montecarlo.progress import Progress

PYTHON = sys.executable
REPO = Path(__file__).resolve().parent.parent
LADDER = [16, 24, 40]
SEEDS = 4


def _sweeps(executor, cache=None):
    """Every kind of sample the claims draw, on a small ladder."""
    ar1 = make_model("ar1", rho="0.6")
    spiked = make_model("spiked", theta=3, spike="random", rank=2)
    errors_grid = simulate_ladder(ar1, "1.5", ["0.05", "0.5"], LADDER, SEEDS, 3, cache, "par|ar1", executor=executor)
    errors_one = simulate_ladder(spiked, "0.5", ["0.2"], LADDER, SEEDS, 3, cache, "par|spiked", executor=executor)
    mix = make_model("mixture", atoms="1,4")
    ns = [sample_size("0.5", d) for d in LADDER]
    run = measure_ladder(SsrEigenvalues("0.1"), lambda i: mix, "par|mix", LADDER, ns, SEEDS, 3, cache, executor)
    spectra = [(n, [np.asarray(v["eigenvalues"]) for v in values]) for n, values in zip(ns, run.values)]
    ns = [sample_size("2", d) for d in LADDER]
    run = measure_ladder(SpikeObservables("0.1"), lambda i: make_model("spiked", theta=4, spike="random", spike_seed=i), "par|spike",
                         LADDER, ns, SEEDS, 3, cache, executor)
    spikes = [(n, {k: np.array([v[k] for v in values]) for k in SPIKE_OBSERVABLES + SPIKE_CONTROLS}) for n, values in zip(ns, run.values)]
    return errors_grid, errors_one, spectra, spikes


def _assert_identical(a, b):
    for sims_a, sims_b in zip(a[:2], b[:2]):
        for sa, sb in zip(sims_a, sims_b):
            assert (sa.d, sa.n, sa.spawn_keys) == (sb.d, sb.n, sb.spawn_keys)
            for obs in OBSERVABLES:
                assert sa.values[obs].shape == (len(sa.lams), SEEDS)
                assert np.array_equal(sa.values[obs], sb.values[obs])  # bit for bit
    for (na, ea), (nb, eb) in zip(a[2], b[2]):
        assert na == nb and len(ea) == len(eb) == SEEDS
        for x, y in zip(ea, eb):
            assert np.array_equal(x, y)
    for (na, va), (nb, vb) in zip(a[3], b[3]):
        assert na == nb
        for k in SPIKE_OBSERVABLES + SPIKE_CONTROLS:
            assert np.array_equal(va[k], vb[k])


@pytest.fixture(scope="module")
def serial_sweeps():
    return _sweeps(None)


def test_the_sweeps_are_not_degenerate(serial_sweeps):
    errors_grid, errors_one, spectra, spikes = serial_sweeps
    assert len(np.unique(errors_grid[-1].values["e_gen"][0])) == SEEDS  # samples differ
    assert not np.allclose(errors_grid[-1].values["e_gen"][0], errors_grid[-1].values["e_gen"][1])  # λ matters
    assert len({float(ev[0]) for ev in spectra[-1][1]}) == SEEDS
    assert len(np.unique(spikes[-1][1]["a_top"])) == SEEDS


def test_local_processes_give_the_serial_numbers(serial_sweeps):
    with ProcessExecutor(2) as ex:
        _assert_identical(_sweeps(ex), serial_sweeps)
        # through an ExecutorSpec as the claims pass it, with the cache filled by the parent process
        spec_run = simulate_ladder(make_model("ar1", rho="0.6"), "1.5", ["0.05", "0.5"], LADDER, SEEDS, 3, None, "par|ar1",
                                   executor=ExecutorSpec("processes", 2))
    for a, b in zip(spec_run, serial_sweeps[0]):
        assert np.array_equal(a.values["e_gen"], b.values["e_gen"])


def test_dask_local_cluster_gives_the_serial_numbers(serial_sweeps, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with DaskExecutor(cluster.scheduler_address) as ex:
            cache = SampleCache(tmp_path)
            dask_run = _sweeps(ex, cache)
            workers = ex._get_client().run(os.getpid)
        assert len(set(workers.values()) - {os.getpid()}) == 2  # two worker processes did the work
    _assert_identical(dask_run, serial_sweeps)
    # the parent cached every sample as it arrived: a serial rerun reads them all back
    again = SampleCache(tmp_path)
    _assert_identical(_sweeps(None, again), serial_sweeps)
    assert again.misses == 0 and again.hits == len(LADDER) * SEEDS * 4


def test_cli_simulate_with_jobs_and_scheduler_matches_serial(cli, monkeypatch):
    monkeypatch.setattr(DaskExecutor, "connect_timeout", "2s")
    argv = ("simulate", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "0.1", "--d", "32", "--seeds", "6", "--json", "--quiet",
            "--no-cache")
    rc, out_serial, err = cli(*argv)
    assert rc == 0, err
    rc, out_jobs, err = cli(*argv, "--jobs", "2")
    assert rc == 0, err
    serial, jobs = json.loads(out_serial), json.loads(out_jobs)
    for key in ("e_gen_mean", "e_gen_se", "e_train_mean", "e_train_se"):
        assert serial[key] == jobs[key]
    rc, out, err = cli(*argv, "--scheduler", "tcp://127.0.0.1:1")  # nothing listens there
    assert rc == 2 and "scheduler" in err and "Traceback" not in err


@pytest.mark.parametrize("jobs,scheduler,param", [("0", None, "jobs"), ("x", None, "jobs"), (None, " ", "scheduler")])
def test_bad_executor_options(jobs, scheduler, param):
    with pytest.raises(InputError) as exc:
        executor_spec(jobs, scheduler)
    assert exc.value.parameter == param


def test_executor_spec_choices():
    assert executor_spec() == ExecutorSpec("serial", 1)
    assert executor_spec("1") == ExecutorSpec("serial", 1)
    assert executor_spec("3") == ExecutorSpec("processes", 3)
    assert executor_spec("3", "tcp://h:8786") == ExecutorSpec("dask", 0, "tcp://h:8786")


# ---------------------------------------------------------------- progress with parallel execution


def test_progress_with_out_of_order_ladder_points(monkeypatch):
    buf = io.StringIO()
    buf.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", buf)
    p = Progress(6, "ar1", quiet=False, groups=[("d=16", 3, 1.0), ("d=32", 3, 8.0)])
    for g, cached in [(1, False), (0, True), (0, False), (1, False), (0, False), (1, False)]:
        p.step(g, cached=cached)
    lines = buf.getvalue().split("\r")[1:]
    assert len(lines) == 6
    assert lines[0].startswith("ar1 d=32: 1/3") and "all 1/6" in lines[0]
    assert lines[1].startswith("ar1 d=16: 1/3") and "all 2/6" in lines[1]
    assert lines[-1].startswith("ar1 d=32: 3/3") and "all 6/6" in lines[-1] and lines[-1].endswith("\n")
    assert "eta" in lines[2] and "elapsed" in lines[2]
    quiet = Progress(2, "x", quiet=True)
    quiet.step()
    assert buf.getvalue().count("\r") == 6  # quiet writes nothing


def test_progress_bar_from_parallel_simulation(monkeypatch):
    buf = io.StringIO()
    buf.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", buf)
    with ProcessExecutor(2) as ex:
        simulate_ladder(make_model("isotropic"), "2", ["0.1"], [16, 32], 3, 0, None, "progress", quiet=False, executor=ex)
    lines = buf.getvalue().split("\r")[1:]
    assert len(lines) == 6 and lines[-1].rstrip().endswith("s") and "all 6/6" in lines[-1]
    assert {ln.split(":")[0] for ln in lines} == {"isotropic d=16", "isotropic d=32"}


# ---------------------------------------------------------------- SIGKILL mid-run


def _valid_records(directory: Path) -> dict:
    """Every cache entry parsed; any file with the final name must be whole and match its key."""
    out = {}
    for path in directory.rglob("*.json"):
        record = json.loads(path.read_text())  # raises on a half-written file
        assert SampleCache.key(record["spec"]) == path.stem
        assert set(record["values"]) == set(OBSERVABLES)
        out[path.stem] = record
    return out


def test_sigkill_mid_run_loses_no_finished_sample(tmp_path):
    cache_dir = tmp_path / "cache"
    seeds = 300
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    argv = [PYTHON, "-m", "rmtverify", "simulate", "isotropic", "--alpha", "2", "--lam", "0.1", "--d", "160", "--seeds", str(seeds),
            "--cache-dir", str(cache_dir), "--quiet", "--json"]
    proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(list(cache_dir.rglob("*.json"))) < 20:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    before = _valid_records(cache_dir)
    assert 20 <= len(before) < seeds
    leftovers = [p for p in cache_dir.rglob("*") if p.is_file() and p.suffix != ".json"]
    assert all(p.name.startswith(".") and p.name.endswith(".tmp") for p in leftovers)  # at most an unfinished temporary
    cache = SampleCache(cache_dir)
    sim = simulate(make_model("isotropic"), "2", ["0.1"], 160, seeds=seeds, cache=cache)
    assert sim.cache_hits == len(before) == cache.hits  # no finished sample recomputed
    assert cache.misses == seeds - len(before)
    after = _valid_records(cache_dir)
    assert len(after) == seeds and all(after[k] == v for k, v in before.items())
    fresh = simulate(make_model("isotropic"), "2", ["0.1"], 160, seeds=seeds)
    for obs in OBSERVABLES:
        assert np.array_equal(sim.values[obs], fresh.values[obs])


# ---------------------------------------------------------------- the report's units


@pytest.mark.parametrize("jobs", [1, 2])
def test_report_runs_derivations_as_units_and_writes_them_once(tmp_path, monkeypatch, jobs):
    from rmtverify.reports import suite as runner
    from rmtverify.verification.claim import RunOptions

    monkeypatch.setattr(runner, "_derivation_names", lambda: ["kappa", "spiked"])
    lines = []
    opts = RunOptions(quick=True, out=tmp_path)
    entries = runner.run_report(["ssr-closed-form"], opts, jobs, time.time(), announce=lines.append)
    assert [e["name"] for e in entries] == ["derivations", "ssr-closed-form"]
    assert all(e["status"] == "PASS" for e in entries)
    assert entries[0]["summary"] == "2/2 derivations pass"
    assert sorted(ln.split(":")[0] for ln in lines) == ["derivations", "ssr-closed-form"]
    md = (tmp_path / "derivations.md").read_text()
    assert "## kappa" in md and "## spiked" in md and "## isotropic" not in md
    data = json.loads((tmp_path / "derivations.json").read_text())
    assert [d["name"] for d in data["derivations"]] == ["kappa", "spiked"]
    assert (tmp_path / "ssr-closed-form.json").exists()


# ---------------------------------------------------------------- --max-d: the ladder's reach


def test_max_d_extends_each_ladder_by_doubling_and_never_cuts_it():
    from rmtverify.core.exceptions import InputError
    from rmtverify.verification.claim import RunOptions

    assert RunOptions(quick=True).ladder((64, 128), (128, 256)) == (64, 128)
    assert RunOptions(quick=False, max_d=1000).ladder((64, 128), (128, 256)) == (128, 256, 512)
    assert RunOptions(quick=False, max_d=1024).ladder((64, 128), (128, 256)) == (128, 256, 512, 1024)
    assert RunOptions(quick=False, max_d=256).ladder((64, 128), (128, 256)) == (128, 256)
    with pytest.raises(InputError, match="max_d"):
        RunOptions(quick=False, max_d=200).ladder((64, 128), (128, 256))


@pytest.mark.parametrize(
    "argv",
    [
        ("verify", "errors", "--quick", "--max-d", "512"),  # below the quick ladder's top, 1024
        ("report", "--quick", "--max-d", "600"),  # below some claim's top
        ("verify", "errors", "--max-d", "1e9"),
        ("verify", "errors", "--max-d", "4096.5"),
        ("report", "--max-d", "abc"),
    ],
)
def test_bad_max_d_is_refused_before_any_work(cli, argv, tmp_path):
    rc, out, err = cli(*argv, "--out", str(tmp_path))
    assert rc == 2 and "max_d" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
