"""Estimates from Monte Carlo samples: plain means, control-variate means, paired sign tests.

Every estimate carries its standard error; the verdicts (:mod:`rmtverify.verification.verdict`) read
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmtverify.verification.verdict import FAIL, INCONCLUSIVE, PASS

#: folds of the cross-fitted control variates (each fold's coefficients come from the other folds)
CV_FOLDS = 8


@dataclass(frozen=True)
class Estimate:
    """A mean over K samples with its standard error, and the spread (SD) of the samples."""

    mean: float
    se: float
    sd: float
    k: int


def plain_mean(y) -> Estimate:
    y = np.asarray(y, dtype=float)
    sd = float(np.std(y, ddof=1))
    return Estimate(float(np.mean(y)), sd / np.sqrt(len(y)), sd, len(y))


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


def estimate(y, controls=None) -> Estimate:
    """The plain mean, or with ``controls`` (K × p, mean zero) the cross-fitted control-variate mean."""
    if controls is None or np.asarray(controls).shape[1] == 0:
        return plain_mean(y)
    m, se = control_variate_mean(y, controls)
    return Estimate(m, se, float(np.std(np.asarray(y, dtype=float), ddof=1)), len(y))


@dataclass(frozen=True)
class SignTest:
    """A paired difference whose sign is predicted: PASS when it has that sign and is ≥ z SE from 0."""

    status: str
    mean: float
    se: float
    reason: str


def sign_test(diff, predicted: int, z: float = 4.0, what: str = "difference") -> SignTest:
    """The mean of ``diff`` over samples must have the sign ``predicted`` (+1 or −1) and be resolved."""
    diff = np.asarray(diff, dtype=float)
    m = float(np.mean(diff))
    se = float(np.std(diff, ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 and np.std(diff) > 0 else 0.0
    want = "positive" if predicted > 0 else "negative"
    if se == 0.0:
        ok = m * predicted > 0
        return SignTest(PASS if ok else FAIL, m, se, f"{what} {m:+.4g} (exact), predicted {want}")
    t = m / se
    if abs(t) < z:
        return SignTest(INCONCLUSIVE, m, se, f"{what} {m:+.4g} ± {se:.1g} is not resolved ({abs(t):.1f} SE < {z:g}); predicted {want}")
    if t * predicted < 0:
        return SignTest(FAIL, m, se, f"{what} {m:+.4g} ± {se:.1g} ({abs(t):.0f} SE) has the wrong sign: predicted {want}")
    return SignTest(PASS, m, se, f"{what} {m:+.4g} ± {se:.1g} ({abs(t):.0f} SE), {want} as predicted")
