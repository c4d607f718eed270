"""Masking at rate p (SPEC §8): the deterministic equivalent of E_mask(p) and the optimal rate p*.

The formulas are the results of derivation ``masking``. With c = p/(1 − p), λ' = λ/(1 − p)², Λ = Diag(Σ) and the
deterministic diagonal Γ = cΛ + λ'I, R = (Σ + Γ/e)^{-1} where e ∈ (0, 1) solves e = 1 − T₁/α, T₁ = (1/d) tr ΣR, and

    E_mask ≍ (1/d) Σ_k ((1 + ε) a_k + c b_k)/m_k²,   ε = (T₂ + cT₃)/(α − T₂),

with m_k = R_kk, a_k = [RΣR]_kk, b_k = Σ_{j≠k} R_kj² Λ_j, T₂ = (1/d) tr (ΣR)², T₃ = (1/d) Σ_k Λ_k a_k. Three routes,
chosen by what Σ's diagonal is (never by the model's name):

- ``effective-ridge``: Λ = σI (isotropic, AR(1), a flat rank-one spike; every model at d = ∞ whose law is isotropic or
  AR(1)): Γ = λ_eff I, λ_eff = λ/(1 − p)² + cσ, and the model's own resolvent gives κ (SSR's κ at λ_eff, e = λ_eff/κ), τ
  and diag R in O(d) or in closed form at d = ∞;
- ``diagonal``: Σ diagonal (mixtures, e1 spikes on Σ₀ = I, a diagonal custom Σ): one term per population type;
- ``dense``: any other Σ at finite d (random or several flat spikes, spikes on AR(1), a custom Σ): R by a dense inverse,
  in ball arithmetic at the working precision (python-flint) or in float64 (``dps=None``).

Precision as in :mod:`rmtverify.theory.equivalents`: ``dps`` digits are delivered (two working precisions must agree,
``core.precision.deliver``), ``dps=None`` is the double-precision path; numbers leave as decimal strings (``as_dict``).

The optimal rate minimises E_mask over p ∈ (0, 1): a scan in double precision over u = logit(p) gives a start; at the
working precision the minimum is bracketed by the sign of dE_mask/du (walking the grid, marching past its ends in u, so
that minima within 1e-12 of p = 1 or p = 0 are found) and is the bracketed root of dE_mask/du. An end is reported only when
E_mask falls toward it until it equals its limit at the working precision: p → 0 (E_mask → SSR's E_gen, the formulas at
c = 0) or p → 1 (Â_p → 0 and E_mask → tr Σ/d).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, MAX_D_THEORY, MAX_D_THEORY_DOUBLE, check_dimension, exact, parse
from rmtverify.core.precision import context, decimal, deliver, mpf
from rmtverify.models.base import CovarianceModel
from rmtverify.symbolic.certify import flint_precision, to_arb
from rmtverify.symbolic.formulas import Formulas
from rmtverify.theory.kappa import solve_kappa

ROUTES = ("effective-ridge", "diagonal", "dense")
#: the double-precision scan of p* : logit(p) from -LOGIT_SPAN to LOGIT_SPAN (p from 1e-6 to 1 − 1e-6)
LOGIT_SPAN = 14
SCAN_POINTS = 57
#: digits the double-precision routes print: against 30-digit values their error is at most 8e-15 relative (AR(1) ρ = 0.9,
#: spikes e1 and random, d = 48, p from 0.05 to 0.95; tests/test_masking.py), 60 times below half a unit in the 12th digit
DOUBLE_DIGITS = 12
#: the scan of λ for ``lam_opt``: log10 λ in [LOG_LAM_LO, LOG_LAM_HI]
LOG_LAM_LO, LOG_LAM_HI, LAM_POINTS = -4, 3, 36


def parse_mask_rate(p) -> Fraction:
    """The mask rate as an exact rational in the open interval (0, 1), else InputError naming ``mask_rate``."""
    allowed = "a real number in (0, 1) (p = 0 is one-at-a-time SSR, see `theory`; p = 1 masks everything)"
    x = exact(p, "mask_rate", allowed)
    if x is None or x in (INF, -INF) or not 0 < x < 1:
        raise InputError("mask_rate", f"must be {allowed}; got {p!r}")
    return x


@dataclass(frozen=True)
class MaskResult:
    """The masked-rate equivalents at one (model, α, λ, p, d); numbers live in ``ctx``."""

    model: dict
    d: object
    alpha: Fraction
    lam: Fraction
    mask_rate: Fraction
    dps: int | None
    ctx: object
    route: str
    values: dict = field(default_factory=dict)  # e_mask, e, epsilon, t1, t2, t3 and, on the effective-ridge route, kappa, lam_eff

    def __getattr__(self, key):
        try:
            return self.__dict__["values"][key]
        except KeyError:
            raise AttributeError(key) from None

    def as_dict(self) -> dict:
        digits = self.dps if self.dps is not None else DOUBLE_DIGITS
        out = {"model": self.model, "d": "inf" if self.d == INF else self.d, "alpha": str(self.alpha), "lam": str(self.lam),
               "mask_rate": str(self.mask_rate), "dps": self.dps if self.dps is not None else "double", "route": self.route}
        if self.dps is None:
            out["digits"] = DOUBLE_DIGITS
        for key, v in self.values.items():
            out[key] = decimal(self.ctx, v, digits)
        return out


# ---------------------------------------------------------------- what Σ's diagonal is


def _num(ctx, x):
    return mpf(ctx, x) if isinstance(x, (Fraction, int)) else ctx.mpf(x)


def _constant_diagonal_value(model: CovarianceModel, d, ctx):
    """σ when Σ_kk = σ for every k (at d = ∞: for the bulk of the limit law), else None."""
    if d == INF:
        base = model.limit_base()
        types = base.spectral_types(INF, ctx, ctx.mpf(1))
        if types is None:
            base.ar1_rho()  # the d = ∞ law is AR(1) (else InputError): unit diagonal
            return ctx.mpf(1)
        sig = set(types.sigmas)
        return types.sigmas[0] if len(sig) == 1 else None
    types = model.spectral_types(d, ctx, ctx.mpf(1))
    if types is not None:
        return types.sigmas[0] if len(set(types.sigmas)) == 1 else None
    entry = model.sigma_entry(d, ctx)
    first = entry(0, 0)
    return _num(ctx, first) if all(entry(k, k) == first for k in range(1, d)) else None


# ---------------------------------------------------------------- the three routes


def _effective_ridge(model, alpha, lam, p, d, ctx, sigma, F):
    a, l = mpf(ctx, alpha), mpf(ctx, lam)
    lam_eff = F("masking.lam_eff")(l, p, sigma)
    res = model.resolvent(d, ctx)
    kappa = solve_kappa(res, alpha, exact(lam_eff), ctx, F)
    tau, tau_p = res.trace(kappa)
    t1 = F("kappa.df1_over_d")(kappa, tau)
    t2 = F("kappa.df2_over_d")(kappa, tau, tau_p)
    t3 = F("masking.t3_scalar")(tau, tau_p, kappa, sigma)
    eps = F("masking.second_order")(t2, t3, a, p)
    term, rsr, off = F("masking.mask_term"), F("masking.rsr_scalar"), F("masking.offdiag_scalar")
    e_mask = ctx.fsum(mpf(ctx, g.weight) * term(rsr(g.m, g.m_p, kappa), off(g.m, g.m_p, sigma), g.m, eps, p)
                      for g in res.diagonal(kappa))
    return {"e_mask": e_mask, "e": lam_eff / kappa, "epsilon": eps, "t1": t1, "t2": t2, "t3": t3, "kappa": kappa, "lam_eff": lam_eff}


def _solve_e(stats, alpha, ctx, F, what):
    """The root e ∈ (0, 1) of e − 1 + T₁(e)/α (increasing; derivation masking, fixed-point-slope): Newton's method
    safeguarded by bisection. ``stats(e)`` returns (T₁, U)."""
    a = mpf(ctx, alpha)
    fp, slope = F("masking.fixed_point"), F("masking.fixed_point_slope")
    lo, hi = ctx.mpf(0), ctx.mpf(1)
    x = ctx.mpf(1) / 2
    tol = ctx.mpf(2) ** (-(ctx.prec - 8))
    for _ in range(200 + 2 * ctx.prec):
        t1, u = stats(x)
        f = fp(x, a, t1)
        if f == 0:
            return x
        lo, hi = (x, hi) if f < 0 else (lo, x)
        step = f / slope(x, a, u)
        nxt = x - step
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2
        if abs(nxt - x) <= tol * x or hi - lo <= tol * x:
            return nxt
        x = nxt
    raise SolverError(f"the fixed point e = 1 − T1/α of {what}", f"Newton with bisection on (0, 1), last bracket [{lo}, {hi}]")


def _diagonal(types, alpha, lam, p, ctx, F):
    """Σ diagonal: R = diag 1/(σ_i + Γ_i/e) per population type (weight w_i, σ_i = Λ_i), b_i = 0."""
    a, l = mpf(ctx, alpha), mpf(ctx, lam)
    c, lp = F("masking.mask_ratio")(p), F("masking.ridge_masked")(l, p)
    w = [mpf(ctx, x) for x in types.weights]
    sig = list(types.sigmas)
    gam = [c * s + lp for s in sig]
    r_of = F("kappa.resolvent_eigenvalue")

    def resolvent(e):
        return [r_of(s, g / e) for s, g in zip(sig, gam)]  # 1/(σ + Γ/e)

    def stats(e):
        r = resolvent(e)
        return (ctx.fsum(wi * s * ri for wi, s, ri in zip(w, sig, r)),
                ctx.fsum(wi * g * s * ri * ri for wi, g, s, ri in zip(w, gam, sig, r)))

    e = _solve_e(stats, alpha, ctx, F, "the diagonal-Σ masked equivalent")
    r = resolvent(e)
    t1 = stats(e)[0]
    t2 = ctx.fsum(wi * (s * ri) ** 2 for wi, s, ri in zip(w, sig, r))
    t3 = ctx.fsum(wi * s * s * ri * ri for wi, s, ri in zip(w, sig, r))
    eps = F("masking.second_order")(t2, t3, a, p)
    term = F("masking.mask_term")
    e_mask = ctx.fsum(wi * term(s * ri * ri, 0, ri, eps, p) for wi, s, ri in zip(w, sig, r))
    return {"e_mask": e_mask, "e": e, "epsilon": eps, "t1": t1, "t2": t2, "t3": t3}


class _DenseDouble:
    """R = (Σ + Γ/e)^{-1} for a dense Σ in float64."""

    def __init__(self, sigma, gam):
        self.S, self.g = sigma, np.asarray(gam, dtype=float)

    def parts(self, e):
        R = np.linalg.inv(self.S + np.diag(self.g / e))
        P = R @ self.S  # RΣ; ΣR = Pᵀ
        a = np.einsum("kj,jk->k", P, R)  # [RΣR]_kk
        return R, P, a

    def stats(self, e):
        R, P, a = self.parts(e)
        return float(np.trace(P)) / len(a), float(self.g @ a) / len(a)

    def finish(self, e, lam_diag):
        R, P, a = self.parts(e)
        d = len(a)
        m = np.diag(R).copy()
        R2 = R * R
        np.fill_diagonal(R2, 0)
        b = R2 @ lam_diag  # Σ_{j≠k} R_kj² Λ_j, summed without the j = k term (no cancellation)
        return ([float(x) for x in m], [float(x) for x in a], [float(x) for x in b],
                float(np.trace(P)) / d, float(np.sum(P * P.T)) / d, float(lam_diag @ a) / d)


class _DenseBall:
    """R = (Σ + Γ/e)^{-1} for a dense Σ in arb ball arithmetic at the context's precision (python-flint)."""

    def __init__(self, rows, gam, ctx):
        import flint

        self.flint, self.ctx, self.d = flint, ctx, len(rows)
        self.bits = ctx.prec + 40
        with flint_precision(self.bits):
            self.S = flint.arb_mat(self.d, self.d, [self._arb(x) for row in rows for x in row])
            self.g = [to_arb(ctx.mpf(x)) for x in gam]

    def _arb(self, x):
        if isinstance(x, Fraction):
            return self.flint.arb(self.flint.fmpq(x.numerator, x.denominator))
        return to_arb(self.ctx.mpf(x))

    def _mp(self, x):
        if not x.rad() <= abs(x.mid()) * self.flint.arb(2) ** (-(self.ctx.prec + 4)) and x.rad() > 0 and x.mid() != 0:
            raise SolverError("ball-arithmetic inverse of Σ + Γ/e", f"balls wider than {self.ctx.prec} bits at {self.bits} bits")
        man, exp = x.mid().man_exp()
        return self.ctx.mpf(int(man)) * self.ctx.mpf(2) ** int(exp)

    def parts(self, e):
        flint, d = self.flint, self.d
        with flint_precision(self.bits):
            ea = to_arb(self.ctx.mpf(e))
            M = flint.arb_mat(self.S)
            for k in range(d):
                M[k, k] = M[k, k] + self.g[k] / ea
            R = M.inv()
            P = R * self.S
            a = [sum((P[k, j] * R[j, k] for j in range(d)), flint.arb(0)) for k in range(d)]
        return R, P, a

    def stats(self, e):
        R, P, a = self.parts(e)
        with flint_precision(self.bits):
            t1 = sum((P[k, k] for k in range(self.d)), self.flint.arb(0)) / self.d
            u = sum((g * x for g, x in zip(self.g, a)), self.flint.arb(0)) / self.d
        return self._mp(t1), self._mp(u)

    def finish(self, e, lam_diag):
        R, P, a = self.parts(e)
        flint, d = self.flint, self.d
        with flint_precision(self.bits):
            lam_a = [to_arb(self.ctx.mpf(x)) for x in lam_diag]
            b = [sum((R[k, j] * R[k, j] * lam_a[j] for j in range(d) if j != k), flint.arb(0)) for k in range(d)]
            t1 = sum((P[k, k] for k in range(d)), flint.arb(0)) / d
            t2 = sum((P[k, j] * P[j, k] for k in range(d) for j in range(d)), flint.arb(0)) / d
            t3 = sum((x * y for x, y in zip(lam_a, a)), flint.arb(0)) / d
        return ([self._mp(R[k, k]) for k in range(d)], [self._mp(x) for x in a], [self._mp(x) for x in b],
                self._mp(t1), self._mp(t2), self._mp(t3))


