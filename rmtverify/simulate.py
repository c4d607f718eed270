"""Monte Carlo of masked SSR: E_train and E_gen at finite d, seeded and cached.

One sample = one data matrix X (n = round(αd) rows from the model) and one
symmetric eigendecomposition S = V diag(s) Vᵀ, from which every λ of a grid
is served: diag Q = (V∘V)(s + λ)^{-1}, [QSQ]_kk = (V∘V)(s/(s + λ)²), and
E_gen = ‖Σ^{1/2} Q D^{-1}‖²_F / d with the model's own Σ-product.

Seeds. Sample i at dimension d of configuration ``key`` uses
``SeedSequence(root_seed, spawn_key=(crc32(key), d, i))``: the numbers do not
depend on how many samples are drawn, in which order, or where.
"""

from __future__ import annotations

import sys
import time
import zlib
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .errors import InputError
from .models.base import CovarianceModel
from .params import parse
from .storage import SampleCache

#: bump when the observables' code changes, so cached samples are not reused
ENGINE_VERSION = "1"
OBSERVABLES = ("e_train", "e_gen")


def sample_size(alpha: Fraction, d: int) -> int:
    """n = round(α d), at least 1."""
    n = int(Fraction(alpha) * d + Fraction(1, 2))
    if n < 1:
        raise InputError("alpha", f"alpha * d must give at least one sample; got alpha = {alpha}, d = {d}")
    return n


def seed_sequence(root_seed: int, config_key: str, d: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(root_seed, spawn_key=(zlib.crc32(config_key.encode()), d, index))


def sample_observables(model: CovarianceModel, d: int, n: int, lams, ss: np.random.SeedSequence) -> dict:
    """E_train and E_gen of one data set, for every λ in ``lams`` (floats)."""
    rng = np.random.default_rng(ss)
    X = model.sample(n, d, rng)
    S = X.T @ X / n
    s, V = np.linalg.eigh(S)
    s = np.clip(s, 0.0, None)  # S is PSD; round-off can make a zero eigenvalue slightly negative
    V2 = V * V
    out = {k: [] for k in OBSERVABLES}
    for lam in lams:
        r = 1.0 / (s + lam)
        q = V2 @ r  # diag Q
        qsq = V2 @ (s * r * r)  # diag QSQ
        out["e_train"].append(float(np.mean(qsq / (q * q))))
        B = (V * r) @ (V.T / q[None, :])  # Q D^{-1}
        out["e_gen"].append(float(np.sum(B * model.sigma_apply(d, B)) / d))
    return out


def ssr_eigenvalues(model: CovarianceModel, d: int, n: int, lam: float, ss: np.random.SeedSequence) -> np.ndarray:
    """The eigenvalues of Â = I − QD^{-1} for one data set, ascending (via the symmetric I − D^{-1/2}QD^{-1/2})."""
    rng = np.random.default_rng(ss)
    X = model.sample(n, d, rng)
    S = X.T @ X / n
    s, V = np.linalg.eigh(S)
    s = np.clip(s, 0.0, None)
    Q = (V / (s + lam)) @ V.T
    q = np.diag(Q)
    B = Q / np.sqrt(np.outer(q, q))
    return np.sort(1.0 - np.linalg.eigvalsh(B))


def spectra(model: CovarianceModel, alpha, lam, d: int, seeds: int, root_seed: int, cache: SampleCache | None, config_key: str, quiet: bool = True) -> tuple[int, list]:
    """(n, [eigenvalues of Â per sample]) at one d, seeded and cached like ``simulate``."""
    alpha, lam, d = parse("alpha", alpha), parse("lam", lam), model.check_d(parse("d", d))
    n = sample_size(alpha, d)
    cache = cache or SampleCache(None)
    progress = Progress(seeds, f"{model.name} spectrum d={d}", quiet)
    out = []
    for i in range(seeds):
        ss = seed_sequence(root_seed, config_key, d, i)
        spec = {"engine": ENGINE_VERSION, "observable": "ssr_eigenvalues", "model": model.key(), "d": d, "n": n, "lam": str(lam), "entropy": root_seed, "spawn_key": list(ss.spawn_key)}
        ev = cache.get_array(spec)
        if ev is None:
            ev = ssr_eigenvalues(model, d, n, float(lam), ss)
            cache.put_array(spec, ev)
        out.append(ev)
        progress.step()
    return n, out


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


class Progress:
    """A one-line progress report on stderr, only when stderr is a terminal and not quiet."""

    def __init__(self, total: int, label: str, quiet: bool = False):
        self.total, self.label = total, label
        self.enabled = not quiet and sys.stderr.isatty()
        self.done, self.t0 = 0, time.perf_counter()

    def step(self):
        self.done += 1
        if not self.enabled:
            return
        el = time.perf_counter() - self.t0
        eta = el / self.done * (self.total - self.done)
        sys.stderr.write(f"\r{self.label}: {self.done}/{self.total}  elapsed {el:5.1f}s  eta {eta:5.1f}s ")
        if self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


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
) -> Simulation:
    """Monte Carlo E_train, E_gen at one d for every λ in ``lams``."""
    alpha = parse("alpha", alpha)
    d = parse("d", d)
    if d == float("inf"):
        raise InputError("d", "Monte Carlo needs a finite d")
    d = model.check_d(d)
    lams = tuple(parse("lam", lam) for lam in (lams if isinstance(lams, (list, tuple)) else [lams]))
    seeds = parse("seeds", seeds)
    root_seed = parse("seed", root_seed)
    n = sample_size(alpha, d)
    if any(lam == 0 for lam in lams) and n <= d:
        raise InputError("lam", f"lam = 0 needs n > d in Monte Carlo (S is singular); got n = {n}, d = {d}")
    cache = cache or SampleCache(None)
    key = config_key or f"{model.key()}|alpha={alpha}"
    lam_floats = [float(lam) for lam in lams]
    t0 = time.perf_counter()
    hits0 = cache.hits
    rows = {k: [] for k in OBSERVABLES}
    spawn = []
    progress = Progress(seeds, f"{model.name} d={d}", quiet)
    for i in range(seeds):
        ss = seed_sequence(root_seed, key, d, i)
        spawn.append(list(ss.spawn_key))
        spec = {
            "engine": ENGINE_VERSION,
            "model": model.key(),
            "d": d,
            "n": n,
            "lams": [str(lam) for lam in lams],
            "entropy": root_seed,
            "spawn_key": list(ss.spawn_key),
        }
        vals = cache.get(spec)
        if vals is None:
            vals = sample_observables(model, d, n, lam_floats, ss)
            cache.put(spec, vals)
        for k in OBSERVABLES:
            rows[k].append(vals[k])
        progress.step()
    values = {k: np.array(v, dtype=float).T for k, v in rows.items()}  # (len(lams), K)
    return Simulation(
        model=model.describe(),
        model_key=model.key(),
        alpha=alpha,
        d=d,
        n=n,
        lams=lams,
        root_seed=root_seed,
        values=values,
        seconds=time.perf_counter() - t0,
        cache_hits=cache.hits - hits0,
        spawn_keys=spawn,
    )


