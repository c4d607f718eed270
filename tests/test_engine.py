"""The engine's routes (one Cholesky inverse, one eigendecomposition, Lanczos top pairs) against an
explicit construction of Â, and the warm-started κ solve against the cold one."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from rmtverify.core.params import INF
from rmtverify.core.precision import deliver
from rmtverify.models import make_model
from rmtverify.montecarlo import kernels
from rmtverify.montecarlo.bench import naive_errors
from rmtverify.montecarlo.engine import seed_sequence
from rmtverify.montecarlo.kernels import errors_from_gram
from rmtverify.montecarlo.sample import Sample, gram_factor
from rmtverify.theory.equivalents import TheoryResult, equivalents, equivalents_in
from rmtverify.theory.kappa import solve_kappa


def _custom():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((48, 48))
    return make_model("custom", sigma=A @ A.T / 48 + 0.3 * np.eye(48))


MODELS = [
    ("isotropic", lambda: make_model("isotropic")),
    ("ar1", lambda: make_model("ar1", rho="0.7")),
    ("ar1-circulant", lambda: make_model("ar1", rho="-0.5", boundary="circulant")),
    ("spiked-random", lambda: make_model("spiked", theta="4,2", rank=2, spike="random")),
    ("spiked-e1", lambda: make_model("spiked", theta=9, spike="e1")),
    ("spiked-ar1", lambda: make_model("spiked", theta=3, spike="flat", base="ar1", rho="0.5")),
    ("mixture", lambda: make_model("mixture", atoms="1,4", weights="0.25,0.75")),
    ("custom", _custom),
]


def _data(model, d, n, ss):
    """What the engine draws for this seed: Bartlett's factor F with S = FᵀF/n."""
    return gram_factor(model, n, d, np.random.default_rng(ss))


@pytest.mark.parametrize("name,make", MODELS, ids=[m[0] for m in MODELS])
@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_every_route_gives_the_explicit_construction(name, make, alpha):
    model = make()
    d = 48
    n = int(alpha * d)
    ss = seed_sequence(2, "engine-routes", d, 0)
    X = _data(model, d, n, ss)
    lams = [0.05, 0.3, 2.0]
    ref = naive_errors(model, d, X, lams, n)  # Â = I − QD^{-1} formed explicitly
    for method in ("eigh", "cholesky"):
        got = Sample(model, d, n, ss).ssr_errors(lams, method)
        for obs in ("e_train", "e_gen"):
            assert np.allclose(got[obs], ref[obs], rtol=1e-11, atol=0), (method, obs)
    one = Sample(model, d, n, ss).ssr_errors([0.3])  # auto, one λ: the Cholesky route
    assert np.allclose(one["e_gen"], ref["e_gen"][1], rtol=1e-11, atol=0)
    assert not np.isclose(ref["e_gen"][0], ref["e_gen"][2], rtol=1e-3)  # λ matters: the check has teeth


def test_cholesky_route_steps_aside_when_cancellation_would_cost_digits():
    model = make_model("isotropic")
    d, n = 64, 32  # α < 1 and a tiny λ: [QSQ]_kk = q_k − λ[Q²]_kk cancels
    S = (lambda X: X.T @ X / n)(_data(model, d, n, seed_sequence(0, "cancel", d, 0)))
    assert kernels.errors_cholesky(model, d, S, 1e-4) is None
    assert errors_from_gram(model, d, S, [1e-4]) == errors_from_gram(model, d, S, [1e-4], "eigh")
    assert kernels.errors_cholesky(model, d, S, 0.2) is not None  # a moderate λ keeps the fast route


def _explicit_ssr(X, lam, n):
    d = X.shape[1]
    Q = np.linalg.inv(X.T @ X / n + lam * np.eye(d))
    return np.eye(d) - Q / np.diag(Q)[None, :]


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_ssr_eigenvalues_are_those_of_the_explicit_matrix(alpha):
    model = make_model("ar1", rho="0.6")
    d = 80
    n = int(alpha * d)
    ss = seed_sequence(1, "spectrum-route", d, 3)
    ev = Sample(model, d, n, ss).ssr_eigenvalues(0.1)
    ref = np.sort(np.linalg.eigvals(_explicit_ssr(_data(model, d, n, ss), 0.1, n)).real)
    assert np.all(np.diff(ev) >= 0) and len(ev) == d
    assert np.max(np.abs(ev - ref)) < 1e-10
    assert np.ptp(ev) > 0.1  # a spread-out spectrum