def _dense(model, alpha, lam, p, d, ctx, F):
    a, l = mpf(ctx, alpha), mpf(ctx, lam)
    c, lp = F("masking.mask_ratio")(p), F("masking.ridge_masked")(l, p)
    if ctx is mpmath.fp:
        sigma = model.sigma(d)
        lam_diag = np.diag(sigma).copy()
        engine = _DenseDouble(sigma, c * lam_diag + lp)
    else:
        entry = model.sigma_entry(d, ctx)
        rows = [[entry(k, j) for j in range(d)] for k in range(d)]
        lam_diag = [_num(ctx, rows[k][k]) for k in range(d)]
        engine = _DenseBall(rows, [c * x + lp for x in lam_diag], ctx)
    e = _solve_e(engine.stats, alpha, ctx, F, "the dense masked equivalent")
    m, ak, bk, t1, t2, t3 = engine.finish(e, lam_diag)
    eps = F("masking.second_order")(t2, t3, a, p)
    term = F("masking.mask_term")
    e_mask = ctx.fsum(term(x, y, z, eps, p) for x, y, z in zip(ak, bk, m)) / d
    return {"e_mask": e_mask, "e": e, "epsilon": eps, "t1": t1, "t2": t2, "t3": t3}


def route_of(model: CovarianceModel, d, ctx=None) -> str:
    """Which route computes E_mask for ``model`` at ``d`` (see the module docstring)."""
    ctx = ctx or mpmath.fp
    if _constant_diagonal_value(model, d, ctx) is not None:
        return "effective-ridge"
    base = model.limit_base() if d == INF else model
    return "diagonal" if base.spectral_types(d, ctx, ctx.mpf(1)) is not None else "dense"


