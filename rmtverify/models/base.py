"""What every covariance model provides, at finite d and (where it exists) at d = ∞.

A model gives the finite-d matrix Σ and a sampler (float64, for Monte Carlo),
and a *resolvent* for the theory: for a number context ``ctx`` (a local mpmath
context for high precision, or ``mpmath.fp`` for double precision) it
evaluates τ(κ) = (1/d) tr R and the diagonal of R = (Σ + κI)^{-1} with their
κ-derivatives. Those two functionals are all the theory of SPEC §2 needs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF, parse


@dataclass(frozen=True)
class DiagonalGroup:
    """Coordinates sharing one value of m = R_kk (and m' = dm/dκ); ``weight`` = their share of d."""

    weight: Fraction
    m: object
    m_p: object


class Resolvent(ABC):
    """τ(κ), τ'(κ) and diag R(κ) for one model at one d, in one number context."""

    #: tr Σ / d, the upper end of the κ bracket is λ + mean_sigma/α
    mean_sigma: object

    @abstractmethod
    def trace(self, kappa):
        """(τ, τ') at κ."""

    @abstractmethod
    def diagonal(self, kappa) -> list[DiagonalGroup]:
        """The diagonal of R at κ, grouped; the weights sum to 1."""


class SpectralResolvent(Resolvent):
    """Resolvent functionals from an eigendecomposition Σ = U diag(σ) Uᵀ (double precision).

    R_kk = Σ_i U_ki² / (σ_i + κ) is the definition of R in the eigenbasis.
    """

    def __init__(self, eigenvalues, weights=None):
        self.sig = np.asarray(eigenvalues, dtype=float)
        self.w = None if weights is None else np.asarray(weights, dtype=float)  # U², rows = coordinates
        self.mean_sigma = float(np.mean(self.sig))

    def trace(self, kappa):
        r = 1.0 / (self.sig + kappa)
        return float(np.mean(r)), float(-np.mean(r * r))

    def diagonal(self, kappa):
        if self.w is None:
            tau, tau_p = self.trace(kappa)
            return [DiagonalGroup(Fraction(1), tau, tau_p)]
        r = 1.0 / (self.sig + kappa)
        m = self.w @ r
        m_p = -(self.w @ (r * r))
        d = len(m)
        return [DiagonalGroup(Fraction(1, d), float(a), float(b)) for a, b in zip(m, m_p)]


class CovarianceModel(ABC):
    name: str = ""
    #: True when the model has a d = ∞ description in closed form
    has_limit: bool = True

    @abstractmethod
    def describe(self) -> dict:
        """The model's parameters, JSON-friendly (exact values as strings)."""

    def key(self) -> str:
        """A canonical text identifying the model (seeds and caches are keyed on it)."""
        parts = ",".join(f"{k}={v}" for k, v in sorted(self.describe().items()) if k != "model")
        return f"{self.name}({parts})"

    def check_d(self, d):
        """Validate a dimension for this model; ``None`` means the model's default."""
        if d is None:
            return INF if self.has_limit else self.default_d()
        d = parse("d", d)
        if d == INF and not self.has_limit:
            raise InputError("d", f"model {self.name!r} has no d = inf description; use a finite d")
        return d

    def default_d(self):
        return INF

    def limit_description(self) -> dict | None:
        """The d = ∞ description (spectral law, Toeplitz symbol, spikes), or None if there is none."""
        return None

    @abstractmethod
    def resolvent(self, d, ctx) -> Resolvent:
        """Resolvent functionals at dimension d (int, or INF) in the number context ctx."""

    @abstractmethod
    def sigma(self, d: int) -> np.ndarray:
        """Σ at finite d, float64."""

    #: rows are x = R z with z ~ N(0, I_m): S may be drawn through Bartlett's factor (see gram_factor);
    #: a model with non-Gaussian z must set this False
    gaussian: bool = True

    def noise_dim(self, d: int) -> int:
        """m, the length of the standard Gaussian vector z behind one row x = R z."""
        return d

    @abstractmethod
    def apply_root(self, d: int, Z: np.ndarray) -> np.ndarray:
        """Z Rᵀ for Z of shape (k, noise_dim(d)): each row z mapped to x = R z, where R Rᵀ = Σ. Z is not modified."""

    def sample(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
        """n i.i.d. rows x ~ N(0, Σ), float64, shape (n, d)."""
        return self.apply_root(d, rng.standard_normal((n, self.noise_dim(d))))

    def gram_factor(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
        """F (min(n, m) × d) with FᵀF/n distributed exactly as S = XᵀX/n for n rows x ~ N(0, Σ).

        F = U Rᵀ with U Bartlett's factor of ZᵀZ (:mod:`rmtverify.wishart`): for n ≥ d the Monte Carlo
        draws d pseudo-rows instead of n rows. Non-Gaussian models fall back to the rows themselves.
        """
        if not self.gaussian:
            return self.sample(n, d, rng)
        from rmtverify.montecarlo.wishart import bartlett_factor

        return self.apply_root(d, bartlett_factor(n, self.noise_dim(d), rng))

    def sigma_apply(self, d: int, B: np.ndarray) -> np.ndarray:
        """Σ @ B; models with structure override this with a cheaper product."""
        return self.sigma(d) @ B

    def sigma_lowrank(self, d: int):
        """(c, U, θ) with Σ = c I + U diag(θ) Uᵀ (U of shape d × r, r ≪ d) when Σ has that form, else None.

        The Monte Carlo engine then serves every λ of a grid with O(d² r) work instead of a d³ product.
        """
        return None

    def __repr__(self):
        return self.key()
