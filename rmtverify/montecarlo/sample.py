"""One Monte Carlo sample: a data set of n rows of the model at dimension d, drawn lazily from its seed.

A sample is drawn one of two ways, fixed before anything is computed so that its numbers never depend on
which quantity was asked for first:

- ``draw="gram"``: S = FᵀF/n with F Bartlett's factor of n Gaussian rows mapped by Σ's root (exactly the
  law of XᵀX/n; :mod:`rmtverify.montecarlo.wishart`): min(n, d) pseudo-rows, no X;
- ``draw="rows"``: the n rows X themselves (x = Σ^{1/2}z), and S = XᵀX/n.

Extra randomness a claim needs (a teacher's noise, a mask) comes from ``sample.rng``, a generator of its
own derived from the sample's seed, so it never shifts the data's stream.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.models.base import CovarianceModel
from rmtverify.montecarlo import kernels
from rmtverify.montecarlo.wishart import bartlett_factor

DRAWS = ("gram", "rows")
#: the spawn-key entry that separates ``sample.rng`` from the data's stream
_EXTRA_STREAM = 0x5EED


def gram_factor(model: CovarianceModel, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """F (min(n, m) × d) with FᵀF/n distributed exactly as S = XᵀX/n for n rows of the model.

    For Gaussian rows x = R z (z ~ N(0, I_m)), F = U Rᵀ with U Bartlett's factor of ZᵀZ
    (:mod:`rmtverify.montecarlo.wishart`): for n ≥ m the Monte Carlo draws m pseudo-rows instead of n rows.
    Models whose rows are not Gaussian give their rows themselves.
    """
    if not model.gaussian:
        return model.sample(n, d, rng)
    return model.apply_root(d, bartlett_factor(n, model.noise_dim(d), rng))


class Sample:
    """One data set; every matrix is computed on first use and kept (float64)."""

    def __init__(self, model: CovarianceModel, d: int, n: int, seed: np.random.SeedSequence, draw: str = "gram"):
        if draw not in DRAWS:
            raise InputError("draw", f"one of {', '.join(DRAWS)}; got {draw!r}")
        self.model, self.d, self.n, self.seed, self.draw = model, d, n, seed, draw

    @cached_property
    def factor(self) -> np.ndarray:
        """F with S = FᵀF/n: the rows X (``draw="rows"``) or Bartlett's pseudo-rows (``draw="gram"``)."""
        rng = np.random.default_rng(self.seed)
        if self.draw == "rows":
            return self.model.sample(self.n, self.d, rng)
        return gram_factor(self.model, self.n, self.d, rng)

    @property
    def X(self) -> np.ndarray:
        """The n × d data matrix (only when the sample draws rows)."""
        if self.draw != "rows":
            raise InputError("X", "this sample draws S through Bartlett's factor and has no rows; declare draw = 'rows'")
        return self.factor

    @cached_property
    def S(self) -> np.ndarray:
        """The sample covariance XᵀX/n."""
        F = self.factor
        return F.T @ F / self.n

    @cached_property
    def Sigma(self) -> np.ndarray:
        """The population covariance Σ at this d."""
        return self.model.sigma(self.d)

    @cached_property
    def rng(self) -> np.random.Generator:
        """A generator for a claim's own randomness, independent of the data's stream."""
        ss = np.random.SeedSequence(self.seed.entropy, spawn_key=(*self.seed.spawn_key, _EXTRA_STREAM))
        return np.random.default_rng(ss)

    @property
    def alpha(self) -> float:
        return self.n / self.d

    def Q(self, lam) -> np.ndarray:
        """The resolvent (S + λI)^{-1}, λ > 0."""
        lam = float(lam)
        Q = kernels.spd_inverse(kernels.shifted(self.S, lam))
        if Q is None:
            raise InputError("lam", f"S + lam I is not numerically positive definite at lam = {lam!r}")
        return Q

    def A_hat(self, lam) -> np.ndarray:
        """The masked SSR matrix Â = I − Q diag(Q)^{-1} (derivation ssr_closed_form)."""
        from rmtverify.montecarlo.estimators import ssr_from_resolvent

        return ssr_from_resolvent(self.Q(lam))

    def ssr_errors(self, lams, method: str = "auto") -> dict:
        """E_train and E_gen of masked SSR for every λ in ``lams``: {"e_train": [...], "e_gen": [...]}."""
        return kernels.errors_from_gram(self.model, self.d, self.S, lams, method)

    def ssr_eigenvalues(self, lam) -> np.ndarray:
        """The eigenvalues of Â at λ, ascending."""
        return kernels.ssr_eigenvalues_from_gram(self.S, lam)

    def spike(self, lam) -> dict:
        """Top eigenvalues and overlaps of S and Â with the first spike direction, and two control variates."""
        return kernels.spike_from_gram(self.model, self.d, self.n, lam, self.factor, self.S)

    def pca(self, lam, fracs) -> dict:
        """SSR E_gen at λ (None: skipped) and sample PCA / PPCA errors at k = round(φd) for φ in ``fracs``."""
        return kernels.pca_from_gram(self.model, self.d, self.n, None if lam is None else float(lam), fracs, self.S)
