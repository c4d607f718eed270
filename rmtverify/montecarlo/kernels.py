"""What one Monte Carlo sample computes: functions of its sample covariance S (and of Bartlett's factor F).

Every kernel takes the matrices of one data set and returns numbers; drawing the data, seeds and caching
are :mod:`rmtverify.montecarlo.sample` and :mod:`rmtverify.montecarlo.engine`. One factorisation serves
each kernel:

- a grid of λ: one symmetric eigendecomposition S = V diag(s) Vᵀ serves every λ with O(d²) work per λ
  when Σ = cI + low rank (isotropic, spiked): diag Q = (V∘V)(s + λ)^{-1}, [QSQ]_kk = (V∘V)(s/(s + λ)²),
  [Q²]_kk = (V∘V)(s + λ)^{-2}, QU = V diag(r) VᵀU; for any other Σ one symmetric rank-d product
  Q = (V√r)(V√r)ᵀ per λ and the model's Σ-product;
- a single λ: one Cholesky factorisation of S + λI and its inverse Q (a third of the cost of an
  eigendecomposition), with [QSQ]_kk = q_k − λ[Q²]_kk; when that difference would lose more than ~1e-13
  to cancellation (small λ, α < 1: a cheap bound from the norms decides) the eigendecomposition is used;
- the spectrum of Â = I − QD^{-1}: its eigenvalues are 1 − 1/μ with μ the eigenvalues of
  M = D^{1/2}(S + λI)D^{1/2} (the inverse of D^{-1/2}QD^{-1/2}), so one Cholesky factor and its
  triangular inverse for D, and one eigvalsh of M;
- spikes: the top eigenpairs of S and of M (Lanczos from d = 256, LAPACK's subset driver below);
- PCA: the top eigenpairs of S; PPCA as a masked predictor is the identity plus a rank-k matrix.

E_gen = (1/d) Σ_k [QΣQ]_kk / q_k² = ‖Σ^{1/2} Q D^{-1}‖²_F / d; no explicit Â.

Extreme λ. Both errors are invariant under Q → cQ (Â = I − QD^{-1} is). Outside λ/s̄ ∈ [EXTREME_LAM_LO,
EXTREME_LAM_HI] (s̄ = tr S/d, the scale of S) the Cholesky route would over- or underflow (at λ = 1e300,
[Q²]_kk ~ 1e-600 is 0 in double and E_train came out inf), so those λ take the eigendecomposition with Q
scaled to P = cQ, c = λ + s_min (c = λ when S is singular): P's eigenvalues c/(s + λ) lie in (0, 1], and the
exactly zero eigenvalues of a singular S (rank min(n, d); below the numerical-rank threshold d·eps·s_max)
are set to 0, so that a ridge far below the rounding of S still sees S's null space. As λ → ∞, E_gen → tr Σ/d
and E_train → tr S/d; as λ → 0 the ridgeless values. With S singular, λ < SINGULAR_LAM_MIN·s̄ is refused (InputError
naming lam): E_train ~ λ² and its standard error would underflow.
"""

from __future__ import annotations

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.models.base import CovarianceModel
from rmtverify.symbolic.formulas import numpy_function

OBSERVABLES = ("e_train", "e_gen")
METHODS = ("auto", "eigh", "cholesky")

#: the Cholesky route's [QSQ]_kk = q_k − λ[Q²]_kk is used only while this bound on its relative
#: rounding error, eps·‖S+λI‖_F‖Q‖_F·max_k(λ[Q²]_kk/[QSQ]_kk), stays below it (actual errors are
#: 100–1000 times smaller than the bound: ≲ 1e-13)
CHOLESKY_ERROR_BOUND = 1e-10

#: from this d on the top eigenpair comes from Lanczos iterations (ARPACK, tolerance = machine
#: precision, fixed start vector: deterministic), 2–4 times faster than LAPACK's subset driver, which
#: must tridiagonalise the whole matrix; below it, and if ARPACK does not converge, LAPACK
LANCZOS_MIN_D = 256

#: at most this many top directions (and d ≥ LANCZOS_MIN_D): Lanczos for them and a Cholesky inverse for
#: SSR instead of the whole eigendecomposition (same numbers to rounding; 2× faster at d = 512, k = 1)
PARTIAL_K_MAX = 8