def mask_values_in(model: CovarianceModel, alpha, lam, p, d, ctx) -> tuple[str, dict]:
    """(route, values) of the equivalent in ``ctx``; ``p`` a Fraction or a number of ``ctx`` in [0, 1) (p = 0 is SSR)."""
    F = Formulas(ctx)
    p = _num(ctx, p)
    sigma = _constant_diagonal_value(model, d, ctx)
    if sigma is not None:
        return "effective-ridge", _effective_ridge(model, alpha, lam, p, d, ctx, sigma, F)
    base = model.limit_base() if d == INF else model
    types = base.spectral_types(d, ctx, ctx.mpf(1))
    if types is not None:
        return "diagonal", _diagonal(types, alpha, lam, p, ctx, F)
    if d == INF:
        raise InputError("d", f"model {model.name!r} has no d = inf description of its diagonal; use a finite d")
    return "dense", _dense(model, alpha, lam, p, d, ctx, F)


def _validate(model, alpha, lam, d, dps):
    alpha, lam = parse("alpha", alpha), parse("lam", lam)
    d = model.check_d(d)
    if dps is None:
        check_dimension(d, MAX_D_THEORY_DOUBLE, "the masked-rate theory in double precision")
    else:
        parse("dps", dps)
        check_dimension(d, MAX_D_THEORY, "the masked-rate theory in multiprecision")
    return alpha, lam, d


