"""Monte Carlo of the SSR–PCA comparison: one eigendecomposition of S per sample serves SSR at a λ and
sample PCA / sample PPCA at every fraction k/d (with a few top directions only, Lanczos for them and one
Cholesky inverse for SSR instead); population PCA at finite d is deterministic (eigh of Σ).

Seeds and the cache follow :mod:`rmtverify.simulate` (SeedSequence(root, spawn_key=(crc32(key), d, i))).
"""

from __future__ import annotations

import numpy as np

from rmtverify.models.base import CovarianceModel
from rmtverify.core.params import parse
from rmtverify.montecarlo.engine import ENGINE_VERSION, LANCZOS_MIN_D, EigenSandwich, Progress, _errors_cholesky, _top_eigenpair, sample_size, seed_sequence
from rmtverify.core.storage import SampleCache


def _masked(P: np.ndarray, sig_apply, d: int) -> float:
    """(1/d) Σ_j [PΣP]_jj/P_jj² for a symmetric P (the masked predictor of derivation pca)."""
    B = P / np.diag(P)[None, :]
    return float(np.sum(B * sig_apply(B)) / d)


#: at most this many top directions (and d ≥ LANCZOS_MIN_D): Lanczos for them and a Cholesky inverse for
#: SSR instead of the whole eigendecomposition (same numbers to rounding; 2× faster at d = 512, k = 1)
PARTIAL_K_MAX = 8


def pca_observables(model: CovarianceModel, d: int, n: int, lam: float, fracs, ss) -> dict:
    """SSR E_gen at λ; sample PCA reconstruction and sample PPCA masked errors at k = round(φd) for each φ."""
    F = model.gram_factor(n, d, np.random.default_rng(ss))  # S = FᵀF/n has the law of XᵀX/n (Bartlett)
    S = F.T @ F / n
    ks = [int(round(phi * d)) for phi in fracs]
    if d >= LANCZOS_MIN_D and 0 < max(ks, default=0) <= PARTIAL_K_MAX:
        out = _top_k_observables(model, d, n, lam, ks, S)
        if out is not None:
            return out
    return _eigh_observables(model, d, n, lam, ks, S)


def _top_k_observables(model, d, n, lam, ks, S) -> dict | None:
    """The observables from the top max(ks) eigenpairs of S (Lanczos) and, for SSR, one Cholesky inverse
    of S + λI; None when the Cholesky route declines (cancellation), so the caller decomposes S."""
    out = {"e_ssr": None}
    if lam is not None:
        vals = _errors_cholesky(model, d, S, lam)
        if vals is None:
            return None
        out["e_ssr"] = vals[1]
    w, U = _top_eigenpair(S, max(ks))
    return {**out, **_pca_errors(model, d, n, ks, np.clip(w, 0.0, None), U, float(np.trace(S)))}


def _eigh_observables(model, d, n, lam, ks, S) -> dict:
    s, V = np.linalg.eigh(S)
    s = np.clip(s, 0.0, None)
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
            out["masked"].append(_masked((V * p) @ V.T, lambda B: Sig @ B, d))
        else:
            out["masked"].append(float(np.mean(1.0 / np.diag(np.linalg.inv(Sig)))))
    return out


def pca_samples(model, alpha, lam, fracs, d: int, seeds: int, root_seed: int, cache: SampleCache | None, config_key: str, quiet: bool = True):
    """(n, {'e_ssr': (K,), 'recon': (K, F), 'masked': (K, F)}) at one d, seeded and cached."""
    alpha = parse("alpha", alpha)
    n = sample_size(alpha, d)
    cache = cache or SampleCache(None)
    lam_f = None if lam is None else float(lam)
    rows = {"e_ssr": [], "recon": [], "masked": []}
    progress = Progress(seeds, f"pca d={d}", quiet)
    for i in range(seeds):
        ss = seed_sequence(root_seed, config_key, d, i)
        spec = {"engine": ENGINE_VERSION, "observable": "pca", "model": model.key(), "d": d, "n": n, "lam": repr(lam_f), "fracs": [repr(float(f)) for f in fracs], "entropy": root_seed, "spawn_key": list(ss.spawn_key)}
        vals = cache.get(spec)
        if vals is None:
            vals = pca_observables(model, d, n, lam_f, fracs, ss)
            cache.put(spec, vals)
        for k in rows:
            rows[k].append(vals[k])
        progress.step()
    return n, {k: np.array(v, dtype=float) for k, v in rows.items()}
