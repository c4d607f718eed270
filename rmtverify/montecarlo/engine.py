"""Monte Carlo of masked SSR: E_train and E_gen at finite d, seeded and cached.

One sample = one sample covariance S with the law of XᵀX/n for n = round(αd)
Gaussian rows of the model, drawn as S = FᵀF/n from Bartlett's factor F
(min(n, d) pseudo-rows, :mod:`rmtverify.wishart`), and one factorisation from
which every observable follows:

- a grid of λ: one symmetric eigendecomposition S = V diag(s) Vᵀ serves every
  λ with O(d²) work per λ when Σ = cI + low rank (isotropic, spiked):
  diag Q = (V∘V)(s + λ)^{-1}, [QSQ]_kk = (V∘V)(s/(s + λ)²),
  [Q²]_kk = (V∘V)(s + λ)^{-2}, QU = V diag(r) VᵀU; for any other Σ one
  symmetric rank-d product Q = (V√r)(V√r)ᵀ per λ and the model's Σ-product;
- a single λ: one Cholesky factorisation of S + λI and its inverse Q (a
  third of the cost of an eigendecomposition), with [QSQ]_kk = q_k − λ[Q²]_kk;
  when that difference would lose more than ~1e-13 to cancellation (small λ,
  α < 1: a cheap bound from the norms decides) the eigendecomposition is used;
- the spectrum of Â = I − QD^{-1}: its eigenvalues are 1 − 1/μ with μ the
  eigenvalues of M = D^{1/2}(S + λI)D^{1/2} (the inverse of D^{-1/2}QD^{-1/2}),
  so one Cholesky factor and its triangular inverse for D, and one eigvalsh of M;
- spikes: the top eigenpairs of S and of M (Lanczos from d = 256, LAPACK's
  subset driver below).

E_gen = (1/d) Σ_k [QΣQ]_kk / q_k² = ‖Σ^{1/2} Q D^{-1}‖²_F / d; no explicit Â.

Seeds. Sample i at dimension d of configuration ``key`` uses
``SeedSequence(root_seed, spawn_key=(crc32(key), d, i))``: the numbers do not
depend on how many samples are drawn, in which order, or where. Samples run
through an :mod:`executor <rmtverify.executor>` (serial, local processes or a
Dask cluster), always with one BLAS thread, so every executor gives the same
numbers bit for bit; finished samples are cached by the calling process as
they arrive (:class:`~rmtverify.storage.SampleCache`, atomic writes).
"""

from __future__ import annotations

import sys
import time
import zlib
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.montecarlo.executor import get_executor, one_blas_thread
from rmtverify.models.base import CovarianceModel
from rmtverify.core.params import parse
from rmtverify.core.storage import SampleCache

#: bump when the observables' code changes, so cached samples are not reused
ENGINE_VERSION = "2"
#: how the engine draws a sample, for the run record of every report that uses it
SAMPLER = (
    f"engine {ENGINE_VERSION}: S = FᵀF/n with F Bartlett's factor of n Gaussian rows mapped by Σ's root "
    "(exactly the law of XᵀX/n; rmtverify.wishart), min(n, d) pseudo-rows per sample, one BLAS thread"
)
OBSERVABLES = ("e_train", "e_gen")
METHODS = ("auto", "eigh", "cholesky")

#: the Cholesky route's [QSQ]_kk = q_k − λ[Q²]_kk is used only while this bound on its relative
#: rounding error, eps·‖S+λI‖_F‖Q‖_F·max_k(λ[Q²]_kk/[QSQ]_kk), stays below it (actual errors are
#: 100–1000 times smaller than the bound: ≲ 1e-13)
CHOLESKY_ERROR_BOUND = 1e-10


def sample_size(alpha: Fraction, d: int) -> int:
    """n = round(α d), at least 1."""
    n = int(Fraction(alpha) * d + Fraction(1, 2))
    if n < 1:
        raise InputError("alpha", f"alpha * d must give at least one sample; got alpha = {alpha}, d = {d}")
    return n