def _double_path_context(model, d, p, lam):
    """The context of the double-precision path: mpmath.fp, unless the formulas lose more digits than doubles can spare.

    The effective-ridge and diagonal routes lose about 2 log10(1 + c + λ') digits as p → 1 or λ → ∞ (df2/d = 1 − 2κτ − κ²τ'
    and m² + m' cancel when κ is large); they then run in mpmath with those digits added and are rounded to floats. The dense
    route sums b_k without its j = k term and has no such cancellation."""
    c = float(p) / (1 - float(p))
    lost = 2 * np.log10(1 + c + float(lam) / (1 - float(p)) ** 2)
    if lost <= 3 or route_of(model, d) == "dense":
        return mpmath.fp
    return context(20 + int(lost))


def mask_error(model: CovarianceModel, alpha, lam, p, d=INF, dps: int | None = 30) -> MaskResult:
    """The deterministic equivalent of E_mask(p) and its ingredients (e, ε, T₁..T₃; κ and λ_eff on the effective-ridge
    route) at ``dps`` delivered digits (``dps=None``: double precision)."""
    p = parse_mask_rate(p)
    alpha, lam, d = _validate(model, alpha, lam, d, dps)
    if dps is None:
        route, vals = mask_values_in(model, alpha, lam, p, d, _double_path_context(model, d, p, lam))
        return MaskResult(model.describe(), d, alpha, lam, p, None, mpmath.fp, route, {k: float(v) for k, v in vals.items()})
    box = {}

    def compute(ctx):
        box["route"], vals = mask_values_in(model, alpha, lam, p, d, ctx)
        return vals

    ctx, vals = deliver(compute, dps, "the masked-rate equivalents")
    return MaskResult(model.describe(), d, alpha, lam, p, parse("dps", dps), ctx, box["route"], vals)


