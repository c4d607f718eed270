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

The optimal rate minimises E_mask over p ∈ (0, 1): a scan in double precision over logit(p) locates the minimum, then
E_mask'(p) = 0 is solved at the working precision. A minimum at an end is reported as such: p → 0 (E_mask → SSR's E_gen,
the formulas at c = 0) or p → 1 (Â_p → 0 and E_mask → tr Σ/d).
"""

from __future__ import annotations

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


def optimal_mask_rate(model: CovarianceModel, alpha, lam=None, dps: int | None = 30, lam_opt: bool = False, d=INF) -> OptimalRate:
    """p* = argmin_{p ∈ (0, 1)} E_mask(p) at fixed λ, or (p*, λ*) jointly with ``lam_opt=True`` (then ``lam`` is ignored).

    An interior minimum solves E_mask'(p) = 0 (and ∂_λ E_mask = 0) at the working precision, from the double-precision
    scan's minimum; a minimum at an end is reported in ``endpoint`` with the limiting value of E_mask."""
    alpha, lam_v, d = _validate(model, alpha, 1 if lam_opt else lam, d, dps)
    if lam_opt:
        return _optimal_joint(model, alpha, d, dps)
    us, vals = _scan(model, alpha, lam_v, d)
    i = int(np.nanargmin(vals))
    scan = tuple(zip((float(1 / (1 + np.exp(-u))) for u in us), vals))
    endpoint = "p -> 0" if i == 0 else "p -> 1" if i == len(us) - 1 else None
    u0 = float(us[i])

    def compute(ctx):
        if endpoint is not None:
            return {"p_star": ctx.mpf(0 if endpoint == "p -> 0" else 1), "e_mask": _endpoint_values(model, alpha, lam_v, d, ctx, endpoint)}

        def e_of_u(u):
            return mask_values_in(model, alpha, lam_v, _logistic(ctx, u), d, ctx)[1]["e_mask"]

        u_star = ctx.findroot(lambda u: ctx.diff(e_of_u, u), ctx.mpf(u0), solver="secant", tol=ctx.eps * 2**10)
        return {"p_star": _logistic(ctx, u_star), "e_mask": e_of_u(u_star)}

    if dps is None:
        ctx = _double_context()
        vals_ = compute(ctx)
    else:
        ctx, vals_ = deliver(compute, dps, "the optimal mask rate")
    return OptimalRate(model.describe(), d, alpha, lam_v, parse("dps", dps) if dps is not None else None, ctx, vals_["p_star"],
                       vals_["e_mask"], endpoint=endpoint, scan=scan)


def _double_context():
    # the optimum's derivative needs more than double precision even for a double answer: compute at 30 digits
    ctx = mpmath.MPContext()
    ctx.dps = 30
    return ctx