@pytest.mark.parametrize("d", [64, 300])  # LAPACK subset driver below 256, Lanczos from 256
@pytest.mark.parametrize("theta", [0.5, 6])  # below and above the threshold
def test_spike_observables_against_dense_eigendecompositions(d, theta):
    assert (d >= kernels.LANCZOS_MIN_D) == (d == 300)
    model = make_model("spiked", theta=theta, spike="flat")
    n, lam = 2 * d, 0.1
    ss = seed_sequence(4, "spike-route", d, 0)
    got = Sample(model, d, n, ss).spike(lam)
    X = _data(model, d, n, ss)
    v = model.spike_directions(d)[:, 0]
    s, V = np.linalg.eigh(X.T @ X / n)
    w, U = np.linalg.eig(_explicit_ssr(X, lam, n))
    top = np.argmax(w.real)
    u = U[:, top].real / np.linalg.norm(U[:, top].real)
    assert abs(got["s_top"] - s[-1]) < 1e-12 * s[-1]
    assert abs(got["s_overlap"] - (V[:, -1] @ v) ** 2) < 1e-10
    assert abs(got["a_top"] - w.real[top]) < 1e-10
    assert abs(got["a_overlap"] - (u @ v) ** 2) < 1e-9
    if theta == 6:
        assert got["s_overlap"] > 0.5 and got["a_overlap"] > 0.5  # above threshold: the vectors found the spike


@pytest.mark.parametrize("model", [make_model("ar1", rho="0.7"), make_model("spiked", theta=4, spike="flat"), make_model("isotropic")],
                         ids=["ar1", "spiked", "isotropic"])
@pytest.mark.parametrize("alpha,lam", [("2", "0.1"), ("0.5", "0.2"), ("3", "0.001"), ("0.5", "0")])
def test_warm_started_theory_equals_the_cold_solve(model, alpha, lam):
    """equivalents() starts Newton from lower-precision roots; the delivered digits are those of the cold solve."""
    d = model.check_d(None)
    ctx, cold = deliver(lambda c: equivalents_in(model, Fraction(alpha), Fraction(lam), d, c), 50, "cold")
    cold_res = TheoryResult(model.describe(), d, Fraction(alpha), Fraction(lam), 50, ctx, **cold,
                            limit=model.limit_description() if d == INF else None)
    assert equivalents(model, alpha, lam, d=None, dps=50).as_dict() == cold_res.as_dict()


def test_warm_start_takes_fewer_iterations():
    from mpmath import fp

    from rmtverify.core.precision import context

    model = make_model("ar1", rho="0.7")
    calls = {"n": 0}

    class Counting:
        def __init__(self, res):
            self.res, self.mean_sigma = res, res.mean_sigma

        def trace(self, k):
            calls["n"] += 1
            return self.res.trace(k)

    ctx = context(62)
    cold = solve_kappa(Counting(model.resolvent(INF, ctx)), Fraction(2), Fraction(1, 10), ctx)
    n_cold, calls["n"] = calls["n"], 0
    start = solve_kappa(model.resolvent(INF, fp), Fraction(2), Fraction(1, 10), fp)
    warm = solve_kappa(Counting(model.resolvent(INF, ctx)), Fraction(2), Fraction(1, 10), ctx, start=start)
    assert abs(warm - cold) <= ctx.mpf(10) ** -58 * cold
    assert calls["n"] <= 6 < n_cold
    # a start outside the bracket is ignored, not trusted
    assert abs(solve_kappa(model.resolvent(INF, ctx), Fraction(2), Fraction(1, 10), ctx, start=50.0) - cold) <= ctx.mpf(10) ** -58 * cold


@pytest.mark.parametrize(
    "make",
    [lambda: make_model("spiked", theta=4, spike="flat"), lambda: make_model("ar1", rho="0.6"),
     lambda: make_model("spiked", theta="3,2", rank=2, spike="random", base="ar1", rho="0.5")],
    ids=["spiked-flat", "ar1", "spiked-ar1"],
)
@pytest.mark.parametrize("n", [600, 150])
def test_pca_top_k_route_equals_the_eigendecomposition(make, n):
    """Few PCA directions: Lanczos for the top k and a Cholesky inverse for SSR give the eigh route's numbers."""
    from rmtverify.montecarlo.kernels import PARTIAL_K_MAX, masked_error, pca_eigh, pca_top_k

    model, d, ks = make(), 300, [1, 3, PARTIAL_K_MAX]
    assert d >= kernels.LANCZOS_MIN_D
    F = gram_factor(model, n, d, np.random.default_rng(seed_sequence(0, "pca-top-k", d, n)))
    S = F.T @ F / n
    fast, ref = pca_top_k(model, d, n, 0.1, ks, S), pca_eigh(model, d, n, 0.1, ks, S)
    assert fast is not None
    assert abs(fast["e_ssr"] / ref["e_ssr"] - 1) < 1e-12
    for key in ("recon", "masked"):
        assert np.allclose(fast[key], ref[key], rtol=1e-12, atol=0), key
        assert abs(ref[key][1] / ref[key][0] - 1) > 1e-4  # k matters: the comparison has teeth
    # both routes share the low-rank PPCA formula: check it against P = V diag(p) Vᵀ formed explicitly
    s, V = np.linalg.eigh(S)
    s = np.clip(s, 0, None)
    for k, got in zip(ks, ref["masked"]):
        p = np.concatenate([np.full(d - k, 1 / np.mean(s[: d - k])), 1 / s[d - k :]])
        P = (V * p) @ V.T
        explicit = masked_error(P, lambda B: model.sigma(d) @ B, d)
        assert abs(got / explicit - 1) < 1e-12, (k, got, explicit)
