"""Bartlett's factor: the Monte Carlo draws S = FᵀF/n instead of XᵀX/n, so its law must be the same.

Checked on exact Wishart moments (and shown to catch a factor with one degree of freedom too few), and
model by model against the rows route, on the first two moments of S.
"""

from __future__ import annotations

import numpy as np
import pytest

from rmtverify.core.exceptions import InputError
from rmtverify.models import make_model
from rmtverify.montecarlo.engine import seed_sequence
from rmtverify.montecarlo.sample import Sample, gram_factor
from rmtverify.montecarlo.wishart import bartlett_factor
from rmtverify.verification.statistics import control_variate_mean


def _wishart_moment_z(draw, n, m, R, seed):
    """max |z| of the sample moments of W = UᵀU against Wishart_m(n, I): E W = nI, E W_ii² = n² + 2n,
    E W_ij² = n (i ≠ j), E tr W² = nm(n + m + 1)."""
    rng = np.random.default_rng(seed)
    Ws = np.array([(lambda U: U.T @ U)(draw(n, m, rng)) for _ in range(R)])
    eye = np.eye(m, dtype=bool)
    stats = [
        (Ws[:, eye], np.full(m, float(n))),
        (Ws[:, ~eye], np.zeros(m * m - m)),
        (Ws[:, eye] ** 2, np.full(m, float(n * n + 2 * n))),
        (Ws[:, ~eye] ** 2, np.full(m * m - m, float(n))),
        (np.einsum("rij,rij->r", Ws, Ws)[:, None], np.array([float(n * m * (n + m + 1))])),
    ]
    return max(float(np.max(np.abs(x.mean(axis=0) - mu) / (x.std(axis=0, ddof=1) / np.sqrt(R)))) for x, mu in stats)


def _one_dof_off(n, m, rng):
    U = bartlett_factor(n, m, rng)
    k = U.shape[0]
    U[np.arange(k), np.arange(k)] = np.sqrt(rng.chisquare(n - np.arange(k) + 1))  # χ_{n−i+2}: the index slip
    return U


@pytest.mark.parametrize("n,m", [(7, 4), (3, 5), (5, 5)])
def test_bartlett_factor_has_the_wishart_moments(n, m):
    U = bartlett_factor(n, m, np.random.default_rng(0))
    k = min(n, m)
    assert U.shape == (k, m) and np.all(np.tril(U, -1) == 0) and np.all(np.diag(U) > 0)
    assert _wishart_moment_z(bartlett_factor, n, m, 20000, 1) < 4.5
    # the same moments reject a factor whose χ degrees of freedom are off by one
    assert _wishart_moment_z(_one_dof_off, n, m, 20000, 1) > 8


def test_bartlett_factor_rejects_bad_sizes():
    for n, m in [(0, 3), (3, 0), (2.5, 3)]:
        with pytest.raises(InputError):
            bartlett_factor(n, m, np.random.default_rng(0))


MODELS = [
    lambda: make_model("isotropic"),
    lambda: make_model("ar1", rho="0.7"),
    lambda: make_model("ar1", rho="-0.5", boundary="circulant"),
    lambda: make_model("spiked", theta="4,2", rank=2, spike="random"),
    lambda: make_model("spiked", theta=3, spike="flat", base="ar1", rho="0.5"),
    lambda: make_model("mixture", atoms="1,4", weights="0.25,0.75"),
]


@pytest.mark.parametrize("make", MODELS, ids=["isotropic", "ar1", "ar1-circulant", "spiked-random", "spiked-ar1", "mixture"])
@pytest.mark.parametrize("n", [30, 7])  # α > 1 (d pseudo-rows) and α < 1 (n of them)
def test_gram_factor_gives_the_law_of_the_sample_covariance(make, n):
    """E S = Σ entry by entry, and E tr S²/d agrees between Bartlett's factor and the rows."""
    model, d, R = make(), 10, 3000
    rng_f, rng_x = (np.random.default_rng(seed_sequence(0, "bartlett-law", d, n)),
                    np.random.default_rng(seed_sequence(1, "bartlett-law", d, n)))
    SF = np.array([(lambda F: F.T @ F / n)(gram_factor(model, n, d, rng_f)) for _ in range(R)])
    SX = np.array([(lambda X: X.T @ X / n)(model.sample(n, d, rng_x)) for _ in range(R)])
    assert gram_factor(model, n, d, rng_f).shape == (min(n, model.noise_dim(d)), d)
    sigma = model.sigma(d)
    z_mean = np.abs(SF.mean(axis=0) - sigma) / (SF.std(axis=0, ddof=1) / np.sqrt(R) + 1e-300)
    assert np.max(z_mean[SF.std(axis=0) > 0]) < 5
    q_f, q_x = np.einsum("rij,rij->r", SF, SF) / d, np.einsum("rij,rij->r", SX, SX) / d

    def z(a, b):
        return abs(a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / R + b.var(ddof=1) / R)

    assert z(q_f, q_x) < 4
    # teeth: the same criterion rejects n − 1 samples passed off as n
    short = np.array([(lambda F: np.sum((F.T @ F / n) ** 2) / d)(gram_factor(model, n - 1, d, rng_f)) for _ in range(R)])
    assert z(short, q_x) > 4


def test_cross_fitted_control_variate_is_calibrated_where_the_in_sample_one_is_not():
    """Replicated K = 24 estimates of a spiked outlier at d = 64: z-scores against the pooled mean."""

    def in_sample(y, C):
        Cc = C - C.mean(axis=0)
        beta, *_ = np.linalg.lstsq(Cc, y - y.mean(), rcond=None)
        adj = y - C @ beta
        resid = adj - adj.mean()
        return float(adj.mean()), float(np.sqrt(resid @ resid / (len(y) - 1 - C.shape[1]) / len(y)))

    model, d, K, R = make_model("spiked", theta=7, spike="flat"), 64, 24, 300
    vals = [Sample(model, d, 2 * d, seed_sequence(5, "cv-calibration", d, i)).spike(0.1) for i in range(R * K)]
    C2 = np.array([[v["c_vsv"], v["c_vs2v"]] for v in vals])
    for key in ("s_top", "s_overlap", "a_top", "a_overlap"):
        y = np.array([v[key] for v in vals])
        mu = control_variate_mean(y, C2[:, :1], folds=50)[0]
        z = np.array([(lambda m: (m[0] - mu) / m[1])(control_variate_mean(y[r * K : (r + 1) * K], C2[r * K : (r + 1) * K, :1]))
                      for r in range(R)])
        assert abs(z.mean()) < 0.2 and 0.85 < z.std() < 1.18, (key, z.mean(), z.std())
    y = np.array([v["s_top"] for v in vals])
    z_old = np.array([(lambda m: (m[0] - mu_old) / m[1])(in_sample(y[r * K : (r + 1) * K], C2[r * K : (r + 1) * K]))
                      for r in range(R) for mu_old in [control_variate_mean(y, C2[:, :1], folds=50)[0]]])
    assert abs(z_old.mean()) > 0.25 or z_old.std() > 1.25  # the estimator it replaced: biased and overconfident