#: λ/s̄ outside [EXTREME_LAM_LO, EXTREME_LAM_HI] (s̄ = tr S/d) is computed on the scaled eigendecomposition route
EXTREME_LAM_LO, EXTREME_LAM_HI = 1e-8, 1e8
#: with S singular (n ≤ d), λ/s̄ below this is refused: E_train ~ λ² and the square of its spread (the standard error) would
#: leave double precision's range
SINGULAR_LAM_MIN = 1e-30

SPIKE_OBSERVABLES = ("s_top", "s_overlap", "a_top", "a_overlap")
SPIKE_CONTROLS = ("c_vsv", "c_vs2v")


def shifted(S: np.ndarray, lam: float) -> np.ndarray:
    """S + λI (a copy)."""
    A = S.copy()
    A.flat[:: A.shape[0] + 1] += lam
    return A


def cholesky_then(A: np.ndarray, routine: str):
    """LAPACK ``routine`` (dpotri or dtrtri) applied in place to A's lower Cholesky factor (strict upper
    triangle zeroed); None if A is not numerically positive definite or the routine fails."""
    from scipy.linalg import lapack

    c, info = lapack.dpotrf(A, lower=1, clean=1)
    if info != 0:
        return None
    out, info = getattr(lapack, routine)(c, lower=1, overwrite_c=1)
    return out if info == 0 else None


def spd_inverse(A: np.ndarray):
    """A^{-1} as a full symmetric matrix, by Cholesky; None if A is not numerically positive definite."""
    inv = cholesky_then(A, "dpotri")
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


def errors_cholesky(model: CovarianceModel, d: int, S: np.ndarray, lam: float):
    """(E_train, E_gen) at one λ through one Cholesky inverse, or None when cancellation would cost digits."""
    A = shifted(S, lam)
    a_norm = np.sqrt(np.einsum("ij,ij->", A, A))
    Q = spd_inverse(A)
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
    g = _gen_terms_from_q(model, d, Q, Q2, model.sigma_lowrank(d))
    return float(np.mean(qsq / (q * q))), float(np.mean(g / (q * q)))


class EigenSandwich:
    """diag P and diag PΣP for P = V diag(p) Vᵀ, for many p on one eigenbasis V of S.

    When Σ = cI + U diag(θ) Uᵀ (r ≪ d) each p costs O(d² r): [PΣP]_jj = c[P²]_jj + Σ_i θ_i (PU)_ji²;
    otherwise one symmetric rank-d product (syrk) and Σ applied to it."""

    def __init__(self, model, d: int, V: np.ndarray):
        self.model, self.d, self.V = model, d, V
        self.V2 = V * V
        self.low = model.sigma_lowrank(d)
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


def errors_from_eigh_scaled(model, d, s, V, lams) -> dict:
    """E_train and E_gen at extreme λ from S = V diag(s) Vᵀ, with Q scaled to P = cQ (see the module's "Extreme λ")."""
    s = np.array(s, dtype=float)
    s_max = float(s[-1]) if s.size else 0.0
    s[s <= d * np.finfo(float).eps * s_max] = 0.0  # S's exact zeros (rank min(n, d)), not their rounding
    singular = not s[0] > 0
    scale = float(np.mean(s))
    if singular and min(lams) < SINGULAR_LAM_MIN * scale:
        raise InputError("lam", f"must be >= {SINGULAR_LAM_MIN:g} x tr S/d (= {SINGULAR_LAM_MIN * scale:.3g}) in the Monte Carlo when S is "
                                f"singular (n <= d): E_train ~ lam^2 and its spread leave double precision's range below it; got "
                                f"{min(lams):g}")
    eig = EigenSandwich(model, d, V)
    out = {k: [] for k in OBSERVABLES}
    for lam in lams:
        c = lam if singular else lam + float(s[0])
        r = c / (s + lam)  # eigenvalues of P = cQ, in (0, 1]
        q = eig.diag(r)
        out["e_train"].append(float(np.mean(eig.diag(s * r * r) / (q * q))))
        out["e_gen"].append(float(np.mean(eig.psp(r) / (q * q))))
    return out


def psd_eigh(S: np.ndarray):
    """S = V diag(s) Vᵀ with s clipped at 0 (S is PSD; round-off can make a zero eigenvalue slightly negative)."""
    s, V = np.linalg.eigh(S)
    return np.clip(s, 0.0, None), V


