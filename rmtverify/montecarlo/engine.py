"""Monte Carlo at growing d: seeded samples, run by an executor, cached as they arrive.

A *measurement* is a picklable callable ``measurement(sample) -> dict`` with a ``key()`` that names what it
computes and a ``draw`` (``"gram"`` or ``"rows"``, see :mod:`rmtverify.montecarlo.sample`). The engine runs
one measurement on K samples at every d of a ladder:

Seeds. Sample i at dimension d of configuration ``key`` uses
``SeedSequence(root_seed, spawn_key=(crc32(key), d, i))``: the numbers do not depend on how many samples
are drawn, in which order, or where. Samples run through an :mod:`executor <rmtverify.montecarlo.executor>`
(serial, local processes or a Dask cluster), always with one BLAS thread, so every executor gives the same
numbers bit for bit; finished samples are cached by the calling process as they arrive
(:class:`~rmtverify.core.storage.SampleCache`, atomic writes), keyed by everything they depend on.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF, check_monte_carlo, parse
from rmtverify.core.storage import SampleCache
from rmtverify.models.base import CovarianceModel
from rmtverify.montecarlo.executor import Executor, get_executor, one_blas_thread
from rmtverify.montecarlo.kernels import OBSERVABLES
from rmtverify.montecarlo.masking import mask_error_from_sample
from rmtverify.montecarlo.progress import Progress, SinkProgress, sample_cost
from rmtverify.montecarlo.sample import DRAWS, Sample
from rmtverify.theory.masking import parse_mask_rate

#: bump when a kernel's code changes, so cached samples are not reused
ENGINE_VERSION = "3"
#: how the engine draws a sample, for the run record of every report that uses it
SAMPLERS = {
    "gram": (
        f"engine {ENGINE_VERSION}: S = FᵀF/n with F Bartlett's factor of n Gaussian rows mapped by Σ's root "
        "(exactly the law of XᵀX/n; rmtverify.montecarlo.wishart), min(n, d) pseudo-rows per sample, one BLAS thread"
    ),
    "rows": f"engine {ENGINE_VERSION}: n Gaussian rows x = Σ^(1/2) z per sample, S = XᵀX/n, one BLAS thread",
}


def sample_size(alpha: Fraction, d: int) -> int:
    """n = round(α d), at least 1."""
    n = int(Fraction(alpha) * d + Fraction(1, 2))
    if n < 1:
        raise InputError("alpha", f"alpha * d must give at least one sample; got alpha = {alpha}, d = {d}")
    check_monte_carlo(d, n)
    return n


def seed_sequence(root_seed: int, config_key: str, d: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(root_seed, spawn_key=(zlib.crc32(config_key.encode()), d, index))


@dataclass(frozen=True)
class SsrErrors:
    """The measurement of ``rmtverify simulate``: E_train and E_gen of masked SSR at each λ of a grid."""

    lams: tuple
    method: str = "auto"
    draw: str = "gram"

    def key(self) -> str:
        return f"ssr-errors|lams={','.join(map(str, self.lams))}|{self.method}"

    def __call__(self, sample: Sample) -> dict:
        return sample.ssr_errors([float(lam) for lam in self.lams], self.method)


@dataclass(frozen=True)
class SsrEigenvalues:
    """The eigenvalues of Â at λ, ascending."""

    lam: object
    draw: str = "gram"

    def key(self) -> str:
        return f"ssr-eigenvalues|lam={self.lam}"

    def __call__(self, sample: Sample) -> dict:
        return {"eigenvalues": sample.ssr_eigenvalues(float(self.lam))}


@dataclass(frozen=True)
class SpikeObservables:
    """Top eigenvalues and overlaps of S and Â with the first spike direction, and two control variates."""

    lam: object
    draw: str = "gram"

    def key(self) -> str:
        return f"spike|lam={self.lam}"

    def __call__(self, sample: Sample) -> dict:
        return sample.spike(float(self.lam))


@dataclass(frozen=True)
class MaskErrors:
    """E_mask(p) of the estimator masked at rate p (SPEC §8), exact given S and Σ, at each rate of a grid."""

    lam: object
    rates: tuple
    draw: str = "gram"

    def key(self) -> str:
        return f"mask-errors|lam={self.lam}|p={','.join(map(str, self.rates))}"

    def __call__(self, sample: Sample) -> dict:
        return {f"e_mask|{p}": mask_error_from_sample(sample.S, sample.Sigma, float(p), float(self.lam)) for p in self.rates}


def simulate_masked(model: CovarianceModel, alpha, lam, rates, d, seeds: int = 16, root_seed: int = 0,
                    cache: SampleCache | None = None, quiet: bool = True, executor=None) -> dict:
    """Monte Carlo E_mask at one d for each masking rate p of ``rates``: {p: (mean, standard error)} and the run's
    (d, n, K, seconds)."""
    alpha, lam, d = parse("alpha", alpha), parse("lam", lam), parse("d", d)
    if d == INF:
        raise InputError("d", "Monte Carlo needs a finite d")
    rates = tuple(parse_mask_rate(p) for p in rates)
    seeds, root_seed = parse("seeds", seeds), parse("seed", root_seed)
    (d,) = check_ladder([d], model)
    n = sample_size(alpha, d)
    run = measure_ladder(MaskErrors(lam, rates), lambda i: model, f"{model.key()}|alpha={alpha}", [d], [n], seeds, root_seed, cache,
                         executor, quiet)
    vals = {p: np.array([v[f"e_mask|{p}"] for v in run.values[0]], dtype=float) for p in rates}
    return {"d": d, "n": n, "seeds": seeds, "seconds": run.seconds[0],
            "rates": {p: (float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size))) for p, v in vals.items()}}


def compute(measurement, model: CovarianceModel, d: int, n: int, ss: np.random.SeedSequence) -> dict:
    """One sample of ``measurement``, with one BLAS thread (what every executor runs)."""
    with one_blas_thread():
        return measurement(Sample(model, d, n, ss, measurement.draw))


@dataclass
class SampleJob:
    """One (d, seed) sample: its cache spec, the arguments of :func:`compute`, its ladder point."""

    spec: dict
    args: tuple
    group: int = 0


def run_samples(jobs: list, cache: SampleCache | None, executor=None, progress=None) -> tuple[list, list, list]:
    """Values of every job, in the jobs' order: cached ones read back, the others computed by ``executor``
    (serial when None) and cached as they arrive. Returns (values, cache_hit flags, seconds until each
    value was in, from the call)."""
    cache = cache or SampleCache(None)
    t0 = time.perf_counter()
    values, hits, seconds = [None] * len(jobs), [False] * len(jobs), [0.0] * len(jobs)
    todo = []
    for j, job in enumerate(jobs):
        val = cache.get(job.spec)
        if val is None:
            todo.append(j)
            continue
        values[j], hits[j] = val, True
        if progress is not None:
            progress.step(job.group, cached=True)
    if todo:
        for k, val in get_executor(executor).imap_unordered(compute, [jobs[j].args for j in todo]):
            j = todo[k]
            cache.put(jobs[j].spec, val)
            values[j], seconds[j] = val, time.perf_counter() - t0
            if progress is not None:
                progress.step(jobs[j].group)
    return values, hits, seconds


@dataclass
class LadderRun:
    """K samples of one measurement at every d of a ladder: ``values[g][i]`` is sample i at ``ladder[g]``."""

    ladder: list
    ns: list
    values: list
    hits: list
    seconds: list
    spawn_keys: list


def sample_memory(model: CovarianceModel, d: int, n: int, draw: str) -> int:
    """Bytes one sample needs at its peak, roughly: its factor (rows, or Bartlett's min(n, m) pseudo-rows) and
    about six d × d float64 matrices (S, S + λI, its inverse or eigenvectors, Σ applied to it, workspace)."""
    rows = n if draw == "rows" else min(n, model.noise_dim(d))
    return 8 * (rows * d + 6 * d * d)


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux: MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(model: CovarianceModel, d: int, n: int, draw: str, workers: int = 1) -> None:
    """Refuse, before anything is allocated, a ladder whose largest samples would not fit in memory."""
    need, have = sample_memory(model, d, n, draw) * max(1, workers), available_memory()
    if have is not None and need > 0.8 * have:
        raise InputError(
            "d", f"a sample at d = {d} (n = {n}) needs about {need / 2**30:.3g} GiB of memory"
            + (f" on each of {workers} workers" if workers > 1 else "")
            + f"; this machine has {have / 2**30:.3g} GiB available: choose a smaller d (or fewer --jobs)")


def check_ladder(ds, model: CovarianceModel) -> list:
    """The validated dimensions of a ladder (finite, accepted by the model)."""
    ds = [ds] if isinstance(ds, (int, str, Fraction, float)) else list(ds)
    out = []
    for d in ds:
        d = parse("d", d)
        if d == float("inf"):
            raise InputError("d", "Monte Carlo needs a finite d")
        out.append(model.check_d(d))
    if not out:
        raise InputError("d", "at least one dimension")
    return out


def measure_ladder(
    measurement,
    model_for_sample,
    key: str,
    ladder,
    ns,
    seeds: int,
    root_seed: int = 0,
    cache: SampleCache | None = None,
    executor=None,
    quiet: bool = True,
    label: str = "",
    sink=None,
    fresh_from: int = 0,
) -> LadderRun:
    """Run ``measurement`` on ``seeds`` samples at every d of ``ladder`` (n = ``ns``); sample i uses the model
    ``model_for_sample(i)``. All (d, seed) samples go to the executor at once."""
    if measurement.draw not in DRAWS:
        raise InputError("draw", f"one of {', '.join(DRAWS)}; got {measurement.draw!r}")
    models = [model_for_sample(i) for i in range(seeds)]
    spec = executor.spec if isinstance(executor, Executor) else executor
    workers = spec.jobs if spec is not None and spec.kind == "processes" else 1
    top = max(range(len(ladder)), key=lambda g: ladder[g])
    check_memory(models[0], ladder[top], ns[top], measurement.draw, workers)
    jobs = []
    for g, (d, n) in enumerate(zip(ladder, ns)):
        for i, model in enumerate(models):
            ss = seed_sequence(root_seed, key, d, i)
            spec = {
                "engine": ENGINE_VERSION,
                "measurement": measurement.key(),
                "draw": measurement.draw,
                "model": model.key(),
                "d": d,
                "n": n,
                "entropy": root_seed,
                "spawn_key": list(ss.spawn_key),
            }
            jobs.append(SampleJob(spec, (measurement, model, d, n, ss), g))
    groups = [(f"d={d}", seeds, sample_cost(d, n)) for d, n in zip(ladder, ns)]
    # a sink (a claim's share of a report's progress) takes the steps; else a line of its own on a terminal
    if sink is not None:
        progress = SinkProgress(sink, groups, seeds, fresh_from)
    else:
        progress = Progress(len(jobs), label or models[0].name, quiet, groups)
    values, hits, secs = run_samples(jobs, cache, executor, progress)
    per = [range(g * seeds, (g + 1) * seeds) for g in range(len(ladder))]
    return LadderRun(
        list(ladder),
        list(ns),
        [[values[j] for j in part] for part in per],
        [sum(hits[j] for j in part) for part in per],
        [max(secs[j] for j in part) for part in per],
        [[list(jobs[j].args[4].spawn_key) for j in part] for part in per],
    )


@dataclass
class Simulation:
    """K samples at one (model, α, d), for a grid of λ."""

    model: dict
    model_key: str
    alpha: Fraction
    d: int
    n: int
    lams: tuple
    root_seed: int
    values: dict  # observable -> array (len(lams), K)
    seconds: float
    cache_hits: int = 0
    spawn_keys: list = field(default_factory=list)

    @property
    def k(self) -> int:
        return self.values[OBSERVABLES[0]].shape[1]

    def mean(self, obs: str) -> np.ndarray:
        return self.values[obs].mean(axis=1)

    def se(self, obs: str) -> np.ndarray:
        return self.values[obs].std(axis=1, ddof=1) / np.sqrt(self.k)

    def summary(self, lam_index: int = 0) -> dict:
        return {
            "d": self.d,
            "n": self.n,
            "seeds": self.k,
            "e_gen_mean": repr(float(self.mean("e_gen")[lam_index])),
            "e_gen_se": repr(float(self.se("e_gen")[lam_index])),
            "e_train_mean": repr(float(self.mean("e_train")[lam_index])),
            "e_train_se": repr(float(self.se("e_train")[lam_index])),
        }


def simulate_ladder(
    model: CovarianceModel,
    alpha,
    lams,
    ladder,
    seeds: int = 16,
    root_seed: int = 0,
    cache: SampleCache | None = None,
    config_key: str | None = None,
    quiet: bool = True,
    executor=None,
) -> list[Simulation]:
    """Monte Carlo E_train, E_gen at every d of ``ladder`` for every λ in ``lams``; all (d, seed)
    samples go to ``executor`` at once (an ExecutorSpec, an Executor, or None for serial)."""
    alpha = parse("alpha", alpha)
    ds = check_ladder(ladder, model)
    lams = tuple(parse("lam", lam) for lam in (lams if isinstance(lams, (list, tuple)) else [lams]))
    seeds = parse("seeds", seeds)
    root_seed = parse("seed", root_seed)
    ns = [sample_size(alpha, d) for d in ds]
    for d, n in zip(ds, ns):
        if any(lam == 0 for lam in lams) and n <= d:
            raise InputError("lam", f"lam = 0 needs n > d in Monte Carlo (S is singular); got n = {n}, d = {d}")
    key = config_key or f"{model.key()}|alpha={alpha}"
    run = measure_ladder(SsrErrors(lams), lambda i: model, key, ds, ns, seeds, root_seed, cache, executor, quiet)
    return [
        Simulation(
            model=model.describe(),
            model_key=model.key(),
            alpha=alpha,
            d=d,
            n=n,
            lams=lams,
            root_seed=root_seed,
            values={k: np.array([v[k] for v in run.values[g]], dtype=float).T for k in OBSERVABLES},  # (len(lams), K)
            seconds=run.seconds[g],
            cache_hits=run.hits[g],
            spawn_keys=run.spawn_keys[g],
        )
        for g, (d, n) in enumerate(zip(ds, ns))
    ]


def simulate(
    model: CovarianceModel,
    alpha,
    lams,
    d,
    seeds: int = 16,
    root_seed: int = 0,
    cache: SampleCache | None = None,
    config_key: str | None = None,
    quiet: bool = True,
    executor=None,
) -> Simulation:
    """Monte Carlo E_train, E_gen at one d for every λ in ``lams``."""
    alpha = parse("alpha", alpha)
    d = parse("d", d)
    if d == float("inf"):
        raise InputError("d", "Monte Carlo needs a finite d")
    return simulate_ladder(model, alpha, lams, [d], seeds, root_seed, cache, config_key, quiet, executor)[0]
