"""Population PCA for AR(1) at d = ∞ and its crossover with masked SSR (derivation pca).

Metric: PCA reconstruction error (tr Σ − Σ_{i≤k} u_iᵀΣu_i)/d with k = φd and
u_i the top eigenvectors of Σ (population PCA). The SSR error it is compared
with is the d = ∞ generalisation error E_gen at (α, λ) (module theory).
"""

from __future__ import annotations

from dataclasses import dataclass
from .formulas import Formulas
from .models import make_model
from .params import INF, parse
from .precision import decimal, deliver, mpf
from .theory import errors


@dataclass(frozen=True)
class Value:
    value: object
    dps: int
    ctx: object

    def as_str(self) -> str:
        return decimal(self.ctx, self.value, self.dps)


@dataclass(frozen=True)
class Crossover:
    f_star: object
    e_ssr: object
    dps: int
    ctx: object

    def as_dict(self) -> dict:
        return {"f_star": decimal(self.ctx, self.f_star, self.dps), "e_ssr": decimal(self.ctx, self.e_ssr, self.dps)}


def population_error_ar1(phi, rho, dps: int = 30) -> Value:
    """E_pca(φ) for population PCA on AR(1) at d = ∞, φ = k/d in [0, 1]."""
    phi = _parse_fraction("k_frac", phi)
    rho = parse("rho", rho)

    def compute(ctx):
        return {"v": Formulas(ctx)("pca.e_pca_ar1")(mpf(ctx, phi), abs(mpf(ctx, rho)))}

    ctx, vals = deliver(compute, dps, "the population PCA error")
    return Value(vals["v"], parse("dps", dps), ctx)


def crossover_ar1(rho, alpha, lam, dps: int = 30) -> Crossover:
    """φ* with E_pca(φ*) = E_SSR(α, λ): SSR beats population PCA with fewer than φ*d directions.

    φ* = 0 when E_SSR ≥ 1 (PCA with any k > 0 is better).
    """
    rho = parse("rho", rho)
    e_ssr = errors(make_model("ar1", rho=rho), alpha, lam, d=INF, dps=parse("dps", dps) + 10)

    def compute(ctx):
        e = ctx.mpf(decimal(e_ssr.ctx, e_ssr.e_gen, e_ssr.dps))
        if e >= 1:
            return {"f": ctx.mpf(0), "e": e}
        return {"f": Formulas(ctx)("pca.f_star")(e, abs(mpf(ctx, rho))), "e": e}

    ctx, vals = deliver(compute, dps, "the SSR-PCA crossover")
    return Crossover(vals["f"], vals["e"], parse("dps", dps), ctx)


def _parse_fraction(name, value):
    from .errors import InputError
    from .params import _exact

    x = _exact(value)
    if x is None or x in (INF, -INF) or not 0 <= x <= 1:
        raise InputError(name, f"must be a real number in [0, 1]; got {value!r}")
    return x
