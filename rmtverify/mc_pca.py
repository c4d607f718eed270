"""Monte Carlo of the SSR–PCA comparison: one eigendecomposition of S per sample serves SSR at a λ and
sample PCA / sample PPCA at every fraction k/d; population PCA at finite d is deterministic (eigh of Σ).

Seeds and the cache follow :mod:`rmtverify.simulate` (SeedSequence(root, spawn_key=(crc32(key), d, i))).
"""

from __future__ import annotations

import numpy as np

from .models.base import CovarianceModel
from .params import parse
from .simulate import ENGINE_VERSION, Progress, sample_size, seed_sequence
from .storage import SampleCache


def _masked(P: np.ndarray, sig_apply, d: int) -> float:
    """(1/d) Σ_j [PΣP]_jj/P_jj² for a symmetric P (the masked predictor of derivation pca)."""
    B = P / np.diag(P)[None, :]
    return float(np.sum(B * sig_apply(B)) / d)


def pca_observables(model: CovarianceModel, d: int, n: int, lam: float, fracs, ss) -> dict:
    """SSR E_gen at λ; sample PCA reconstruction and sample PPCA masked errors at k = round(φd) for each φ."""
    rng = np.random.default_rng(ss)
    X = model.sample(n, d, rng)
    S = X.T @ X / n
    s, V = np.linalg.eigh(S)
    s = np.clip(s, 0.0, None)
    apply = lambda B: model.sigma_apply(d, B)  # noqa: E731
    tr_sigma = float(np.trace(model.sigma(d)))
    out = {"e_ssr": None, "recon": [], "masked": []}
    if lam is not None:
        r = 1.0 / (s + lam)
        Q = (V * r) @ V.T
        out["e_ssr"] = _masked(Q, apply, d)  # SSR's E_gen: the masked predictor with P = Q
    for phi in fracs:
        k = int(round(phi * d))
        U = V[:, d - k :]
        out["recon"].append((tr_sigma - float(np.sum(U * apply(U)))) / d)
        if 0 < k < min(n, d) and d - k > 0:
            s2 = float(np.mean(s[: d - k]))
            p = np.concatenate([np.full(d - k, 1.0 / s2), 1.0 / s[d - k :]]) if s2 > 0 else None
            out["masked"].append(_masked((V * p) @ V.T, apply, d) if p is not None else float("nan"))
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