# ---------------------------------------------------------------- the optimal rate


@dataclass(frozen=True)
class OptimalRate:
    """p* (and λ* with ``lam_opt``) minimising E_mask; ``endpoint`` is None for an interior minimum, else "p -> 0" or
    "p -> 1" (the infimum is the limit there and is not attained), and, with ``lam_opt``, possibly "lam -> 0" / "lam -> inf"
    when λ* leaves the scanned range."""

    model: dict
    d: object
    alpha: Fraction
    lam: Fraction | None
    dps: int | None
    ctx: object
    p_star: object
    e_mask: object
    lam_star: object = None
    endpoint: str | None = None
    scan: tuple = ()  # (p, E_mask) of the double-precision scan, for figures

    def as_dict(self) -> dict:
        digits = self.dps if self.dps is not None else DOUBLE_DIGITS
        out = {"model": self.model, "d": "inf" if self.d == INF else self.d, "alpha": str(self.alpha),
               "dps": self.dps if self.dps is not None else "double", "endpoint": self.endpoint,
               **({"digits": DOUBLE_DIGITS} if self.dps is None else {}),
               "mask_rate": decimal(self.ctx, self.p_star, digits), "e_mask": decimal(self.ctx, self.e_mask, digits)}
        if self.lam is not None:
            out["lam"] = str(self.lam)
        if self.lam_star is not None:
            out["lam_star"] = decimal(self.ctx, self.lam_star, digits)
        return out


def _logistic(ctx, u):
    return 1 / (1 + ctx.exp(-u))


def _scan(model, alpha, lam, d):
    """E_mask in double precision on a logit(p) grid (the same formulas in mpmath.fp)."""
    fp = mpmath.fp
    us = np.linspace(-LOGIT_SPAN, LOGIT_SPAN, SCAN_POINTS)
    vals = []
    for u in us:
        pv = exact(_logistic(fp, float(u)))
        vals.append(mask_values_in(model, alpha, lam, pv, d, _double_path_context(model, d, pv, lam))[1]["e_mask"])
    return us, np.array([float(v) for v in vals])


def _endpoint_values(model, alpha, lam, d, ctx, which):
    if which == "p -> 1":
        return model.resolvent(d, ctx).mean_sigma  # Â_p → 0: E_mask → tr Σ/d
    return mask_values_in(model, alpha, lam, 0, d, ctx)[1]["e_mask"]  # c = 0: SSR's E_gen


def _lost_digits(u, lam) -> float:
    """Digits the effective-ridge and diagonal routes lose at p = logistic(u) (see :func:`_double_path_context`):
    2 log10(1 + c + λ'), c = e^u, λ' = λ(1 + e^u)²; computed without overflow for large u."""
    u, lam = float(u), float(lam)
    if u < 300:
        return 2 * math.log10(1 + math.exp(u) + lam * (1 + math.exp(u)) ** 2)
    return 2 * max(u / math.log(10), math.log10(lam) + 2 * u / math.log(10) if lam > 0 else 0.0)


class _Objective:
    """E_mask(u, λ) at the working precision of ``ctx``, p = logistic(u) (u = -inf: p = 0), with the digits the formulas lose
    near p → 1 added (the point p is formed at that precision too, so that 1 − p keeps its digits)."""

    def __init__(self, model, alpha, d, ctx):
        self.model, self.alpha, self.d, self.ctx = model, alpha, d, ctx
        self.dense = route_of(model, d) == "dense"

    def __call__(self, u, lam):
        ctx = self.ctx
        extra = 0 if self.dense or u == -INF else _lost_digits(u, lam)
        with ctx.extraprec(int(3.33 * extra) + 8):
            p = ctx.mpf(0) if u == -INF else _logistic(ctx, u)
            val = mask_values_in(self.model, self.alpha, lam, p, self.d, ctx)[1]["e_mask"]
        return +val

    def slope_u(self, lam):
        """u -> dE_mask/du (its sign is that of dE_mask/dp), numerically at twice the working precision (mpmath ``diff``)."""
        return lambda u: self.ctx.diff(lambda x: self(x, lam), u)