def errors_from_gram(model: CovarianceModel, d: int, S: np.ndarray, lams, method: str = "auto") -> dict:
    """E_train and E_gen for every λ in ``lams`` (floats) from the Gram matrix S = XᵀX/n.

    ``method``: ``auto`` (Cholesky for a single λ when it is accurate, else the eigendecomposition),
    ``eigh`` or ``cholesky`` (one factorisation per λ; for benchmarks and tests).
    """
    if method not in METHODS:
        raise InputError("method", f"one of {', '.join(METHODS)}; got {method!r}")
    lams = [float(lam) for lam in lams]
    if any(not (np.isfinite(lam) and lam >= 0) for lam in lams):
        raise InputError("lam", f"must be finite and >= 0 in double precision for the Monte Carlo; got {lams}")
    scale = float(np.trace(S)) / d
    extreme = [lam for lam in lams if lam > 0 and not EXTREME_LAM_LO * scale <= lam <= EXTREME_LAM_HI * scale]
    if extreme:
        s, V = psd_eigh(S)
        normal = [lam for lam in lams if lam not in extreme]
        out = errors_from_eigh(model, d, s, V, normal) if normal else {k: [] for k in OBSERVABLES}
        far = errors_from_eigh_scaled(model, d, s, V, extreme)
        merged = {k: [] for k in OBSERVABLES}
        it_n, it_f = {k: iter(out[k]) for k in OBSERVABLES}, {k: iter(far[k]) for k in OBSERVABLES}
        for lam in lams:
            src = it_f if lam in extreme else it_n
            for k in OBSERVABLES:
                merged[k].append(next(src[k]))
        return merged
    if method == "cholesky" or (method == "auto" and len(lams) == 1):
        vals = [errors_cholesky(model, d, S, lam) for lam in lams]
        if all(v is not None for v in vals):
            return {"e_train": [v[0] for v in vals], "e_gen": [v[1] for v in vals]}
    s, V = psd_eigh(S)
    return errors_from_eigh(model, d, s, V, lams)


def _diag_inverse_eigh(S, lam):
    s, V = psd_eigh(S)
    return (V * V) @ (1.0 / (s + lam))


def _diag_inverse(A: np.ndarray):
    """diag A^{-1} for a symmetric positive-definite A: with A = LLᵀ, A^{-1} = L^{-T}L^{-1}, so the diagonal
    is the squared column norms of L^{-1} (Cholesky and a triangular inverse: half the work of the full
    inverse); None if A is not numerically positive definite."""
    linv = cholesky_then(A, "dtrtri")
    return None if linv is None else np.einsum("ij,ij->j", linv, linv)


def m_matrix(S, lam):
    """(q, M = D^{1/2}(S + λI)D^{1/2}) with q = diag (S + λI)^{-1}."""
    A = shifted(S, lam)
    q = _diag_inverse(A)
    if q is None:
        q = _diag_inverse_eigh(S, lam)
    h = np.sqrt(q)
    return q, A * h[:, None] * h[None, :]


def ssr_eigenvalues_from_gram(S: np.ndarray, lam: float) -> np.ndarray:
    """The eigenvalues of Â = I − QD^{-1}, ascending: 1 − 1/μ for μ in spec(D^{1/2}(S + λI)D^{1/2})."""
    _, M = m_matrix(S, float(lam))
    mu = np.linalg.eigvalsh(M)
    return np.sort(1.0 - 1.0 / mu)


def top_eigenpairs(A: np.ndarray, k: int = 1):
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


def spike_from_gram(model: CovarianceModel, d: int, n: int, lam: float, F: np.ndarray, S: np.ndarray) -> dict:
    """Top eigenvalue and squared overlap with the first spike, for S and for Â (right eigenvector), plus two
    control variates, vᵀSv and vᵀS²v minus their exact Gaussian means (derivation bbp, cv_vSv and cv_vS2v)."""
    v = model.spike_directions(d)[:, 0]
    s_top, s_vec = top_eigenpairs(S)
    q, M = m_matrix(S, float(lam))
    mu, U = top_eigenpairs(M)  # Â's top eigenvalue is 1 − 1/μ_max
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
        "c_vsv": float(v @ Sv) - float(numpy_function("bbp.cv_vSv")(vsv)),
        "c_vs2v": float(Sv @ Sv) - float(numpy_function("bbp.cv_vS2v")(vsv, vs2v, tr_sigma, n)),
    }


