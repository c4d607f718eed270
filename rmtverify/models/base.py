"""What every covariance model provides, at finite d and (where it exists) at d = ∞.

A model gives the finite-d matrix Σ and a sampler (float64, for Monte Carlo),
and a *resolvent* for the theory: for a number context ``ctx`` (a local mpmath
context for high precision, or ``mpmath.fp`` for double precision) it
evaluates τ(κ) = (1/d) tr R and the diagonal of R = (Σ + κI)^{-1} with their
κ-derivatives. Those two functionals are all the theory of SPEC §2 needs.

Beyond them a model answers what the theory asks of it, so that no theory
module switches on model names: its population *types* when Σ is diagonal
(``spectral_types``), whether diag R is constant (``constant_diagonal``), an
upper bound of Σ's spectrum (``sigma_max``), the model whose d = ∞ law it has
(``limit_base``), and the AR(1) correlation of that law (``ar1_rho``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF, parse
from rmtverify.symbolic.formulas import numpy_function


@dataclass(frozen=True)
class Types:
    """A population of (weight, σ, m) types: diagonal Σ, or d = ∞ with atoms (m = R_kk on the type)."""

    weights: tuple
    sigmas: tuple
    ms: tuple


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

    def trace_array(self, kappas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(τ, τ') at every complex κ of an array, in double precision (the spectral law's vectorised path).

        This default evaluates ``trace`` point by point; resolvents with a closed form override it with
        a vectorised NumPy evaluation.
        """
        pairs = [self.trace(complex(k)) for k in np.asarray(kappas).ravel()]
        tau = np.array([complex(t) for t, _ in pairs]).reshape(np.shape(kappas))
        tau_p = np.array([complex(tp) for _, tp in pairs]).reshape(np.shape(kappas))
        return tau, tau_p


class SpectralResolvent(Resolvent):
    """Resolvent functionals from an eigendecomposition Σ = U diag(σ) Uᵀ (double precision).

    R_kk = Σ_i U_ki² / (σ_i + κ) is the definition of R in the eigenbasis.
    """

    def __init__(self, eigenvalues, weights=None):
        self.sig = np.asarray(eigenvalues, dtype=float)
        self.w = None if weights is None else np.asarray(weights, dtype=float)  # U², rows = coordinates
        self.mean_sigma = float(np.mean(self.sig))

    def trace(self, kappa):
        r = numpy_function("kappa.resolvent_eigenvalue")(self.sig, kappa)
        return float(np.mean(r)), float(-np.mean(r * r))

    def diagonal(self, kappa):
        if self.w is None:
            tau, tau_p = self.trace(kappa)
            return [DiagonalGroup(Fraction(1), tau, tau_p)]
        r = numpy_function("kappa.resolvent_eigenvalue")(self.sig, kappa)
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

    def limit_base(self) -> "CovarianceModel":
        """The model whose d = ∞ law this model has: itself, unless finite-rank changes (spikes) leave the
        normalised traces of a base model unchanged at d = ∞."""
        return self

    def ar1_rho(self) -> Fraction:
        """The AR(1) correlation ρ of the d = ∞ description (0 for Σ = I); InputError naming "model" when the
        d = ∞ law is not an AR(1) one (the PCA comparisons need it)."""
        raise InputError("model", f"PCA comparisons are implemented for isotropic, AR(1) and spiked models; got {self.name!r}")

    def spectral_types(self, d, ctx, kappa) -> Types | None:
        """The population types (weight, σ, R_kk) at dimension d and κ when Σ is diagonal in the coordinates
        (or at d = ∞, a finite list of atoms), in the context ctx; None otherwise."""
        return None

    def constant_diagonal(self, d) -> bool:
        """True when diag R = diag (Σ + κI)^{-1} is constant (every R_kk equal to τ) at dimension d."""
        return False

    def sigma_max(self, d, ctx):
        """An upper bound of Σ's spectrum at dimension d (d = ∞: of its limiting law), in ctx.

        The default is the largest eigenvalue of Σ(d) in double precision; models with a d = ∞ law
        override it."""
        if d == INF:
            raise InputError("d", f"model {self.name!r} has no d = inf description; use a finite d")
        return ctx.mpf(float(np.linalg.eigvalsh(self.sigma(d))[-1]))

    @abstractmethod
    def resolvent(self, d, ctx) -> Resolvent:
        """Resolvent functionals at dimension d (int, or INF) in the number context ctx."""

    @abstractmethod
    def sigma(self, d: int) -> np.ndarray:
        """Σ at finite d, float64."""

    def sigma_entry(self, d: int, ctx):
        """Σ's entries at finite d as a function (k, l) → a Fraction where the entry is rational, else a number of ``ctx``
        (for theory at the working precision). By default the float64 entries, exact as binary numbers."""
        arr = self.sigma(d)
        return lambda k, l: Fraction(float(arr[k, l]))

    #: rows are x = R z with z ~ N(0, I_m): S may be drawn through Bartlett's factor (montecarlo.sample.gram_factor);
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

    def sigma_apply(self, d: int, B: np.ndarray) -> np.ndarray:
        """Σ @ B; models with structure override this with a cheaper product."""
        return self.sigma(d) @ B

    def sigma_lowrank(self, d: int):
        """(c, U, θ) with Σ = c I + U diag(θ) Uᵀ (U of shape d × r, r ≪ d) when Σ has that form, else None.

        The Monte Carlo engine then serves every λ of a grid with O(d² r) work instead of a d³ product.
        """
        return None

    def spike_directions(self, d: int) -> np.ndarray:
        """The spike directions as orthonormal columns (d × r), for models with spikes."""
        raise InputError("model", f"model {self.name!r} has no spike directions (use the spiked model)")

    def __repr__(self):
        return self.key()
