"""Bartlett's decomposition: a sample covariance drawn without drawing the data.

For Z ∈ R^{n×m} with i.i.d. N(0, 1) entries, the QR decomposition Z = Q U has
an upper-trapezoidal U (k = min(n, m) rows) with independent entries
(Bartlett 1933; Muirhead, *Aspects of Multivariate Statistical Theory*,
Thm 3.2.14):

    U_ii ~ χ_{n−i+1}  (i = 1…k),    U_ij ~ N(0, 1)  (j > i),    U_ij = 0  (j < i),

and ZᵀZ = UᵀU. For Gaussian rows x = R z (R Rᵀ = Σ) the data X = Z Rᵀ
therefore give S = XᵀX/n = R ZᵀZ Rᵀ/n, which has exactly the law of
F ᵀF/n with F = U Rᵀ: k "pseudo-rows" mapped by the model's root instead of
n rows. Every observable of the Monte Carlo is a function of S, so it has the
same law either way; the factor costs k·m − k(k+1)/2 normals and k·m·d
multiply-adds for its Gram, against n·m normals and n·d² for the rows
(α = n/d ≥ 1: α times fewer flops, 2α times fewer normals).
"""

from __future__ import annotations

import numpy as np

from rmtverify.core.exceptions import InputError


def bartlett_factor(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """U (min(n, m) × m, upper trapezoidal) with UᵀU distributed as ZᵀZ for Z ∈ R^{n×m} standard Gaussian."""
    if int(n) != n or n < 1:
        raise InputError("n", f"a positive whole number of samples; got {n!r}")
    if int(m) != m or m < 1:
        raise InputError("m", f"a positive whole noise dimension; got {m!r}")
    n, m = int(n), int(m)
    k = min(n, m)
    diag = np.sqrt(rng.chisquare(n - np.arange(k)))  # degrees of freedom n, n − 1, …, n − k + 1
    z = rng.standard_normal(k * m - k * (k + 1) // 2)  # the strictly upper part, row by row
    U = np.zeros((k, m))
    pos = 0
    for i in range(k):
        U[i, i] = diag[i]
        width = m - i - 1
        U[i, i + 1 :] = z[pos : pos + width]
        pos += width
    return U


__all__ = ["bartlett_factor"]