def pca_from_gram(model: CovarianceModel, d: int, n: int, lam, fracs, S: np.ndarray) -> dict:
    """SSR E_gen at λ (None: not computed); sample PCA reconstruction and sample PPCA masked errors at
    k = round(φd) for each φ in ``fracs``."""
    ks = [int(round(phi * d)) for phi in fracs]
    if d >= LANCZOS_MIN_D and 0 < max(ks, default=0) <= PARTIAL_K_MAX:
        out = pca_top_k(model, d, n, lam, ks, S)
        if out is not None:
            return out
    return pca_eigh(model, d, n, lam, ks, S)


def pca_top_k(model, d, n, lam, ks, S) -> dict | None:
    """The PCA observables from the top max(ks) eigenpairs of S (Lanczos) and, for SSR, one Cholesky inverse
    of S + λI; None when the Cholesky route declines (cancellation), so the caller decomposes S."""
    out = {"e_ssr": None}
    if lam is not None:
        vals = errors_cholesky(model, d, S, lam)
        if vals is None:
            return None
        out["e_ssr"] = vals[1]
    w, U = top_eigenpairs(S, max(ks))
    return {**out, **_pca_errors(model, d, n, ks, np.clip(w, 0.0, None), U, float(np.trace(S)))}


def pca_eigh(model, d, n, lam, ks, S) -> dict:
    s, V = psd_eigh(S)
    out = {"e_ssr": None}
    if lam is not None:
        out["e_ssr"] = EigenSandwich(model, d, V).masked(1.0 / (s + lam))  # SSR's E_gen: the masked predictor, P = Q
    return {**out, **_pca_errors(model, d, n, ks, s, V, float(np.sum(s)))}


def _pca_errors(model, d, n, ks, w, U_all, tr_s) -> dict:
    """Sample PCA reconstruction and sample PPCA masked errors for each k, from the top eigenpairs of S
    (ascending ``w``, columns of ``U_all``; at least max(ks) of them) and tr S.

    PPCA with k directions is P = a I + U diag(δ) Uᵀ (a = 1/σ̂², δ = 1/s_top − a, U the top k eigenvectors,
    σ̂² = (tr S − Σ_top s)/(d − k) the mean discarded eigenvalue); then diag P = a + U²δ and, with M = UᵀΣU,
    diag PΣP = a² diag Σ + 2a [(Uδ) ∘ ΣU]·1 + diag((Uδ) M (Uδ)ᵀ): O(d k²) beyond ΣU, never a d × d product."""
    sigma = model.sigma(d)
    tr_sigma, diag_sigma = float(np.trace(sigma)), np.diag(sigma)
    out = {"recon": [], "masked": []}
    for k in ks:
        U, top = U_all[:, len(w) - k :], w[len(w) - k :]
        SU = model.sigma_apply(d, U)
        out["recon"].append((tr_sigma - float(np.sum(U * SU))) / d)
        s2 = (tr_s - float(np.sum(top))) / (d - k) if k < d else 0.0
        if 0 < k < min(n, d) and s2 > 0 and np.all(top > 0):
            a = 1.0 / s2
            Ud = U * (1.0 / top - a)
            p_diag = a + np.sum(U * Ud, axis=1)
            psp = a * a * diag_sigma + 2 * a * np.sum(Ud * SU, axis=1) + np.einsum("ji,ik,jk->j", Ud, U.T @ SU, Ud)
            out["masked"].append(float(np.mean(psp / (p_diag * p_diag))))
        else:
            out["masked"].append(float("nan"))
    return out


def masked_error(P: np.ndarray, sig_apply, d: int) -> float:
    """(1/d) Σ_j [PΣP]_jj/P_jj² for a symmetric P (the masked predictor of derivation pca)."""
    B = P / np.diag(P)[None, :]
    return float(np.sum(B * sig_apply(B)) / d)


def population_pca(model: CovarianceModel, d: int, fracs) -> dict:
    """Population PCA reconstruction and population PPCA masked errors at finite d (deterministic)."""
    Sig = model.sigma(d)
    w, V = np.linalg.eigh(Sig)
    tr = float(np.sum(w))
    out = {"recon": [], "masked": []}
    for phi in fracs:
        k = int(round(phi * d))
        out["recon"].append((tr - float(np.sum(w[d - k :]))) / d)
        if k < d:
            s2 = float(np.mean(w[: d - k]))
            p = np.concatenate([np.full(d - k, 1.0 / s2), 1.0 / w[d - k :]])
            out["masked"].append(masked_error((V * p) @ V.T, lambda B: Sig @ B, d))
        else:
            out["masked"].append(float(np.mean(1.0 / np.diag(np.linalg.inv(Sig)))))
    return out
