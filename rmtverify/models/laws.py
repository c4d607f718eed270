"""Data laws (SPEC §7): rows x = Σ^{1/2} z with non-Gaussian z, or elliptical rows x = √τ Σ^{1/2} z.

:func:`with_law` wraps any covariance model. The wrapper draws its rows with the model's own root
(``apply_root`` on vectors of length ``noise_dim``), so Σ = Cov x is the model's Σ for every law:

- ``gaussian``: the model itself (z ~ N(0, I); Bartlett's factor serves it);
- ``rademacher``: z_j = ±1 with probability ½ each;
- ``uniform``: z_j uniform on [−√3, √3];
- ``student``: z_j = √((ν − 2)/ν) t_ν, Student-t with ν > 2 degrees of freedom scaled to unit variance;
- ``elliptical-t``: x = √τ Σ^{1/2} z with z ~ N(0, I) and τ = (ν − 2)/χ²_ν independent (E τ = 1): the multivariate t.

The wrapped model is not Gaussian (``gaussian = False``: the Monte Carlo draws the n rows themselves, never
Bartlett's factor); its ``key()`` and ``describe()`` carry the law and ν (the sample cache keys on ``key()``); Σ, the
resolvent, the d = ∞ description and everything else the theory asks of a model are the base model's.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from rmtverify.core.exceptions import InputError
from rmtverify.core.params import INF, exact
from rmtverify.models.base import CovarianceModel

LAWS = ("gaussian", "rademacher", "uniform", "student", "elliptical-t")
#: laws with i.i.d. standardised entries (the Gaussian equivalents are their universal limit when E z⁴ < ∞)
IID_LAWS = ("rademacher", "uniform", "student")
#: laws that take ν
NU_LAWS = ("student", "elliptical-t")
NU_ALLOWED = "a real number > 2 (finite variance; ν = 2.5 and 3 have an infinite fourth moment)"


def parse_law(law) -> str:
    """The law's name, else InputError naming ``law``."""
    if not isinstance(law, str) or law not in LAWS:
        raise InputError("law", f"one of {', '.join(LAWS)}; got {law!r}")
    return law


def parse_nu(law: str, nu) -> Fraction | None:
    """ν as an exact rational > 2 for the t laws (InputError naming ``nu``); None for the others, which refuse a ν."""
    law = parse_law(law)
    if law not in NU_LAWS:
        if nu is not None:
            raise InputError("nu", f"is an option of the laws {' and '.join(NU_LAWS)} only, not of law {law!r}")
        return None
    if nu is None:
        raise InputError("nu", f"is required for law {law!r}: {NU_ALLOWED}")
    if isinstance(nu, bool):
        raise InputError("nu", f"must be {NU_ALLOWED}; got {nu!r}")
    x = exact(nu, "nu", NU_ALLOWED)
    if x is None or x in (INF, -INF) or not x > 2:
        raise InputError("nu", f"must be {NU_ALLOWED}; got {nu!r}")
    return x