def _optimal_joint(model, alpha, d, dps):
    """min over (p, λ): a double-precision grid over (logit p, log10 λ), then Newton on the gradient at working precision."""
    fp = mpmath.fp
    us = np.linspace(-LOGIT_SPAN, LOGIT_SPAN, SCAN_POINTS // 2 + 1)
    vs = np.linspace(LOG_LAM_LO, LOG_LAM_HI, LAM_POINTS)
    grid = np.empty((len(us), len(vs)))
    for i, u in enumerate(us):
        for j, v in enumerate(vs):
            lam, pv = exact(10.0 ** v), exact(_logistic(fp, float(u)))
            grid[i, j] = float(mask_values_in(model, alpha, lam, pv, d, _double_path_context(model, d, pv, lam))[1]["e_mask"])
    i, j = np.unravel_index(int(np.nanargmin(grid)), grid.shape)
    endpoint = None
    if np.nanmin(grid) >= float(model.resolvent(d, fp).mean_sigma) * (1 - 1e-12):
        # nothing beats predicting 0 (e.g. Σ = I): the infimum tr Σ/d is the limit p → 1 (at any λ), not attained
        ctx = _double_context() if dps is None else context(dps)
        return OptimalRate(model.describe(), d, alpha, None, parse("dps", dps) if dps is not None else None, ctx, ctx.mpf(1),
                           _endpoint_values(model, alpha, 1, d, ctx, "p -> 1"), endpoint="p -> 1")
    if i == 0:
        endpoint = "p -> 0"
    elif i == len(us) - 1:
        endpoint = "p -> 1"
    if j in (0, len(vs) - 1):
        endpoint = ((endpoint + ", ") if endpoint else "") + ("lam -> 0" if j == 0 else "lam -> inf")
    u0, v0 = float(us[i]), float(vs[j])

    def compute(ctx):
        ln10 = ctx.log(10)

        def e_at(u, v, p=None):
            lam = exact(ctx.exp(v * ln10))
            return mask_values_in(model, alpha, lam, _logistic(ctx, u) if p is None else p, d, ctx)[1]["e_mask"]

        if endpoint is None:
            u, v = _newton_2d(ctx, e_at, ctx.mpf(u0), ctx.mpf(v0))
            return {"p_star": _logistic(ctx, u), "lam_star": ctx.exp(v * ln10), "e_mask": e_at(u, v)}
        if endpoint == "p -> 0":  # SSR's optimal ridge: the formulas at c = 0, minimised over λ
            v = ctx.findroot(lambda v: ctx.diff(lambda x: e_at(0, x, p=0), v), ctx.mpf(v0), solver="secant", tol=ctx.eps * 2**10)
            return {"p_star": ctx.mpf(0), "lam_star": ctx.exp(v * ln10), "e_mask": e_at(0, v, p=0)}
        return {"p_star": _logistic(ctx, ctx.mpf(u0)), "lam_star": ctx.exp(v0 * ln10), "e_mask": e_at(ctx.mpf(u0), ctx.mpf(v0))}

    if endpoint is not None and endpoint not in ("p -> 0",):
        ctx = _double_context() if dps is None else mpmath.MPContext()
        if dps is not None:
            ctx.dps = dps
        vals_ = compute(ctx)  # a boundary of the scanned box: the scan's point, stated as an endpoint, not a delivered optimum
    elif dps is None:
        ctx = _double_context()
        vals_ = compute(ctx)
    else:
        ctx, vals_ = deliver(compute, dps, "the optimal mask rate and ridge")
    return OptimalRate(model.describe(), d, alpha, None, parse("dps", dps) if dps is not None else None, ctx, vals_["p_star"],
                       vals_["e_mask"], lam_star=vals_["lam_star"], endpoint=endpoint)


def _newton_2d(ctx, f, u, v):
    """A stationary point of f(u, v) by Newton's method on its gradient (derivatives by mpmath's ``diff``)."""
    tol = ctx.eps * 2**12
    for _ in range(60):
        gu, gv = ctx.diff(f, (u, v), (1, 0)), ctx.diff(f, (u, v), (0, 1))
        huu, huv, hvv = ctx.diff(f, (u, v), (2, 0)), ctx.diff(f, (u, v), (1, 1)), ctx.diff(f, (u, v), (0, 2))
        det = huu * hvv - huv * huv
        if not det > 0 or not huu > 0:
            raise SolverError("the joint optimum over (p, λ)", f"Newton on the gradient met a non-convex point (u = {u}, v = {v})")
        du, dv = (hvv * gu - huv * gv) / det, (huu * gv - huv * gu) / det
        u, v = u - du, v - dv
        if abs(du) + abs(dv) <= tol * (1 + abs(u) + abs(v)):
            return u, v
    raise SolverError("the joint optimum over (p, λ)", "60 Newton steps on the gradient without convergence")


__all__ = ["MaskResult", "OptimalRate", "ROUTES", "mask_error", "mask_values_in", "optimal_mask_rate", "parse_mask_rate", "route_of"]
