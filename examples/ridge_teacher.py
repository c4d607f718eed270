"""Ordinary ridge regression's test error with a teacher vector, against its deterministic equivalent.

Labels y = xᵀβ + σε for x ~ N(0, Σ), ε ~ N(0, 1), and a teacher β ~ N(0, I/d); the ridge estimator
b = Q Xᵀy/n with Q = (S + λI)^{-1}. Given the data, the test error averaged over the teacher and the noise is
σ² + (λ²/d) tr QΣQ + (σ²/n) tr ΣQSQ (since QS − I = −λQ): a normalised trace, so its gap is O(1/d).
Deterministic equivalent (Hastie, Montanari, Rosset & Tibshirani 2022; Bach 2024):
E_test ≍ σ² + (κ (df1 − df2)/d + σ² df2/n) / (1 − df2/n).
"""

name = "ridge-teacher"
statement = "E_test ≍ σ² + (κ (df1 − df2)/d + σ² df2/n) / (1 − df2/n) for ridge regression with a teacher β ~ N(0, I/d)"
points = [
    {"model": "isotropic", "alpha": "2", "lam": "0.1", "noise": "0.5"},
    {"model": "ar1", "rho": "0.6", "alpha": "1.5", "lam": "0.2", "noise": "0.5"},
]
labels = {"test_error": "ridge test error"}
draw = "gram"  # a function of S alone


def observe(sample, point):
    Q, S, Sigma, d, n = sample.Q(point.lam), sample.S, sample.Sigma, sample.d, sample.n
    noise2, lam = float(point["noise"]) ** 2, float(point.lam)
    QSigma = Q @ Sigma
    bias = lam**2 * (QSigma * Q.T).sum() / d  # (λ²/d) tr QΣQ
    variance = noise2 * (QSigma * (Q @ S).T).sum() / n  # (σ²/n) tr ΣQSQ
    return {"test_error": noise2 + bias + variance}


def theory(point, d):
    t = point.equivalents(d)  # κ, df1/d, df2/d at the sample's own n/d (double precision), or to 30 digits at d = ∞
    noise2 = t.ctx.mpf(point["noise"]) ** 2
    a = t.ctx.mpf(t.alpha.numerator) / t.alpha.denominator
    return {"test_error": noise2 + (t.kappa * (t.df1 - t.df2) + noise2 * t.df2 / a) / (1 - t.df2 / a)}