SPIKE_OBSERVABLES = ("s_top", "s_overlap", "a_top", "a_overlap")
SPIKE_CONTROLS = ("c_vsv", "c_vs2v")


def spike_observables(model: CovarianceModel, d: int, n: int, lam: float, ss: np.random.SeedSequence) -> dict:
    """Top eigenvalue and squared overlap with the first spike, for S and for Â (right eigenvector),
    plus two control variates with exactly known means (derivation bbp, wishart-second-moment):
    vᵀSv − vᵀΣv and vᵀS²v − (vᵀΣ²v(1 + 1/n) + vᵀΣv tr Σ/n)."""
    import scipy.linalg

    rng = np.random.default_rng(ss)
    v = model.vectors(d)[:, 0]
    X = model.sample(n, d, rng)
    S = X.T @ X / n
    s, V = np.linalg.eigh(S)
    s = np.clip(s, 0.0, None)
    Q = (V / (s + lam)) @ V.T
    q = np.diag(Q)
    B = Q / np.sqrt(np.outer(q, q))
    w, U = scipy.linalg.eigh(B, subset_by_index=[0, 0])
    u = np.sqrt(q) * U[:, 0]  # Â's right eigenvector is D^{1/2} times B's
    u /= np.linalg.norm(u)
    Sv = X.T @ (X @ v) / n
    Sig_v = model.sigma_apply(d, v[:, None])[:, 0]
    tr_sigma = float(np.trace(model.sigma(d)))
    vsv, vs2v = float(v @ Sig_v), float(Sig_v @ Sig_v)
    return {
        "s_top": float(s[-1]),
        "s_overlap": float((V[:, -1] @ v) ** 2),
        "a_top": float(1.0 - w[0]),
        "a_overlap": float((u @ v) ** 2),
        "c_vsv": float(v @ Sv) - vsv,
        "c_vs2v": float(Sv @ Sv) - (vs2v * (1 + 1 / n) + vsv * tr_sigma / n),
    }


def spike_samples(model_for_seed, alpha, lam, d: int, seeds: int, root_seed: int, cache: SampleCache | None, config_key: str, quiet: bool = True) -> tuple[int, dict]:
    """(n, {observable: array over seeds}); ``model_for_seed(i)`` may give each sample its own spike direction."""
    alpha, lam = parse("alpha", alpha), parse("lam", lam)
    n = sample_size(alpha, d)
    cache = cache or SampleCache(None)
    progress = Progress(seeds, f"spike d={d}", quiet)
    rows = {k: [] for k in SPIKE_OBSERVABLES + SPIKE_CONTROLS}
    for i in range(seeds):
        model = model_for_seed(i)
        ss = seed_sequence(root_seed, config_key, d, i)
        spec = {"engine": ENGINE_VERSION, "observable": "spike", "model": model.key(), "d": d, "n": n, "lam": str(lam), "entropy": root_seed, "spawn_key": list(ss.spawn_key)}
        vals = cache.get(spec)
        if vals is None:
            vals = spike_observables(model, d, n, float(lam), ss)
            cache.put(spec, vals)
        for k in rows:
            rows[k].append(vals[k])
        progress.step()
    return n, {k: np.array(v) for k, v in rows.items()}


def control_variate_mean(y: np.ndarray, controls: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of y with the mean-zero controls regressed out (the controls' means are exact,
    so the estimator stays unbiased up to O(1/K) from estimating the coefficients)."""
    K = len(y)
    C = controls - controls.mean(axis=0)
    beta, *_ = np.linalg.lstsq(C, y - y.mean(), rcond=None)
    adj = y - controls @ beta
    dof = max(K - 1 - controls.shape[1], 1)
    resid = adj - adj.mean()
    return float(adj.mean()), float(np.sqrt(resid @ resid / dof / K))