def _tolerance(ctx):
    """Relative size below which two values of E_mask are equal at the working precision of ``ctx``."""
    return ctx.mpf(2) ** (-(ctx.prec - 16))


def _bracketed_root(ctx, g, a, b, ga, gb, what):
    """A root of g in [a, b], g(a) < 0 < g(b) (or the reverse): regula falsi with the Illinois modification, a bisection
    whenever three steps fail to halve the bracket; every iterate stays inside the bracket."""
    if ga == 0:
        return a
    if gb == 0:
        return b
    if (ga < 0) == (gb < 0):
        raise SolverError(what, f"no sign change of the derivative on [{ctx.nstr(a, 8)}, {ctx.nstr(b, 8)}]")
    tol = ctx.mpf(2) ** (-(ctx.prec - 6))
    side, bisect, widths = 0, False, [b - a]
    for _ in range(6 * ctx.prec + 100):
        if b - a <= tol * (1 + max(abs(a), abs(b))):
            break
        x = (a + b) / 2 if bisect else (a * gb - b * ga) / (gb - ga)
        if not a < x < b:
            x = (a + b) / 2
        gx = g(x)
        if gx == 0:
            return x
        if (gx < 0) == (ga < 0):
            a, ga = x, gx
            if side == -1:
                gb /= 2
            side = -1
        else:
            b, gb = x, gx
            if side == 1:
                ga /= 2
            side = 1
        widths.append(b - a)
        bisect = not bisect and len(widths) > 3 and widths[-1] > widths[-4] / 2  # three steps have not halved the bracket
    else:
        raise SolverError(what, f"{6 * ctx.prec + 100} bracketed steps on [{ctx.nstr(a, 12)}, {ctx.nstr(b, 12)}] without convergence")
    return (a * gb - b * ga) / (gb - ga) if gb != ga else (a + b) / 2


#: at most this many doublings of the step when marching beyond the scan toward an end (|u| up to about 2^MARCH_STEPS)
MARCH_STEPS = 12


def _minimise_over_logit(ctx, value, slope, us, i, end_values, what):
    """min over u = logit(p) ∈ ℝ of value(u), from the scan's grid ``us`` (numbers) and its minimum's index ``i``.

    Every decision is taken at the working precision of ``ctx`` from the sign of ``slope`` (that of dE/du): a bracket
    [a, b] with slope(a) < 0 < slope(b) is found by walking the grid from i downhill, and, past the grid's first or last
    point, by marching toward that end with doubling steps; the minimum is then the bracketed root of the slope. An end
    is declared only when the slope keeps the sign of a descent all the way until value(u) equals the limit there
    (``end_values[end]()``) at the working precision: the infimum is that limit and E_mask is monotone toward it.
    Returns (u*, value, endpoint): u* = ∓inf at an end."""
    tol = _tolerance(ctx)
    n = len(us)
    grid = [ctx.mpf(float(u)) for u in us]
    a, b = max(i - 1, 0), min(i + 1, n - 1)
    ga, gb = slope(grid[a]), slope(grid[b])
    while ga > 0 and a > 0:  # still rising to the left of a: go left
        b, gb = a, ga
        a -= 1
        ga = slope(grid[a])
    while gb < 0 and b < n - 1:  # still falling to the right of b: go right
        a, ga = b, gb
        b += 1
        gb = slope(grid[b])
    ua, ub = grid[a], grid[b]
    for end, sign in (("p -> 0", -1), ("p -> 1", 1)):
        g_edge = ga if sign < 0 else gb
        if not (g_edge > 0 if sign < 0 else g_edge < 0):
            continue
        limit = end_values[end]()
        u, g, step = (ua, ga, 1) if sign < 0 else (ub, gb, 1)
        for _ in range(MARCH_STEPS + 1):
            gap = abs(value(u) - limit)
            if gap <= tol * abs(limit):
                return (-INF if sign < 0 else INF), limit, end
            # the gap to the limit falls at least like e^{-|u|} (like p at p → 0, like (1 − p)^k, k ≥ 1, at p → 1): a step of
            # log(gap/tol) goes about where it is below the precision; doubling steps if it falls slower
            step = max(step, min(float(ctx.log(gap / (tol * abs(limit)))), 2.0**MARCH_STEPS))
            nxt = u + sign * step
            g_nxt = slope(nxt)
            if (g_nxt < 0) if sign < 0 else (g_nxt > 0):  # the slope turned: a minimum between u and nxt
                (ua, ga, ub, gb) = (nxt, g_nxt, u, g) if sign < 0 else (u, g, nxt, g_nxt)
                break
            u, g, step = nxt, g_nxt, 2 * step
        else:
            raise SolverError(what, f"E_mask still {'rising' if sign < 0 else 'falling'} toward {end} at logit(p) = "
                                    f"{ctx.nstr(u, 6)} and not yet equal to its limit there at {ctx.dps} digits")
        break
    u_star = _bracketed_root(ctx, slope, ua, ub, ga, gb, what)
    e_star = value(u_star)
    if e_star > min(value(ua), value(ub)) + tol * abs(e_star):
        raise SolverError(what, f"the root of dE/du in [{ctx.nstr(ua, 10)}, {ctx.nstr(ub, 10)}] is not below its ends")
    return u_star, e_star, None


