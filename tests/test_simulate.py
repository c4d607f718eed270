"""Monte Carlo engine: seeding, the sample cache, samplers, and agreement with finite-d theory."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from rmtverify.core.exceptions import InputError
from rmtverify.core.storage import SampleCache, default_cache_dir
from rmtverify.models import make_model
from rmtverify.montecarlo.engine import sample_size, simulate
from rmtverify.montecarlo.kernels import OBSERVABLES
from rmtverify.theory.equivalents import equivalents


def test_cache_env_points_at_a_test_directory(isolated_sample_cache):
    assert default_cache_dir() == Path(isolated_sample_cache)
    assert os.environ["RMTVERIFY_CACHE"] == str(isolated_sample_cache)
    assert list(Path(isolated_sample_cache).iterdir()) == []


def test_sample_size_rounds_alpha_d():
    assert sample_size(Fraction(1, 2), 64) == 32
    assert sample_size(Fraction(7, 10), 15) == 11  # 10.5 rounds up
    assert sample_size(Fraction(3), 7) == 21
    with pytest.raises(InputError) as exc:
        sample_size(Fraction(1, 100), 10)
    assert exc.value.parameter == "alpha"


@pytest.mark.parametrize("name,opts", [("ar1", {"rho": "0.6"}), ("spiked", {"theta": 3, "spike": "random", "rank": 2})])
def test_same_seed_same_numbers_whatever_the_number_of_seeds(name, opts):
    model = make_model(name, **opts)
    s4 = simulate(model, "1.5", ["0.1", "1"], 24, seeds=4, root_seed=3)
    s8 = simulate(model, "1.5", ["0.1", "1"], 24, seeds=8, root_seed=3)
    for obs in OBSERVABLES:
        assert s4.values[obs].shape == (2, 4) and s8.values[obs].shape == (2, 8)
        assert np.array_equal(s4.values[obs], s8.values[obs][:, :4])  # bit for bit
        assert len(np.unique(s8.values[obs][0])) == 8  # the samples do differ
    assert s4.spawn_keys == s8.spawn_keys[:4]
    other = simulate(model, "1.5", ["0.1", "1"], 24, seeds=4, root_seed=4)
    assert not np.any(other.values["e_gen"] == s4.values["e_gen"])


def _cache_files(directory):
    return sorted(Path(directory).rglob("*.json"))


def test_second_run_reads_every_sample_from_cache(tmp_path):
    model = make_model("ar1", rho="-0.5", boundary="circulant")
    first = simulate(model, "0.8", ["0.05", "0.5"], 20, seeds=5, root_seed=1, cache=SampleCache(tmp_path))
    assert first.cache_hits == 0
    assert len(_cache_files(tmp_path)) == 5
    cache = SampleCache(tmp_path)
    second = simulate(model, "0.8", ["0.05", "0.5"], 20, seeds=5, root_seed=1, cache=cache)
    assert second.cache_hits == 5 and cache.misses == 0
    for obs in OBSERVABLES:
        assert np.array_equal(first.values[obs], second.values[obs])
    # a different λ grid is a different key: nothing is reused; the same data give the same numbers
    # (a single λ takes the Cholesky route, a grid the eigendecomposition: equal to rounding)
    third = simulate(model, "0.8", ["0.05"], 20, seeds=5, root_seed=1, cache=SampleCache(tmp_path))
    assert third.cache_hits == 0
    for obs in OBSERVABLES:
        assert np.allclose(third.values[obs][0], first.values[obs][0], rtol=1e-12, atol=0)
        assert not np.allclose(third.values[obs][0], first.values[obs][1], rtol=1e-3)  # the λ matters


def test_default_cache_is_the_environment_directory(isolated_sample_cache):
    model = make_model("isotropic")
    simulate(model, "2", ["0.1"], 12, seeds=3, cache=SampleCache(default_cache_dir()))
    assert len(_cache_files(isolated_sample_cache)) == 3


@pytest.mark.parametrize("garbage", [b"{not json", b"", b'{"spec": 1, "values": {}}', b'{"spec": {"engine": "0"}}'])
def test_corrupt_cache_file_is_ignored_and_recomputed(tmp_path, garbage):
    model = make_model("isotropic")
    ref = simulate(model, "2", ["0.1"], 16, seeds=3, cache=SampleCache(tmp_path))
    files = _cache_files(tmp_path)
    files[1].write_bytes(garbage)
    cache = SampleCache(tmp_path)
    again = simulate(model, "2", ["0.1"], 16, seeds=3, cache=cache)
    assert cache.hits == 2 and cache.misses == 1
    for obs in OBSERVABLES:
        assert np.array_equal(again.values[obs], ref.values[obs])
    record = json.loads(files[1].read_text())  # rewritten whole
    assert record["values"]["e_gen"] == ref.values["e_gen"][:, _index_of(files[1], tmp_path, ref)].tolist()


def _index_of(path, directory, sim):
    spec = json.loads(path.read_text())["spec"]
    return [list(k) for k in sim.spawn_keys].index(spec["spawn_key"])


def test_cache_file_with_binary_garbage_is_recomputed(tmp_path):
    model = make_model("isotropic")
    ref = simulate(model, "2", ["0.1"], 16, seeds=3, cache=SampleCache(tmp_path))
    _cache_files(tmp_path)[0].write_bytes(b"\xff\xfe\x00\x81 disk garbage")
    again = simulate(model, "2", ["0.1"], 16, seeds=3, cache=SampleCache(tmp_path))
    assert np.array_equal(again.values["e_gen"], ref.values["e_gen"])


@pytest.mark.parametrize("garbage", [b"null", b"[1, 2]"])
def test_cache_file_with_non_object_json_is_recomputed(tmp_path, garbage):
    model = make_model("isotropic")
    ref = simulate(model, "2", ["0.1"], 16, seeds=3, cache=SampleCache(tmp_path))
    _cache_files(tmp_path)[0].write_bytes(garbage)
    again = simulate(model, "2", ["0.1"], 16, seeds=3, cache=SampleCache(tmp_path))
    assert np.array_equal(again.values["e_gen"], ref.values["e_gen"])


def test_no_cache_directory_means_no_files(tmp_path, isolated_sample_cache):
    sim = simulate(make_model("isotropic"), "2", ["0.1"], 12, seeds=3, cache=SampleCache(None))
    assert sim.cache_hits == 0
    assert _cache_files(isolated_sample_cache) == []


@pytest.mark.parametrize(
    "name,opts",
    [
        ("isotropic", {}),
        ("ar1", {"rho": "0.6"}),
        ("ar1", {"rho": "-0.7"}),
        ("ar1", {"rho": "0.6", "boundary": "circulant"}),
        ("ar1", {"rho": "-0.5", "boundary": "circulant"}),
        ("spiked", {"theta": 2, "spike": "e1"}),
        ("spiked", {"theta": "3,1", "spike": "flat", "rank": 2}),
        ("spiked", {"theta": 2, "spike": "random", "rank": 2}),
    ],
)
def test_sampler_covariance_and_sigma_product(name, opts):
    """Rows of model.sample have covariance model.sigma(d); sigma_apply is Σ @ B."""
    model = make_model(name, **opts)
    rng = np.random.default_rng(3)
    for d in (7, 8):  # odd and even (the circulant sampler uses a real FFT)
        S = model.sigma(d)
        assert np.allclose(S, S.T, atol=0) and np.linalg.eigvalsh(S)[0] > 0
        n = 40_000
        X = model.sample(n, d, rng)
        C = X.T @ X / n
        se = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / n)  # SE of a Gaussian covariance entry
        assert np.max(np.abs(C - S) / se) < 4.5
        B = rng.standard_normal((d, 3))
        assert np.allclose(model.sigma_apply(d, B), S @ B, rtol=0, atol=1e-13 * np.abs(S).max() * d)


def _custom(tmp_path):
    rng = np.random.default_rng(4)
    d = 128
    A = rng.standard_normal((d, d))
    path = tmp_path / "sigma.npy"
    np.save(path, A @ A.T / d + 0.5 * np.eye(d))
    return {"sigma": str(path)}, d


SIM_CONFIGS = [
    ("isotropic", {}, "0.5", "0.2", 256),
    ("isotropic", {}, "2", "0.1", 256),
    ("ar1", {"rho": "0.7"}, "0.5", "0.2", 256),
    ("ar1", {"rho": "-0.5", "boundary": "circulant"}, "1.5", "0.05", 256),
    ("spiked", {"theta": 4, "rank": 2, "spike": "random"}, "2", "0.1", 256),
    ("spiked", {"theta": 9, "spike": "e1"}, "0.7", "0.1", 256),
    ("custom", None, "1.5", "0.1", None),
]


@pytest.mark.parametrize("name,opts,alpha,lam,d", SIM_CONFIGS, ids=[f"{c[0]}-{c[2]}" for c in SIM_CONFIGS])
def test_simulation_agrees_with_finite_d_theory(tmp_path, name, opts, alpha, lam, d):
    if name == "custom":
        opts, d = _custom(tmp_path)
    model = make_model(name, **opts)
    sim = simulate(model, alpha, [lam], d, seeds=16, root_seed=7)
    assert sim.n == sample_size(Fraction(alpha), d) and sim.k == 16
    # the theory at the α the sample has, n/d; finite-d corrections to it are O(1/d) with |c| < 1 here
    theory = equivalents(model, Fraction(sim.n, d), lam, d=d, dps=None)
    for obs in OBSERVABLES:
        mean, se = sim.mean(obs)[0], sim.se(obs)[0]
        th = theory.float(obs)
        allowance = 4 * se + 1.0 / d
        assert abs(mean - th) < allowance, (obs, mean, se, th)
    # the same check rejects an E_gen that is off by 5%
    mean, se = sim.mean("e_gen")[0], sim.se("e_gen")[0]
    for factor in (0.95, 1.05):
        assert abs(mean - factor * theory.float("e_gen")) > 4 * se + 1.0 / d


@pytest.mark.parametrize(
    "argv,param",
    [
        (("isotropic", "0.5", ["0.1"], "inf"), "d"),
        (("isotropic", "0.5", ["0"], 20), "lam"),
        (("isotropic", "0.5", ["0.1"], 1), "d"),
        (("isotropic", "0", ["0.1"], 20), "alpha"),
    ],
)
def test_simulate_bad_input(argv, param):
    name, alpha, lams, d = argv
    with pytest.raises(InputError) as exc:
        simulate(make_model(name), alpha, lams, d, seeds=2)
    assert exc.value.parameter == param


def test_simulate_cli_json(cli, isolated_sample_cache):
    rc, out, err = cli("simulate", "ar1", "--rho", "0.5", "--alpha", "2", "--lam", "0.1", "--d", "32", "--seeds", "4", "--json", "--quiet")
    assert rc == 0, err
    data = json.loads(out)
    assert data["d"] == 32 and data["n"] == 64 and data["seeds"] == 4 and data["seed"] == 0
    sim = simulate(make_model("ar1", rho="0.5"), "2", ["0.1"], 32, seeds=4)
    assert float(data["e_gen_mean"]) == float(sim.mean("e_gen")[0])
    assert float(data["e_train_se"]) == float(sim.se("e_train")[0])
    assert len(_cache_files(isolated_sample_cache)) == 4  # the CLI wrote to the per-test cache


# ---------------------------------------------------------------- interruption and cache keys


def test_interrupted_run_keeps_finished_samples(cli, monkeypatch, isolated_sample_cache):
    import rmtverify.montecarlo.engine as engine

    real = engine.SsrErrors.__call__
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(engine.SsrErrors, "__call__", flaky)
    argv = ("simulate", "ar1", "--rho", "0.3", "--alpha", "2", "--lam", "0.1", "--d", "16", "--seeds", "5", "--json", "--quiet")
    rc, out, err = cli(*argv)
    assert rc == 130 and out == ""
    assert len(err.splitlines()) == 1 and "interrupted" in err and "Traceback" not in err
    assert len(_cache_files(isolated_sample_cache)) == 2  # the two finished samples, whole
    monkeypatch.setattr(engine.SsrErrors, "__call__", real)
    cache = SampleCache(isolated_sample_cache)
    sim = simulate(make_model("ar1", rho="0.3"), "2", ["0.1"], 16, seeds=5, cache=cache)
    assert sim.cache_hits == 2 and cache.misses == 3
    fresh = simulate(make_model("ar1", rho="0.3"), "2", ["0.1"], 16, seeds=5)
    assert np.array_equal(sim.values["e_gen"], fresh.values["e_gen"])


def test_cache_distinguishes_custom_arrays(tmp_path):
    A = np.eye(8)
    B = np.diag(np.linspace(0.1, 10, 8))
    simulate(make_model("custom", sigma=A), "2", ["0.1"], 8, seeds=3, cache=SampleCache(tmp_path))
    cached = simulate(make_model("custom", sigma=B), "2", ["0.1"], 8, seeds=3, cache=SampleCache(tmp_path))
    uncached = simulate(make_model("custom", sigma=B), "2", ["0.1"], 8, seeds=3, cache=SampleCache(None))
    assert np.array_equal(cached.values["e_gen"], uncached.values["e_gen"])


def test_cache_notices_a_rewritten_sigma_file(tmp_path):
    path = tmp_path / "sigma.npy"
    np.save(path, np.eye(8))
    simulate(make_model("custom", sigma=str(path)), "2", ["0.1"], 8, seeds=3, cache=SampleCache(tmp_path / "c"))
    np.save(path, np.diag(np.linspace(0.1, 10, 8)))
    cached = simulate(make_model("custom", sigma=str(path)), "2", ["0.1"], 8, seeds=3, cache=SampleCache(tmp_path / "c"))
    uncached = simulate(make_model("custom", sigma=str(path)), "2", ["0.1"], 8, seeds=3, cache=SampleCache(None))
    assert np.array_equal(cached.values["e_gen"], uncached.values["e_gen"])
