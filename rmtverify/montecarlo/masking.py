"""Masking at rate p (SPEC §8) on a sample: the estimator, its exact test error, and a fit by sampled masks.

Each coordinate is masked independently with probability p; a masked coordinate is predicted from the unmasked ones,
x̂_k = Σ_l A_lk (1 − m_l) x_l. The training loss (squared error on the masked coordinates, averaged over masks, divided by
p, plus λ‖A‖²_F) is a quadratic whose mask average is analytic (derivation masking): with c = p/(1 − p),
λ' = λ/(1 − p)² and M = S + c Diag(S) + λ'I, the minimiser is Â_p = (I − Q_p D_p^{-1})/(1 − p), Q_p = M^{-1}.

:func:`explicit_mask_average` fits the same problem without that algebra, by averaging the loss over sampled masks (or
over all 2^d masks), column by column: the check of the closed form at small d.
"""

from __future__ import annotations

import itertools

import numpy as np

from rmtverify.theory.masking import parse_mask_rate

#: the largest d for which every one of the 2^d masks is enumerated
MAX_D_ENUMERATION = 16


def _rate(p) -> float:
    return float(parse_mask_rate(p))


def masked_gram(S: np.ndarray, p, lam) -> np.ndarray:
    """M = S + c Diag(S) + λ'I: the Gram matrix of the rescaled problem (b = (1 − p)a)."""
    p = _rate(p)
    c, lam_p = p / (1 - p), float(lam) / (1 - p) ** 2
    d = S.shape[0]
    return S + c * np.diag(np.diag(S)) + lam_p * np.eye(d)


def masked_coefficients(S: np.ndarray, p, lam) -> np.ndarray:
    """Â_p = (I − Q_p D_p^{-1})/(1 − p), column k predicting coordinate k."""
    Q = np.linalg.inv(masked_gram(S, p, lam))
    d = S.shape[0]
    return (np.eye(d) - Q / np.diag(Q)[None, :]) / (1 - _rate(p))


def masked_risk(A: np.ndarray, C: np.ndarray, p) -> float:
    """The averaged masked loss of predictor A per masked coordinate, for second moments C (C = S: the training loss
    without the ridge; C = Σ: the test error E_mask): (1/d) Σ_k [C_kk − 2(1−p) a_kᵀC_k + (1−p)² a_kᵀCa_k + p(1−p) a_kᵀDiag(C)a_k],
    a_k the k-th column of A with its diagonal entry ignored (a masked coordinate never predicts itself)."""
    p = _rate(p)
    A = A - np.diag(np.diag(A))
    cross = np.einsum("lk,lk->k", A, C)  # a_kᵀ C_k
    quad = np.einsum("lk,lk->k", A, C @ A)  # a_kᵀ C a_k: one matrix product, O(d³) (the three-operand einsum was O(d⁴))
    diag = np.diag(C) @ (A * A)  # a_kᵀ Diag(C) a_k
    return float(np.mean(np.diag(C) - 2 * (1 - p) * cross + (1 - p) ** 2 * quad + p * (1 - p) * diag))


def mask_error_from_sample(S: np.ndarray, Sigma: np.ndarray, p, lam) -> float:
    """E_mask of the estimator fitted on S, exactly (averaged over masks and fresh x ~ N(0, Σ)); deterministic given S, Σ."""
    return masked_risk(masked_coefficients(S, p, lam), Sigma, p)


class MaskedRateRegression:
    """Masked self-supervised regression at mask rate p with ridge λ: ``fit(X)`` sets ``coef_`` = Â_p (d × d, zero diagonal)."""

    def __init__(self, p, lam):
        self.p = _rate(p)
        self.lam = float(lam)
        if not self.lam >= 0:
            from rmtverify.core.exceptions import InputError

            raise InputError("lam", f"must be a real number >= 0; got {lam!r}")

    def fit(self, X: np.ndarray) -> "MaskedRateRegression":
        X = np.asarray(X, dtype=float)
        self.coef_ = masked_coefficients(X.T @ X / X.shape[0], self.p, self.lam)
        return self

    def predict(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Predictions of every coordinate from the unmasked ones (mask: 1 = masked), row by row."""
        return (np.asarray(X) * (1 - np.asarray(mask))) @ self.coef_

    def score(self, Sigma: np.ndarray) -> float:
        """E_mask of the fitted estimator under covariance Σ."""
        return masked_risk(self.coef_, Sigma, self.p)


def _masks(d, n, p, n_masks, rng):
    """(masks, weights): all 2^d masks with their probabilities (``n_masks=None``), or n_masks sampled masks per row."""
    if n_masks is None:
        if d > MAX_D_ENUMERATION:
            raise ValueError(f"enumerating 2^{d} masks: use n_masks (sampled masks) for d > {MAX_D_ENUMERATION}")
        masks = np.array(list(itertools.product((0.0, 1.0), repeat=d)))
        w = np.prod(np.where(masks == 1, p, 1 - p), axis=1)
        return np.broadcast_to(masks[:, None, :], (len(masks), n, d)), w / n
    masks = (rng.random((n_masks, n, d)) < p).astype(float)
    return masks, np.full(n_masks, 1.0 / (n_masks * n))


def explicit_mask_average(X: np.ndarray, p, lam, n_masks: int | None, rng: np.random.Generator | None = None) -> np.ndarray:
    """Â fitted by minimising the loss averaged over masks drawn explicitly (``n_masks`` masks per row), or over all 2^d masks
    with their probabilities (``n_masks=None``, exact), column by column: a ridge regression of x_k on (1 − m) ∘ x over the
    rows where k is masked, weighted by 1/p."""
    p = _rate(p)
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    masks, w = _masks(d, n, p, n_masks, rng)
    G = np.zeros((d, d, d))
    h = np.zeros((d, d))
    for start in range(0, len(masks), 4096):  # bounded memory
        mk, wk = masks[start:start + 4096], w[start:start + 4096] / p
        U = (1 - mk) * X[None]  # the visible coordinates
        G += np.einsum("t,tik,til,tim->klm", wk, mk, U, U)
        h += np.einsum("t,tik,til,ik->kl", wk, mk, U, X)
    A = np.zeros((d, d))
    for k in range(d):
        A[:, k] = np.linalg.solve(G[k] + float(lam) * np.eye(d), h[k])
    return A


__all__ = ["MaskedRateRegression", "explicit_mask_average", "mask_error_from_sample", "masked_coefficients", "masked_gram",
           "masked_risk"]