def optimal_mask_rate(model: CovarianceModel, alpha, lam=None, dps: int | None = 30, lam_opt: bool = False, d=INF) -> OptimalRate:
    """p* = argmin_{p ∈ (0, 1)} E_mask(p) at fixed λ, or (p*, λ*) jointly with ``lam_opt=True`` (then ``lam`` is ignored).

    A double-precision scan over logit(p) gives a start; at the working precision the minimum is bracketed by the sign of
    dE_mask/du (walking the grid downhill, marching past its ends with doubling steps in u = logit p, which resolves minima
    within 1e-12 or 1e-40 of an end alike) and is the bracketed root of dE_mask/du. An end (p → 0: SSR's E_gen; p → 1:
    tr Σ/d) is reported in ``endpoint`` only when E_mask falls toward it all the way until it equals its limit at the
    working precision; then ``p_star`` is 0 or 1 and ``e_mask`` the limit. ``dps`` digits are delivered (two precisions
    agree, the endpoint decision included); ``dps=None`` computes at 30 digits and prints 12."""
    alpha, lam_v, d = _validate(model, alpha, 1 if lam_opt else lam, d, dps)
    if lam_opt:
        return _optimal_joint(model, alpha, d, dps)
    us, vals = _scan(model, alpha, lam_v, d)
    i = int(np.nanargmin(vals))
    scan = tuple(zip((float(1 / (1 + np.exp(-u))) for u in us), vals))

    def compute(ctx):
        f = _Objective(model, alpha, d, ctx)
        ends = {"p -> 1": lambda: _endpoint_values(model, alpha, lam_v, d, ctx, "p -> 1"), "p -> 0": lambda: f(-INF, lam_v)}
        u, e, end = _minimise_over_logit(ctx, lambda x: f(x, lam_v), f.slope_u(lam_v), us, i, ends, "the optimal mask rate")
        p = ctx.mpf(0) if end == "p -> 0" else ctx.mpf(1) if end == "p -> 1" else _logistic(ctx, u)
        return {"p_star": p, "e_mask": e, "endpoint": end}

    if dps is None:
        ctx = _double_context()
        vals_ = compute(ctx)
    else:
        ctx, vals_ = deliver(compute, dps, "the optimal mask rate")
    return OptimalRate(model.describe(), d, alpha, lam_v, parse("dps", dps) if dps is not None else None, ctx, vals_["p_star"],
                       vals_["e_mask"], endpoint=vals_["endpoint"], scan=scan)


def _double_context():
    # the optimum's derivative needs more than double precision even for a double answer: compute at 30 digits
    ctx = mpmath.MPContext()
    ctx.dps = 30
    return ctx


#: the inner minimisation over v = log10 λ stops (λ* → 0, or λ* beyond the range) at these values of v
LOG_LAM_MIN, LOG_LAM_MAX = -16, 16


def _joint_grid(model, alpha, d, us, vs):
    fp = mpmath.fp
    grid = np.empty((len(us), len(vs)))
    for i, u in enumerate(us):
        for j, v in enumerate(vs):
            lam, pv = exact(10.0 ** v), exact(_logistic(fp, float(u)))
            grid[i, j] = float(mask_values_in(model, alpha, lam, pv, d, _double_path_context(model, d, pv, lam))[1]["e_mask"])
    return grid


