"""Distances between the eigenvalues of one sample and a limiting law (claim C3's per-sample observables).

An atom of the law is treated apart from its continuous part: at finite d an atom's eigenvalues are smeared
over a width of order d^-½, so a plain Kolmogorov–Smirnov distance to a CDF with a jump stalls at about half
the atom's mass. The round(mass·d) eigenvalues nearest the atom form its cluster; KS compares the rest with
the normalised continuous law. Wasserstein-1 compares the whole law (rate ½ with an atom).
"""

from __future__ import annotations

import numpy as np


def atom_cluster(ev: np.ndarray, atoms, d: int) -> np.ndarray:
    """Boolean mask of the eigenvalues assigned to atoms: the round(mass·d) nearest to each."""
    mask = np.zeros(len(ev), bool)
    for loc, mass in atoms:
        k = int(round(mass * d))
        if k:
            idx = np.argsort(np.abs(ev - loc) + mask * 1e300)[:k]
            mask[idx] = True
    return mask


def ks_distance(sorted_x: np.ndarray, xt: np.ndarray, Ft: np.ndarray) -> float:
    """sup |F_N − F| between the empirical law of ``sorted_x`` and the tabulated CDF (xt, Ft)."""
    N = len(sorted_x)
    Fth = np.interp(sorted_x, xt, Ft, left=0.0, right=1.0)
    return float(max(np.max(np.arange(1, N + 1) / N - Fth), np.max(Fth - np.arange(0, N) / N)))


def w1_distance(sorted_x: np.ndarray, xt: np.ndarray, Ft: np.ndarray) -> float:
    """∫ |F_N − F| between the empirical law of ``sorted_x`` and the tabulated CDF (xt, Ft)."""
    lo, hi = min(sorted_x[0], xt[0]), max(sorted_x[-1], xt[-1])
    grid = np.union1d(np.union1d(sorted_x, xt), np.linspace(lo, hi, 20001))
    mid = (grid[1:] + grid[:-1]) / 2
    Femp = np.searchsorted(sorted_x, mid, side="right") / len(sorted_x)
    Fth = np.interp(mid, xt, Ft, left=0.0, right=1.0)
    return float(np.sum(np.abs(Femp - Fth) * np.diff(grid)))


def ks_continuous(ev: np.ndarray, tables, d: int) -> float:
    """KS of the eigenvalues outside the atoms' clusters against the normalised continuous law."""
    return ks_distance(ev[~atom_cluster(ev, tables.atoms, d)], tables.x, tables.Fc)


def spectral_observables(ev: np.ndarray, tables, d: int, outliers: int = 0) -> dict:
    """Per-sample observables of a spectrum against its law's tables: the Stieltjes transform at z₀ (a linear
    statistic), KS of the continuous part, W1 of the whole law, and the extreme eigenvalues of the continuous
    part (skipping ``outliers`` eigenvalues above the bulk)."""
    g = np.mean(1.0 / (ev - tables.z0))
    mask = atom_cluster(ev, tables.atoms, d)
    cont = ev[~mask]
    bulk = cont[: len(cont) - outliers] if outliers else cont
    return {
        "stieltjes_re": float(g.real),
        "stieltjes_im": float(g.imag),
        "ks_continuous": ks_distance(cont, tables.x, tables.Fc),
        "w1": w1_distance(ev, tables.x, tables.F),
        "top_edge": float(bulk[-1]),
        "bottom_edge": float(cont[0]),
    }
