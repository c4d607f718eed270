"""BBP outliers of S and of the SSR matrix for spikes on the isotropic base (derivation bbp).

The threshold solves ψ'(ℓ_c) = 0 for ℓ above the population spectrum, where
ψ(ℓ) = ℓ(1 + γ∫ t/(ℓ − t) dH) is evaluated atom by atom from the
derivation's results; it is found by Newton's method safeguarded by
bisection (ψ' is increasing there, so the root is unique), not taken from a
closed form, so the closed form θ_c = 1/√α is an independent check.
For the SSR matrix with a delocalised spike the eigenvalue map
φ(s) = 1 − λ/(κc₀(s + λ)) is increasing, so the threshold is the same and
the location is φ(ψ(ℓ)).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .errors import InputError, SolverError
from .formulas import Formulas
from .models import make_model
from .params import INF, choice, parse
from .precision import decimal, deliver, mpf
from .theory import solve_kappa

MATRICES = ("sample", "ssr")
#: population spectral law of the isotropic base, as (weight, atom)
ISOTROPIC_H = ((Fraction(1), Fraction(1)),)


@dataclass(frozen=True)
class Threshold:
    theta_c: object
    ell_c: object
    matrix: str
    alpha: Fraction
    lam: Fraction | None
    dps: int
    ctx: object

    def as_dict(self) -> dict:
        out = {"theta_c": decimal(self.ctx, self.theta_c, self.dps), "matrix": self.matrix, "alpha": str(self.alpha), "dps": self.dps, "certified": False}
        if self.lam is not None:
            out["lam"] = str(self.lam)
        return out


@dataclass(frozen=True)
class Outlier:
    location: object
    overlap: object
    bulk_edge: object
    separated: bool
    matrix: str
    dps: int
    ctx: object

    def as_dict(self) -> dict:
        return {
            "location": decimal(self.ctx, self.location, self.dps),
            "overlap": decimal(self.ctx, self.overlap, self.dps),
            "bulk_edge": decimal(self.ctx, self.bulk_edge, self.dps),
            "separated": self.separated,
            "matrix": self.matrix,
        }


class _Psi:
    """ψ, ψ', ψ'' for an atomic H, in one context."""

    def __init__(self, alpha, ctx, H=ISOTROPIC_H):
        F = Formulas(ctx)
        self.ctx = ctx
        self.a = mpf(ctx, alpha)
        self.H = [(mpf(ctx, w), mpf(ctx, t)) for w, t in H]
        self.t_max = max(t for _, t in self.H)
        self._psi, self._psi_p, self._psi_pp = F("bbp.psi_atom"), F("bbp.psi_atom_p"), F("bbp.psi_atom_pp")

    def psi(self, ell):
        return self.ctx.fsum(w * self._psi(ell, t, self.a) for w, t in self.H)

    def psi_p(self, ell):
        return self.ctx.fsum(w * self._psi_p(ell, t, self.a) for w, t in self.H)

    def psi_pp(self, ell):
        return self.ctx.fsum(w * self._psi_pp(ell, t, self.a) for w, t in self.H)

    def ell_c(self):
        """The unique zero of the increasing ψ' on (t_max, ∞)."""
        ctx = self.ctx
        lo = self.t_max  # ψ' → −∞ as ℓ → t_max+
        hi = self.t_max * (1 + ctx.sqrt(1 / self.a)) + 1  # ψ' > 0 here (each atom term is bounded)
        x = (lo + hi) / 2
        tol = ctx.mpf(2) ** (-(ctx.prec - 6))
        for _ in range(100 + 2 * ctx.prec):
            g = self.psi_p(x)
            if g < 0:
                lo = x
            else:
                hi = x
            dg = self.psi_pp(x)
            x_new = x - g / dg if dg > 0 else (lo + hi) / 2
            if not lo < x_new < hi:
                x_new = (lo + hi) / 2
            step = abs(x_new - x)
            x = x_new
            if step <= tol * x or hi - lo <= tol * x:
                return x
        raise SolverError("BBP threshold ψ'(ℓ) = 0", f"Newton's method safeguarded by bisection on ({ctx.nstr(self.t_max, 10)}, inf), {100 + 2 * ctx.prec} iterations; last ℓ = {ctx.nstr(x, 20)}")


def _ssr_scale(alpha, lam, ctx):
    """κ c₀ for the isotropic base at d = ∞ (c₀ = τ(κ))."""
    res = make_model("isotropic").resolvent(INF, ctx)
    kappa = solve_kappa(res, alpha, lam, ctx)
    return kappa, res.trace(kappa)[0]


def threshold(alpha, lam=None, matrix: str = "sample", dps: int = 30) -> Threshold:
    """θ_c for a delocalised spike Σ = I + θvvᵀ, for S or for the SSR matrix Â."""
    alpha = parse("alpha", alpha)
    matrix = choice("matrix", matrix, MATRICES)
    if matrix == "ssr":
        if lam is None:
            raise InputError("lam", "is required for the SSR matrix (matrix = 'ssr')")
        lam = parse("lam", lam)
        if lam == 0:
            raise InputError("lam", "must be > 0 for the SSR matrix; got 0")

    def compute(ctx):
        ell_c = _Psi(alpha, ctx).ell_c()
        # the spike adds θ to the base eigenvalue 1; for Â the map φ is increasing (step ssr-map-increasing)
        return {"ell_c": ell_c, "theta_c": ell_c - 1}

    ctx, vals = deliver(compute, dps, "the BBP threshold")
    return Threshold(vals["theta_c"], vals["ell_c"], matrix, alpha, lam if matrix == "ssr" else None, parse("dps", dps), ctx)


def outlier(theta, alpha, lam=None, matrix: str = "sample", dps: int = 30) -> Outlier:
    """Outlier location, squared overlap with the spike, and bulk edge (overlap 0 below θ_c)."""
    theta = parse("theta", theta)
    alpha = parse("alpha", alpha)
    matrix = choice("matrix", matrix, MATRICES)
    if matrix == "ssr":
        if lam is None:
            raise InputError("lam", "is required for the SSR matrix (matrix = 'ssr')")
        lam = parse("lam", lam)
        if lam == 0:
            raise InputError("lam", "must be > 0 for the SSR matrix; got 0")

    def compute(ctx):
        P = _Psi(alpha, ctx)
        ell_c = P.ell_c()
        edge = P.psi(ell_c)
        ell = 1 + mpf(ctx, theta)
        separated = ell > ell_c
        if separated:
            loc = P.psi(ell)
            ov = Formulas(ctx)("bbp.overlap")(ell, loc, P.psi_p(ell))
        else:
            loc, ov = edge, ctx.mpf(0)  # below θ_c the top eigenvalue sticks to the edge
        if matrix == "ssr":
            kappa, c0 = _ssr_scale(alpha, lam, ctx)
            phi = Formulas(ctx)("bbp.ssr_map")
            l = mpf(ctx, lam)
            loc, edge = phi(loc, l, kappa, c0), phi(edge, l, kappa, c0)
        return {"location": loc, "overlap": ov, "bulk_edge": edge, "separated": bool(separated)}

    ctx, vals = deliver(compute, dps, "the BBP outlier")
    return Outlier(vals["location"], vals["overlap"], vals["bulk_edge"], vals["separated"], matrix, parse("dps", dps), ctx)
