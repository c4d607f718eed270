"""Masked self-supervised regression, as an estimator a reader can predict.

``MaskedSSR(lam).fit(X)`` computes the closed form Â = I − Q D^{-1}
(derivation ssr_closed_form), with Q = (XᵀX/n + λI)^{-1} and D = diag(Q):
``ssr_from_resolvent`` (NumPy) and ``ssr_from_resolvent_mp`` (an mpmath
context) build Â from Q with the derivation's entry Â_ij = δ_ij − Q_ij/Q_jj.
``masked_ridge_reference`` runs the d masked ridge regressions one by one;
it exists to verify the closed form (claim C1).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import parse
from rmtverify.symbolic.formulas import Formulas, numpy_function


def _check_data(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise InputError("X", f"must be a 2-d array (n samples x d coordinates); got shape {X.shape}")
    n, d = X.shape
    if n < 1 or d < 2:
        raise InputError("X", f"needs n >= 1 rows and d >= 2 columns; got {n} x {d}")
    if not np.all(np.isfinite(X)):
        raise InputError("X", "has NaN or infinite entries")
    return X


def _ridge_matrix(X, lam):
    n, d = X.shape
    lam = parse("lam", lam)
    if lam == 0 and n <= d:
        raise InputError("lam", f"lam = 0 needs n > d (S is singular); got n = {n}, d = {d}")
    return X.T @ X / n + float(lam) * np.eye(d)


def ssr_from_resolvent(Q: np.ndarray) -> np.ndarray:
    """Â = I − Q D^{-1}, D = diag(Q), from a symmetric resolvent Q (float64): Â_ij = δ_ij − Q_ij/Q_jj."""
    Q = np.asarray(Q)
    return numpy_function("ssr_closed_form.ssr_entry")(np.eye(Q.shape[0]), Q, np.diag(Q)[None, :])


def ssr_from_resolvent_mp(Q, ctx):
    """Â = I − Q D^{-1} from an mpmath matrix Q in the context ``ctx``, entry by entry."""
    entry = Formulas(ctx)("ssr_closed_form.ssr_entry")
    d = Q.rows
    A = ctx.matrix(d, d)
    for i in range(d):
        for j in range(d):
            A[i, j] = entry(1 if i == j else 0, Q[i, j], Q[j, j])
    return A


class MaskedSSR:
    """Â = argmin_{diag(A) = 0} (1/n)‖X − XA‖²_F + λ‖A‖²_F."""

    def __init__(self, lam):
        self.lam = lam

    def fit(self, X):
        X = _check_data(X)
        M = _ridge_matrix(X, self.lam)
        Q = scipy.linalg.cho_solve(scipy.linalg.cho_factor(M), np.eye(M.shape[0]))
        Q = (Q + Q.T) / 2
        self.resolvent_ = Q
        self.coef_ = ssr_from_resolvent(Q)
        return self

    def train_error(self, X) -> float:
        """‖X − XÂ‖²_F / (n d)."""
        X = _check_data(X)
        R = X - X @ self.coef_
        return float(np.sum(R * R) / X.size)

    def generalization_error(self, sigma) -> float:
        """E_x ‖x − Âᵀx‖² / d = tr((I − Â)ᵀ Σ (I − Â)) / d."""
        B = np.eye(self.coef_.shape[0]) - self.coef_
        return float(np.sum(B * (np.asarray(sigma) @ B)) / B.shape[0])


def masked_ridge_reference(X, lam) -> np.ndarray:
    """The d masked ridge regressions, one at a time: column k regresses x_k on x_{−k}."""
    X = _check_data(X)
    M = _ridge_matrix(X, lam)
    n, d = X.shape
    A = np.zeros((d, d))
    for k in range(d):
        rest = np.r_[0:k, k + 1 : d]
        # normal equations of (1/n)‖X_k − X_{−k} a‖² + λ‖a‖²: (S_{−k,−k} + λI) a = S_{−k,k}
        A[rest, k] = np.linalg.solve(M[np.ix_(rest, rest)], M[rest, k])
    return A


def closed_form_mp(X, lam, ctx):
    """Â = I − Q D^{-1} in the mpmath context ``ctx`` (X: rows of exact numbers)."""
    S, _ = _gram_mp(X, lam, ctx)
    return ssr_from_resolvent_mp(ctx.inverse(S), ctx)


def _gram_mp(X, lam, ctx):
    n, d = len(X), len(X[0])
    Xm = ctx.matrix([[ctx.mpf(x) for x in row] for row in X])
    S = (Xm.T * Xm) / n
    lam_mp = ctx.mpf(lam.numerator) / lam.denominator if hasattr(lam, "numerator") else ctx.mpf(lam)
    for i in range(d):
        S[i, i] += lam_mp
    return S, d


def masked_ridge_reference_mp(X, lam, ctx):
    """The d masked ridge regressions one by one, in ``ctx``."""
    M, d = _gram_mp(X, lam, ctx)
    A = ctx.matrix(d, d)
    for k in range(d):
        rest = [i for i in range(d) if i != k]
        sub = ctx.matrix(d - 1, d - 1)
        rhs = ctx.matrix(d - 1, 1)
        for a, i in enumerate(rest):
            rhs[a] = M[i, k]
            for b, j in enumerate(rest):
                sub[a, b] = M[i, j]
        sol = ctx.lu_solve(sub, rhs)
        for a, i in enumerate(rest):
            A[i, k] = sol[a]
    return A