def _optimal_joint(model, alpha, d, dps):
    """min over (p, λ): a double-precision grid over (logit p, log10 λ) gives a start; at the working precision the profile
    F(u) = min_λ E_mask(u, λ) (each a bracketed minimisation over log10 λ, down to λ = 0 when the minimum runs there) is
    minimised over u as at fixed λ, its slope dF/du = ∂E_mask/∂u at λ*(u) (the envelope theorem)."""
    us = np.linspace(-LOGIT_SPAN, LOGIT_SPAN, SCAN_POINTS // 2 + 1)
    vs = np.linspace(LOG_LAM_LO, LOG_LAM_HI, LAM_POINTS)
    grid = _joint_grid(model, alpha, d, us, vs)
    if np.nanmin(grid) >= float(model.resolvent(d, mpmath.fp).mean_sigma) * (1 - 1e-12):
        # nothing beats predicting 0 (e.g. Σ = I): the infimum tr Σ/d is the limit p → 1 (at any λ), not attained
        ctx = _double_context() if dps is None else context(dps)
        return OptimalRate(model.describe(), d, alpha, None, parse("dps", dps) if dps is not None else None, ctx, ctx.mpf(1),
                           _endpoint_values(model, alpha, 1, d, ctx, "p -> 1"), endpoint="p -> 1")
    i, j = np.unravel_index(int(np.nanargmin(grid)), grid.shape)
    what = "the optimal mask rate and ridge"

    def compute(ctx):
        f = _Objective(model, alpha, d, ctx)
        ln10 = ctx.log(10)
        warm = {"v": ctx.mpf(float(vs[j]))}

        def lam_of(v):
            return Fraction(0) if v == -INF else exact(ctx.exp(v * ln10))

        def inner(u):
            """(v*, E) minimising E_mask(u, 10^v) over v: bracketed by the sign of ∂E/∂v, walking out from the last v*."""
            def g(v):
                return ctx.diff(lambda x: f(u, lam_of(x)), v)

            v0 = warm["v"] if warm["v"] != -INF else ctx.mpf(LOG_LAM_MIN)
            a, b = v0 - ctx.mpf(1) / 2, v0 + ctx.mpf(1) / 2
            ga, gb = g(a), g(b)
            step = 1
            while ga > 0:  # E still rising with λ at a: the minimum is below a
                if a <= LOG_LAM_MIN:
                    if u == -INF:
                        raise SolverError(what, f"the SSR error still falls as λ → 0 (log10 λ = {LOG_LAM_MIN})")
                    warm["v"] = -INF
                    return -INF, f(u, Fraction(0))  # λ* → 0: the minimum over λ ≥ 0 is at λ = 0 (Γ = cΛ still regularises)
                b, gb, a = a, ga, max(a - step, ctx.mpf(LOG_LAM_MIN))
                ga, step = g(a), 2 * step
            while gb < 0:
                if b >= LOG_LAM_MAX:
                    raise SolverError(what, f"E_mask still falls as λ grows at log10 λ = {LOG_LAM_MAX} (p = "
                                            f"{ctx.nstr(_logistic(ctx, u), 8)}): λ* → ∞")
                a, ga, b = b, gb, min(b + step, ctx.mpf(LOG_LAM_MAX))
                gb, step = g(b), 2 * step
            v = _bracketed_root(ctx, g, a, b, ga, gb, what + " (the ridge at fixed p)")
            warm["v"] = v
            return v, f(u, lam_of(v))

        def value(u):
            return inner(u)[1]

        def slope(u):
            v, _ = inner(u)
            lam = lam_of(v)
            return ctx.diff(lambda x: f(x, lam), u)

        ends = {"p -> 1": lambda: _endpoint_values(model, alpha, 1, d, ctx, "p -> 1"), "p -> 0": lambda: inner(-INF)[1]}
        u, e, end = _minimise_over_logit(ctx, value, slope, us, i, ends, what)
        if end == "p -> 1":
            raise SolverError(what, "the profile min over λ of E_mask falls toward p → 1 although the scan found values below "
                                    "tr Σ/d")
        v, e = inner(u)
        p = ctx.mpf(0) if end == "p -> 0" else _logistic(ctx, u)
        if v == -INF:
            end = (end + ", " if end else "") + "lam -> 0"
        return {"p_star": p, "lam_star": ctx.mpf(0) if v == -INF else ctx.exp(v * ln10), "e_mask": e, "endpoint": end}

    if dps is None:
        ctx = _double_context()
        vals_ = compute(ctx)
    else:
        ctx, vals_ = deliver(compute, dps, what)
    return OptimalRate(model.describe(), d, alpha, None, parse("dps", dps) if dps is not None else None, ctx, vals_["p_star"],
                       vals_["e_mask"], lam_star=vals_["lam_star"], endpoint=vals_["endpoint"])


__all__ = ["MaskResult", "OptimalRate", "ROUTES", "mask_error", "mask_values_in", "optimal_mask_rate", "parse_mask_rate", "route_of"]