def seed_sequence(root_seed: int, config_key: str, d: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(root_seed, spawn_key=(zlib.crc32(config_key.encode()), d, index))


# ------------------------------------------------------------------ one sample


def _data(model: CovarianceModel, d: int, n: int, ss: np.random.SeedSequence):
    """(F, S): S = FᵀF/n has the law of the sample covariance of n rows; F is Bartlett's factor mapped
    by the model's root (min(n, m) pseudo-rows; every observable of the engine is a function of S)."""
    F = model.gram_factor(n, d, np.random.default_rng(ss))
    return F, F.T @ F / n


def _lowrank(model: CovarianceModel, d: int):
    f = getattr(model, "sigma_lowrank", None)
    return f(d) if f is not None else None


def _shifted(S: np.ndarray, lam: float) -> np.ndarray:
    A = S.copy()
    A.flat[:: A.shape[0] + 1] += lam
    return A


def _from_cholesky(A: np.ndarray, routine: str):
    """LAPACK ``routine`` (dpotri or dtrtri) applied in place to A's lower Cholesky factor (strict upper
    triangle zeroed); None if A is not numerically positive definite or the routine fails."""
    from scipy.linalg import lapack

    c, info = lapack.dpotrf(A, lower=1, clean=1)
    if info != 0:
        return None
    out, info = getattr(lapack, routine)(c, lower=1, overwrite_c=1)
    return out if info == 0 else None


def _inverse(A: np.ndarray):
    """(S + λI)^{-1} as a full symmetric matrix, by Cholesky; None if A is not numerically positive definite."""
    inv = _from_cholesky(A, "dpotri")
    if inv is None:
        return None
    # potri fills the lower triangle and leaves the strict upper one as potrf's clean=1 left it, 0:
    # the sum copies every off-diagonal entry exactly, and halving the doubled diagonal is exact
    Q = inv + inv.T
    Q.flat[:: Q.shape[0] + 1] *= 0.5
    return Q


def _gen_terms_from_q(model, d, Q, Q2, low):
    """[QΣQ]_kk for every k, given Q and [Q²]_kk."""
    if low is not None:
        c, U, theta = low
        g = c * Q2
        if U.shape[1]:
            G = Q @ U
            g = g + (G * G) @ theta
        return g
    return np.einsum("ij,ij->j", Q, model.sigma_apply(d, Q))


def _errors_cholesky(model, d, S, lam):
    A = _shifted(S, lam)
    a_norm = np.sqrt(np.einsum("ij,ij->", A, A))
    Q = _inverse(A)
    if Q is None:
        return None
    q = Q.diagonal().copy()
    Q2 = np.einsum("ij,ij->j", Q, Q)  # [Q²]_kk
    qsq = q - lam * Q2  # [QSQ]_kk, since QSQ = Q − λQ²
    if not np.all(qsq > 0):
        return None
    amp = float(np.max(lam * Q2 / qsq))
    if np.finfo(float).eps * a_norm * np.sqrt(np.sum(Q2)) * max(amp, 1.0) > CHOLESKY_ERROR_BOUND:
        return None  # cancellation would cost digits: the eigendecomposition route instead
    g = _gen_terms_from_q(model, d, Q, Q2, _lowrank(model, d))
    return float(np.mean(qsq / (q * q))), float(np.mean(g / (q * q)))


def _errors_eigh(model, d, S, lams):
    s, V = np.linalg.eigh(S)
    s = np.clip(s, 0.0, None)  # S is PSD; round-off can make a zero eigenvalue slightly negative
    return errors_from_eigh(model, d, s, V, lams)


class EigenSandwich:
    """diag P and diag PΣP for P = V diag(p) Vᵀ, for many p on one eigenbasis V of S.

    When Σ = cI + U diag(θ) Uᵀ (r ≪ d) each p costs O(d² r): [PΣP]_jj = c[P²]_jj + Σ_i θ_i (PU)_ji²;
    otherwise one symmetric rank-d product (syrk) and Σ applied to it."""

    def __init__(self, model, d: int, V: np.ndarray):
        self.model, self.d, self.V = model, d, V
        self.V2 = V * V
        self.low = _lowrank(model, d)
        self.W = V.T @ self.low[1] if self.low is not None and self.low[1].shape[1] else None  # VᵀU, once

    def diag(self, p: np.ndarray) -> np.ndarray:
        return self.V2 @ p

    def psp(self, p: np.ndarray) -> np.ndarray:
        """diag PΣP (p > 0)."""
        if self.low is not None:
            c, _, theta = self.low
            g = c * (self.V2 @ (p * p))
            if self.W is not None:
                G = self.V @ (p[:, None] * self.W)  # PU
                g = g + (G * G) @ theta
            return g
        R = self.V * np.sqrt(p)
        P = R @ R.T
        return np.einsum("ij,ij->j", P, self.model.sigma_apply(self.d, P))

    def masked(self, p: np.ndarray) -> float:
        """(1/d) Σ_j [PΣP]_jj / P_jj²: the masked predictor's error (E_gen when P = Q)."""
        q = self.diag(p)
        return float(np.mean(self.psp(p) / (q * q)))


def errors_from_eigh(model, d, s, V, lams) -> dict:
    """E_train and E_gen for every λ in ``lams`` from S = V diag(s) Vᵀ (the per-λ part of the eigh route)."""
    eig = EigenSandwich(model, d, V)
    out = {k: [] for k in OBSERVABLES}
    for lam in lams:
        r = 1.0 / (s + lam)
        q = eig.diag(r)  # diag Q
        qsq = eig.diag(s * r * r)  # diag QSQ
        out["e_train"].append(float(np.mean(qsq / (q * q))))
        out["e_gen"].append(float(np.mean(eig.psp(r) / (q * q))))  # eig.masked(r), reusing diag Q
    return out


def sample_observables(model: CovarianceModel, d: int, n: int, lams, ss: np.random.SeedSequence, method: str = "auto") -> dict:
    """E_train and E_gen of one data set, for every λ in ``lams`` (floats).

    ``method``: ``auto`` (Cholesky for a single λ when it is accurate, else the eigendecomposition),
    ``eigh`` or ``cholesky`` (one factorisation per λ; for benchmarks and tests).
    """
    _, S = _data(model, d, n, ss)
    return errors_from_gram(model, d, S, lams, method)


def errors_from_gram(model: CovarianceModel, d: int, S: np.ndarray, lams, method: str = "auto") -> dict:
    """E_train and E_gen for every λ in ``lams`` from the Gram matrix S = XᵀX/n (see ``sample_observables``)."""
    if method not in METHODS:
        raise InputError("method", f"one of {', '.join(METHODS)}; got {method!r}")
    lams = [float(lam) for lam in lams]
    if method == "cholesky" or (method == "auto" and len(lams) == 1):
        vals = [_errors_cholesky(model, d, S, lam) for lam in lams]
        if all(v is not None for v in vals):
            return {"e_train": [v[0] for v in vals], "e_gen": [v[1] for v in vals]}
    return _errors_eigh(model, d, S, lams)


def _diag_inverse_eigh(S, lam):
    s, V = np.linalg.eigh(S)
    return (V * V) @ (1.0 / (np.clip(s, 0.0, None) + lam))


def _diag_inverse(A: np.ndarray):
    """diag A^{-1} for a symmetric positive-definite A: with A = LLᵀ, A^{-1} = L^{-T}L^{-1}, so the diagonal
    is the squared column norms of L^{-1} (Cholesky and a triangular inverse: half the work of the full
    inverse); None if A is not numerically positive definite."""
    linv = _from_cholesky(A, "dtrtri")
    return None if linv is None else np.einsum("ij,ij->j", linv, linv)


def _m_matrix(S, lam):
    """(q, M = D^{1/2}(S + λI)D^{1/2}) with q = diag (S + λI)^{-1}."""
    A = _shifted(S, lam)
    q = _diag_inverse(A)
    if q is None:
        q = _diag_inverse_eigh(S, lam)
    h = np.sqrt(q)
    return q, A * h[:, None] * h[None, :]


def ssr_eigenvalues(model: CovarianceModel, d: int, n: int, lam: float, ss: np.random.SeedSequence) -> np.ndarray:
    """The eigenvalues of Â = I − QD^{-1} for one data set, ascending: 1 − 1/μ for μ in spec(D^{1/2}(S + λI)D^{1/2})."""
    _, S = _data(model, d, n, ss)
    _, M = _m_matrix(S, float(lam))
    mu = np.linalg.eigvalsh(M)
    return np.sort(1.0 - 1.0 / mu)


#: from this d on the top eigenpair comes from Lanczos iterations (ARPACK, tolerance = machine
#: precision, fixed start vector: deterministic), 2–4 times faster than LAPACK's subset driver, which
#: must tridiagonalise the whole matrix; below it, and if ARPACK does not converge, LAPACK
LANCZOS_MIN_D = 256


def _top_eigenpair(A: np.ndarray, k: int = 1):
    """The k largest eigenvalues of a symmetric matrix, ascending, and their unit eigenvectors (d × k)."""
    import scipy.linalg

    d = A.shape[0]
    if d >= LANCZOS_MIN_D and k <= d // 8:
        from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh

        try:
            w, U = eigsh(A, k=k, which="LA", tol=0, v0=np.ones(d), ncv=max(20, 2 * k + 1))
            order = np.argsort(w)
            return w[order], U[:, order]
        except (ArpackNoConvergence, ArpackError):
            pass
    return scipy.linalg.eigh(A, subset_by_index=[d - k, d - 1])


SPIKE_OBSERVABLES = ("s_top", "s_overlap", "a_top", "a_overlap")
SPIKE_CONTROLS = ("c_vsv", "c_vs2v")


def spike_observables(model: CovarianceModel, d: int, n: int, lam: float, ss: np.random.SeedSequence) -> dict:
    """Top eigenvalue and squared overlap with the first spike, for S and for Â (right eigenvector),
    plus two control variates with exactly known means (derivation bbp, wishart-second-moment):
    vᵀSv − vᵀΣv and vᵀS²v − (vᵀΣ²v(1 + 1/n) + vᵀΣv tr Σ/n)."""
    v = model.vectors(d)[:, 0]
    F, S = _data(model, d, n, ss)
    s_top, s_vec = _top_eigenpair(S)
    q, M = _m_matrix(S, float(lam))
    mu, U = _top_eigenpair(M)  # Â's top eigenvalue is 1 − 1/μ_max
    u = np.sqrt(q) * U[:, 0]  # Â's right eigenvector is D^{1/2} times M's
    u /= np.linalg.norm(u)
    Sv = F.T @ (F @ v) / n
    Sig_v = model.sigma_apply(d, v[:, None])[:, 0]
    tr_sigma = float(np.trace(model.sigma(d)))
    vsv, vs2v = float(v @ Sig_v), float(Sig_v @ Sig_v)
    return {
        "s_top": float(s_top[0]),
        "s_overlap": float((s_vec[:, 0] @ v) ** 2),
        "a_top": float(1.0 - 1.0 / mu[0]),
        "a_overlap": float((u @ v) ** 2),
        "c_vsv": float(v @ Sv) - vsv,
        "c_vs2v": float(Sv @ Sv) - (vs2v * (1 + 1 / n) + vsv * tr_sigma / n),
    }


def compute_sample(kind: str, model: CovarianceModel, d: int, n: int, lam, ss: np.random.SeedSequence):
    """One sample of observable ``kind``, with one BLAS thread (what every executor runs)."""
    with one_blas_thread():
        if kind == "errors":
            return sample_observables(model, d, n, lam, ss)
        if kind == "spectrum":
            return ssr_eigenvalues(model, d, n, lam, ss)
        if kind == "spike":
            return spike_observables(model, d, n, lam, ss)
    raise InputError("observable", f"one of errors, spectrum, spike; got {kind!r}")


# ------------------------------------------------------------------ many samples


@dataclass
class SampleJob:
    """One (d, seed) sample: its cache spec, the arguments of :func:`compute_sample`, its ladder point."""

    spec: dict
    args: tuple
    group: int = 0
    array: bool = False


def run_samples(jobs: list, cache: SampleCache | None, executor=None, progress=None) -> tuple[list, list, list]:
    """Values of every job, in the jobs' order: cached ones read back, the others computed by ``executor``
    (serial when None) and cached as they arrive. Returns (values, cache_hit flags, seconds until each
    value was in, from the call)."""
    cache = cache or SampleCache(None)
    t0 = time.perf_counter()
    values, hits, seconds = [None] * len(jobs), [False] * len(jobs), [0.0] * len(jobs)
    todo = []
    for j, job in enumerate(jobs):
        val = cache.get_array(job.spec) if job.array else cache.get(job.spec)
        if val is None:
            todo.append(j)
            continue
        values[j], hits[j] = val, True
        if progress is not None:
            progress.step(job.group, cached=True)
    if todo:
        for k, val in get_executor(executor).imap_unordered(compute_sample, [jobs[j].args for j in todo]):
            j = todo[k]
            if jobs[j].array:
                cache.put_array(jobs[j].spec, val)
            else:
                cache.put(jobs[j].spec, val)
            values[j], seconds[j] = val, time.perf_counter() - t0
            if progress is not None:
                progress.step(jobs[j].group)
    return values, hits, seconds


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
    """A one-line progress report on stderr, only when stderr is a terminal and not quiet.

    With ``groups`` (one (name, count, cost per sample) per ladder point) the line shows the ladder
    point whose sample finished last, its count and ETA, and the ETA of the whole ladder; samples may
    finish in any order (parallel executors). Cached samples count as done and cost nothing, so the
    rate — and the ETA — come from the samples actually computed.
    """

    def __init__(self, total: int, label: str, quiet: bool = False, groups=None):
        self.total, self.label = total, label
        self.enabled = not quiet and sys.stderr.isatty()
        self.done, self.t0 = 0, time.perf_counter()
        self.groups = list(groups) if groups else [(None, total, 1.0)]
        self.gdone = [0] * len(self.groups)
        self.work_left = [c * w for _, c, w in self.groups]  # cost still to compute, per group
        self.work_done = 0.0

    def step(self, group: int | None = None, cached: bool = False):
        g = group or 0
        self.done += 1
        self.gdone[g] += 1
        w = self.groups[g][2]
        self.work_left[g] -= w
        if not cached:
            self.work_done += w
        if not self.enabled:
            return
        el = time.perf_counter() - self.t0
        rate = el / self.work_done if self.work_done else 0.0
        name, count, _ = self.groups[g]
        eta_all = rate * max(sum(self.work_left), 0.0)
        if name is None:
            line = f"{self.label}: {self.done}/{self.total}  elapsed {el:5.1f}s  eta {eta_all:5.1f}s "
        else:
            eta_g = rate * max(self.work_left[g], 0.0)
            line = (
                f"{self.label} {name}: {self.gdone[g]}/{count} (eta {eta_g:5.1f}s)  "
                f"all {self.done}/{self.total}  elapsed {el:5.1f}s  eta {eta_all:5.1f}s "
            )
        sys.stderr.write("\r" + line)
        if self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _cost(d: int, n: int) -> float:
    """Relative cost of one sample (flops of the Gram matrix and one factorisation)."""
    return float(d) * d * (n + d)


def _ladder(ds, model: CovarianceModel) -> list:
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
    ds = _ladder(ladder, model)
    lams = tuple(parse("lam", lam) for lam in (lams if isinstance(lams, (list, tuple)) else [lams]))
    seeds = parse("seeds", seeds)
    root_seed = parse("seed", root_seed)
    ns = [sample_size(alpha, d) for d in ds]
    for d, n in zip(ds, ns):
        if any(lam == 0 for lam in lams) and n <= d:
            raise InputError("lam", f"lam = 0 needs n > d in Monte Carlo (S is singular); got n = {n}, d = {d}")
    key = config_key or f"{model.key()}|alpha={alpha}"
    lam_floats = [float(lam) for lam in lams]
    jobs = []
    for g, (d, n) in enumerate(zip(ds, ns)):
        for i in range(seeds):
            ss = seed_sequence(root_seed, key, d, i)
            spec = {
                "engine": ENGINE_VERSION,
                "model": model.key(),
                "d": d,
                "n": n,
                "lams": [str(lam) for lam in lams],
                "entropy": root_seed,
                "spawn_key": list(ss.spawn_key),
            }
            jobs.append(SampleJob(spec, ("errors", model, d, n, lam_floats, ss), g))
    progress = Progress(len(jobs), model.name, quiet, [(f"d={d}", seeds, _cost(d, n)) for d, n in zip(ds, ns)])
    values, hits, secs = run_samples(jobs, cache, executor, progress)
    out = []
    for g, (d, n) in enumerate(zip(ds, ns)):
        part = range(g * seeds, (g + 1) * seeds)
        out.append(
            Simulation(
                model=model.describe(),
                model_key=model.key(),
                alpha=alpha,
                d=d,
                n=n,
                lams=lams,
                root_seed=root_seed,
                values={k: np.array([values[j][k] for j in part], dtype=float).T for k in OBSERVABLES},  # (len(lams), K)
                seconds=max(secs[j] for j in part),
                cache_hits=sum(hits[j] for j in part),
                spawn_keys=[list(jobs[j].args[5].spawn_key) for j in part],
            )
        )
    return out


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


def spectra_ladder(model: CovarianceModel, alpha, lam, ladder, seeds: int, root_seed: int, cache: SampleCache | None, config_key: str, quiet: bool = True, executor=None) -> list[tuple[int, list]]:
    """[(n, [eigenvalues of Â per sample])] for every d of ``ladder``, seeded and cached like ``simulate``."""
    alpha, lam = parse("alpha", alpha), parse("lam", lam)
    ds = _ladder(ladder, model)
    ns = [sample_size(alpha, d) for d in ds]
    jobs = []
    for g, (d, n) in enumerate(zip(ds, ns)):
        for i in range(seeds):
            ss = seed_sequence(root_seed, config_key, d, i)
            spec = {"engine": ENGINE_VERSION, "observable": "ssr_eigenvalues", "model": model.key(), "d": d, "n": n, "lam": str(lam), "entropy": root_seed, "spawn_key": list(ss.spawn_key)}
            jobs.append(SampleJob(spec, ("spectrum", model, d, n, float(lam), ss), g, array=True))
    progress = Progress(len(jobs), f"{model.name} spectrum", quiet, [(f"d={d}", seeds, _cost(d, n)) for d, n in zip(ds, ns)])
    values, _, _ = run_samples(jobs, cache, executor, progress)
    return [(n, [np.asarray(values[j]) for j in range(g * seeds, (g + 1) * seeds)]) for g, n in enumerate(ns)]


def spectra(model: CovarianceModel, alpha, lam, d: int, seeds: int, root_seed: int, cache: SampleCache | None, config_key: str, quiet: bool = True, executor=None) -> tuple[int, list]:
    """(n, [eigenvalues of Â per sample]) at one d, seeded and cached like ``simulate``."""
    return spectra_ladder(model, alpha, lam, [parse("d", d)], seeds, root_seed, cache, config_key, quiet, executor)[0]


def spike_ladder(model_for_seed, alpha, lam, ladder, seeds: int, root_seed: int, cache: SampleCache | None, config_key: str, quiet: bool = True, executor=None) -> list[tuple[int, dict]]:
    """[(n, {observable: array over seeds})] for every d of ``ladder``; ``model_for_seed(i)`` may give
    each sample its own spike direction."""
    alpha, lam = parse("alpha", alpha), parse("lam", lam)
    ds = [parse("d", d) for d in (ladder if isinstance(ladder, (list, tuple)) else [ladder])]
    ns = [sample_size(alpha, d) for d in ds]
    models = [model_for_seed(i) for i in range(seeds)]
    jobs = []
    for g, (d, n) in enumerate(zip(ds, ns)):
        for i, model in enumerate(models):
            ss = seed_sequence(root_seed, config_key, d, i)
            spec = {"engine": ENGINE_VERSION, "observable": "spike", "model": model.key(), "d": d, "n": n, "lam": str(lam), "entropy": root_seed, "spawn_key": list(ss.spawn_key)}
            jobs.append(SampleJob(spec, ("spike", model, d, n, float(lam), ss), g))
    progress = Progress(len(jobs), "spike", quiet, [(f"d={d}", seeds, _cost(d, n)) for d, n in zip(ds, ns)])
    values, _, _ = run_samples(jobs, cache, executor, progress)
    keys = SPIKE_OBSERVABLES + SPIKE_CONTROLS
    return [(n, {k: np.array([values[j][k] for j in range(g * seeds, (g + 1) * seeds)]) for k in keys}) for g, n in enumerate(ns)]


def spike_samples(model_for_seed, alpha, lam, d: int, seeds: int, root_seed: int, cache: SampleCache | None, config_key: str, quiet: bool = True, executor=None) -> tuple[int, dict]:
    """(n, {observable: array over seeds}) at one d; ``model_for_seed(i)`` may give each sample its own spike direction."""
    return spike_ladder(model_for_seed, alpha, lam, [d], seeds, root_seed, cache, config_key, quiet, executor)[0]


#: folds of the cross-fitted control variates (each fold's coefficients come from the other folds)
CV_FOLDS = 8


def control_variate_mean(y: np.ndarray, controls: np.ndarray, folds: int = CV_FOLDS) -> tuple[float, float]:
    """Mean and standard error of y with the mean-zero controls regressed out, cross-fitted.

    The samples are split into ``folds`` folds; a sample's adjusted value is y_i − β·c_i with β fitted on
    the other folds, never on the sample it corrects. Fitting β in-sample (the textbook estimator) biases
    the mean by O(1/K) and understates its SE whenever y is not exactly linear in the controls: at K = 24
    the outlier of a spiked Wishart matrix came out 0.4–0.6 SE off on average, with an SD of the z-score
    of 1.2–1.6 instead of 1 (tests/test_wishart.py measures both). Cross-fitted, the adjusted values
    are nearly independent and their plain SE is honest. Fewer than 2(p + 2) samples: the plain mean.
    """
    y = np.asarray(y, dtype=float)
    C = np.asarray(controls, dtype=float)
    K, p = C.shape
    folds = min(folds, K)
    if K < 2 * (p + 2):
        return float(np.mean(y)), float(np.std(y, ddof=1) / np.sqrt(K))
    fold = np.arange(K) % folds
    adj = np.empty(K)
    for f in range(folds):
        fit, out = fold != f, fold == f
        Cf = C[fit] - C[fit].mean(axis=0)
        beta, *_ = np.linalg.lstsq(Cf, y[fit] - y[fit].mean(), rcond=None)
        adj[out] = y[out] - C[out] @ beta
    return float(np.mean(adj)), float(np.std(adj, ddof=1) / np.sqrt(K))