class LawModel(CovarianceModel):
    """A covariance model whose rows follow a non-Gaussian law; built by :func:`with_law`."""

    gaussian = False

    def __init__(self, base: CovarianceModel, law: str, nu: Fraction | None):
        self.base, self.law, self.nu = base, law, nu
        self.name = base.name
        self.has_limit = base.has_limit

    # ---- identity: the law and ν are part of the model
    def law_description(self) -> dict:
        out = {"law": self.law}
        if self.nu is not None:
            out["nu"] = str(self.nu)
        return out

    def describe(self) -> dict:
        return {**self.base.describe(), **self.law_description()}

    def key(self) -> str:
        tail = f"law={self.law}" + (f",nu={self.nu}" if self.nu is not None else "")
        return f"{self.base.key()}|{tail}"

    # ---- the rows
    def noise_dim(self, d: int) -> int:
        return self.base.noise_dim(d)

    def apply_root(self, d: int, Z: np.ndarray) -> np.ndarray:
        return self.base.apply_root(d, Z)

    def draw_noise(self, n: int, m: int, rng: np.random.Generator) -> np.ndarray:
        """Z of shape (n, m) with i.i.d. standardised entries of the law (elliptical-t: Gaussian, the scale comes apart)."""
        if self.law == "rademacher":
            return rng.integers(0, 2, size=(n, m), dtype=np.int8).astype(float) * 2.0 - 1.0
        if self.law == "uniform":
            return rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), size=(n, m))
        if self.law == "student":
            nu = float(self.nu)
            return rng.standard_t(nu, size=(n, m)) * math.sqrt((nu - 2.0) / nu)
        return rng.standard_normal((n, m))

    def draw_scale(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """τ_i = (ν − 2)/χ²_ν for n rows (elliptical-t); ones for the other laws."""
        if self.law != "elliptical-t":
            return np.ones(n)
        nu = float(self.nu)
        return (nu - 2.0) / rng.chisquare(nu, size=n)

    def sample(self, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
        """n i.i.d. rows of the law, float64, shape (n, d); Cov x = Σ."""
        Z = self.draw_noise(n, self.noise_dim(d), rng)
        if self.law == "elliptical-t":
            Z *= np.sqrt(self.draw_scale(n, rng))[:, None]  # √τ Σ^{1/2} z = Σ^{1/2} (√τ z)
        return self.apply_root(d, Z)

    # ---- everything else is the base model's
    def resolvent(self, d, ctx):
        return self.base.resolvent(d, ctx)

    def sigma(self, d: int) -> np.ndarray:
        return self.base.sigma(d)

    def check_d(self, d):
        return self.base.check_d(d)

    def default_d(self):
        return self.base.default_d()

    def limit_description(self):
        return self.base.limit_description()

    def limit_base(self):
        return self.base.limit_base()

    def ar1_rho(self):
        return self.base.ar1_rho()

    def spectral_types(self, d, ctx, kappa):
        return self.base.spectral_types(d, ctx, kappa)

    def constant_diagonal(self, d):
        return self.base.constant_diagonal(d)

    def sigma_max(self, d, ctx):
        return self.base.sigma_max(d, ctx)

    def sigma_entry(self, d, ctx):
        return self.base.sigma_entry(d, ctx)

    def sigma_apply(self, d, B):
        return self.base.sigma_apply(d, B)

    def sigma_lowrank(self, d):
        return self.base.sigma_lowrank(d)

    def spike_directions(self, d):
        return self.base.spike_directions(d)

    def __getattr__(self, name):
        # model-specific attributes (rho, theta, boundary, …) read through to the base model
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)


def with_law(model: CovarianceModel, law: str = "gaussian", nu=None) -> CovarianceModel:
    """``model`` with rows of ``law`` (one of LAWS; ν > 2 for student and elliptical-t). ``gaussian`` returns ``model``."""
    if not isinstance(model, CovarianceModel):
        raise InputError("model", f"a covariance model; got {type(model).__name__}")
    law = parse_law(law)
    nu = parse_nu(law, nu)
    if isinstance(model, LawModel):
        raise InputError("law", f"model {model.key()} already has a data law; apply with_law to its base model")
    if law == "gaussian":
        return model
    return LawModel(model, law, nu)


def law_of(model: CovarianceModel) -> tuple[str, Fraction | None]:
    """(law, ν) of a model: ('gaussian', None) for a model that is not wrapped."""
    if isinstance(model, LawModel):
        return model.law, model.nu
    return "gaussian", None


def base_of(model: CovarianceModel) -> CovarianceModel:
    """The covariance model under a data law (the model itself when it is Gaussian)."""
    return model.base if isinstance(model, LawModel) else model


__all__ = ["LAWS", "IID_LAWS", "NU_LAWS", "LawModel", "with_law", "law_of", "base_of", "parse_law", "parse_nu"]
