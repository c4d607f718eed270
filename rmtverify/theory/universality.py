"""Theory for the ``universality`` claim (SPEC §7, issue 16): which deterministic equivalent a data law has, and what the
Gaussian one misses.

- i.i.d. standardised entries (rademacher, uniform, student): the Gaussian equivalents are their universal limit when the
  fourth moment is finite; for Student-t with ν ≤ 4 (infinite fourth moment) the claim measures whether they still are.
- elliptical-t: the elliptical equivalents (derivation elliptical); the Gaussian ones miss them by a few percent.
- Â's spectrum: the Stieltjes transform g_Â(z₀) of the d = ∞ law at z₀ = ½ + ½i, off the real axis (a linear statistic:
  O(1/d) bias and fluctuations for laws with a finite fourth moment).

Heavy tails, a heuristic (not derived; the claim fits the rate freely and reports both): with P(|z| > t) ∝ t^-ν, a
coordinate with z_j² of the order of the row's squared norm ~ d occurs in a fraction d·P(z² > d) ∝ d^(1 − ν/2) of the rows,
and such rows are what the Gaussian equivalent misreads; the gap should then shrink like d^-β with β = min(1, ν/2 − 1):
½ at ν = 3, ¼ at ν = 2.5 (and 1, the usual O(1/d), once ν ≥ 4).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath

from rmtverify.core.params import INF
from rmtverify.models.base import CovarianceModel
from rmtverify.models.laws import base_of, law_of
from rmtverify.theory.elliptical import elliptical_equivalents
from rmtverify.theory.equivalents import equivalents
from rmtverify.theory.spectrum import spectral_law

#: where the Stieltjes transform of Â's law is evaluated (Â's spectrum lies below 1; ½ + ½i is ≥ ½ away from it)
Z0 = complex(0.5, 0.5)
KEYS = ("kappa", "e_gen", "e_train")


def role(model: CovarianceModel) -> str:
    """``elliptical`` (elliptical-t), ``heavy`` (Student-t with ν ≤ 4: infinite fourth moment) or ``iid`` (gaussian and the
    other i.i.d. laws, whose universal limit is the Gaussian equivalent)."""
    law, nu = law_of(model)
    if law == "elliptical-t":
        return "elliptical"
    return "heavy" if law == "student" and nu <= 4 else "iid"


def law_theories(model: CovarianceModel, alpha, lam, d=INF, dps: int | None = 30) -> dict:
    """{"gaussian": {kappa, e_gen, e_train}, "elliptical": the same or None} for a model that may carry a data law, at
    dimension d (``dps=None``: double precision). Numbers of the theory's context (mpmath)."""
    law, nu = law_of(model)
    base = base_of(model)
    g = equivalents(base, alpha, lam, d=d, dps=dps)
    out = {"gaussian": {k: getattr(g, k) for k in KEYS}, "elliptical": None}
    if law == "elliptical-t":
        e = elliptical_equivalents(base, alpha, lam, "elliptical-t", nu, d=d, dps=dps)
        out["elliptical"] = {k: e.values[k] for k in KEYS}
    return out


def elliptical_gap(model: CovarianceModel, alpha, lam, dps: int = 30) -> dict:
    """The d = ∞ relative gap E_gen(elliptical)/E_gen(Gaussian) − 1 (and for E_train), as decimal strings."""
    t = law_theories(model, alpha, lam, INF, dps)
    if t["elliptical"] is None:
        return {}
    return {f"rel_gap_{k}": mpmath.nstr(t["elliptical"][k] / t["gaussian"][k] - 1, dps) for k in ("e_gen", "e_train")}


def stieltjes_limit(model: CovarianceModel, alpha, lam, z: complex = Z0) -> complex:
    """g_Â(z) = (1/d) tr (Â − z)^-1 at d = ∞ (the Gaussian law of Â's spectrum; 20-digit solve, returned in double)."""
    law = spectral_law(base_of(model), alpha, lam, d=INF, dps=None)
    return complex(law.g(law.ctx.mpc(z.real, z.imag)))


def heavy_tail_rate(nu) -> float:
    """The heuristic rate β = min(1, ν/2 − 1) of the gap to the Gaussian equivalent for Student-t entries (module doc)."""
    return float(min(Fraction(1), Fraction(nu) / 2 - 1))


__all__ = ["Z0", "role", "law_theories", "elliptical_gap", "stieltjes_limit", "heavy_tail_rate"]
