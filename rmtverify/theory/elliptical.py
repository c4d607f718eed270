"""Deterministic equivalents for elliptical data x = √ϑ Σ^{1/2} z (SPEC §7; derivation ``elliptical``), and the theory
of every data law (``law_equivalents``).

For a scale ϑ ≥ 0 with E ϑ = 1 (the multivariate t: ϑ = (ν − 2)/χ²_ν), with the moments g(δ) = E[ϑ/(1 + ϑδ)],
γ(δ) = E[ϑ²/(1 + ϑδ)²], ζ(δ) = E[ϑ/(1 + ϑδ)²] and ψ = γ/g²:

    κ = λ/g(δ),  δ = κ T₁(κ)/(λα)         (κ the root of the increasing G(κ) = 1 − λ/(κ g(δ(κ))))
    E_gen ≍ ḡ/(1 − ψ T₂/α),   E_train ≍ ζ(δ) E_gen,   dκ/dλ = (1/g)(α − ψT₁)/(α − ψT₂),

with T₁ = df1/d, T₂ = df2/d and ḡ = (1/d) Σ_k [RΣR]_kk/R_kk² of R = (Σ + κI)^{-1}, supplied by the model's resolvent at
finite d or at d = ∞ (closed forms for Σ = I and AR(1)). For ϑ ≡ 1 (law ``gaussian``) these are the Gaussian equivalents.

Moments. The multivariate t's moments are quadratures at the working precision (mpmath's tanh-sinh over the Gamma(ν/2)
density of W/2, the integrands bounded; derivation steps t-*), checked against Tricomi's U; a discrete law
(:class:`DiscreteScale`) sums over its atoms.

Precision as in :mod:`rmtverify.theory.equivalents`: ``dps`` digits are delivered (two working precisions must agree,
``core.precision.deliver``); ``dps=None`` is the double-precision path (mpmath's ``fp``), which prints the digits it keeps
(at most DOUBLE_DIGITS, fewer when its formulas lose digits to cancellation or its quadrature reports a larger error).

Data laws (``law_equivalents``): i.i.d. standardised entries (rademacher, uniform, student) have the Gaussian equivalents
as their universal limit (for a finite fourth moment; Student-t with ν ≤ 4 is what the ``universality`` claim measures);
elliptical-t gets the elliptical equivalents; gaussian the Gaussian ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, MAX_D_THEORY, MAX_D_THEORY_DOUBLE, check_dimension, exact, parse
from rmtverify.core.precision import decimal, deliver, double_digits, fmt, mpf
from rmtverify.models.base import CovarianceModel
from rmtverify.models.laws import IID_LAWS, LawModel, parse_law, parse_nu
from rmtverify.symbolic.formulas import Formulas, lost_digits

OUTPUT_KEYS = ("kappa", "e", "delta", "psi", "zeta", "df1", "df2", "e_gen", "e_train", "dkappa_dlam")
#: the most digits the double-precision path prints (its quadratures and solves are good to ~1e-14 relative; measured
#: against 30-digit values in tests/test_elliptical.py)
DOUBLE_DIGITS = 12
UNIVERSAL_NOTE = ("universal limit: the Gaussian deterministic equivalents, which i.i.d. standardised entries share when "
                  "their fourth moment is finite (Student-t: nu > 4)")


# ---------------------------------------------------------------- laws of the scale ϑ


class ScaleLaw:
    """The law of the scale ϑ (E ϑ = 1): its moments (g, γ, ζ) at δ in a context."""

    name = ""

    def describe(self) -> dict:
        return {"scale": self.name}

    def moments(self, ctx, F, delta, which=("g", "gamma", "zeta")) -> tuple:
        raise NotImplementedError

    def quad_error(self) -> float:
        """The largest relative quadrature error estimate seen (double path: it lowers the digits printed)."""
        return 0.0


class UnitScale(ScaleLaw):
    """ϑ ≡ 1: Gaussian rows."""

    name = "unit"

    def moments(self, ctx, F, delta, which=("g", "gamma", "zeta")):
        one = ctx.mpf(1)
        fns = {"g": F("elliptical.g_integrand"), "gamma": F("elliptical.gamma_integrand"), "zeta": F("elliptical.zeta_integrand")}
        return tuple(fns[w](one, delta) for w in which)


class DiscreteScale(ScaleLaw):
    """ϑ takes the values ``values`` with probabilities ``probs`` (exact rationals; E ϑ = 1 is required)."""

    name = "discrete"

    def __init__(self, values, probs):
        vals = [exact(v, "scale", "a real number >= 0") for v in values]
        ps = [exact(p, "scale", "a probability") for p in probs]
        if not vals or len(vals) != len(ps) or any(v is None or v in (INF, -INF) or v < 0 for v in vals):
            raise InputError("scale", "values: a non-empty list of finite numbers >= 0, one probability each")
        if any(p is None or not 0 < p <= 1 for p in ps) or sum(ps) != 1:
            raise InputError("scale", f"probabilities in (0, 1] summing to 1; got {[str(p) for p in ps]}")
        if sum(v * p for v, p in zip(vals, ps)) != 1:
            raise InputError("scale", "the scale must have mean E[scale] = 1 (so that Cov x = Sigma)")
        self.values, self.probs = tuple(vals), tuple(ps)

    def describe(self):
        return {"scale": self.name, "values": [str(v) for v in self.values], "probs": [str(p) for p in self.probs]}

    def moments(self, ctx, F, delta, which=("g", "gamma", "zeta")):
        fns = {"g": F("elliptical.g_integrand"), "gamma": F("elliptical.gamma_integrand"), "zeta": F("elliptical.zeta_integrand")}
        return tuple(ctx.fsum(mpf(ctx, p) * fns[w](mpf(ctx, v), delta) for v, p in zip(self.values, self.probs)) for w in which)


class InverseChiSquare(ScaleLaw):
    """ϑ = (ν − 2)/χ²_ν (the multivariate t), ν > 2: moments by quadrature at the working precision."""

    name = "inverse-chi2"

    def __init__(self, nu):
        self.nu = parse_nu("elliptical-t", nu)
        self._err = 0.0

    def describe(self):
        return {"scale": self.name, "nu": str(self.nu)}

    def quad_error(self):
        return self._err

    def moments(self, ctx, F, delta, which=("g", "gamma", "zeta")):
        nu = mpf(ctx, self.nu)
        weight = F("elliptical.t_weight")
        fns = {"g": F("elliptical.t_g"), "gamma": F("elliptical.t_gamma"), "zeta": F("elliptical.t_zeta")}
        k = nu / 2
        c = (nu - 2) * delta / 2  # the integrands' scale near s = 0 (their pole is at s = −c)
        pts = sorted({ctx.mpf(0), *(x for x in (c, k, 4 * k + 20) if x > 0)})
        pts = pts + [ctx.inf]
        out = []
        for w in which:
            fn = fns[w]
            val, err = ctx.quad(lambda s, fn=fn: weight(s, nu) * fn(s, delta, nu), pts, error=True)
            if val == 0:
                raise SolverError(f"the moment {w} of the scale", f"tanh-sinh quadrature over {len(pts) - 1} intervals gave 0")
            rel = float(abs(err / val))
            self._err = max(self._err, rel)
            if not rel < 1e-6:
                raise SolverError(f"the moment {w} of the scale (nu = {self.nu}, delta = {fmt(ctx, delta)})",
                                  f"tanh-sinh quadrature over {len(pts) - 1} intervals: relative error estimate {rel:.2g}")
            out.append(val)
        return tuple(out)


def scale_law(law, nu=None) -> ScaleLaw:
    """The scale law of a data law: ``elliptical-t`` → (ν − 2)/χ²_ν, ``gaussian`` → ϑ ≡ 1; a ScaleLaw passes through."""
    if isinstance(law, ScaleLaw):
        if nu is not None:
            raise InputError("nu", "is given by the scale law itself")
        return law
    law = parse_law(law)
    if law == "elliptical-t":
        return InverseChiSquare(nu)
    if law == "gaussian":
        parse_nu(law, nu)
        return UnitScale()
    raise InputError("law", f"the elliptical theory takes law 'elliptical-t' or 'gaussian' (unit scale); law {law!r} has i.i.d. "
                            "entries: use law_equivalents, which returns their universal (Gaussian) limit")


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class EllipticalResult:
    """The elliptical equivalents at one (model, law, α, λ, d); numbers live in ``ctx``."""

    model: dict
    scale: dict
    d: object
    alpha: Fraction
    lam: Fraction
    dps: int | None
    ctx: object
    values: dict = field(default_factory=dict)
    double_digits: int | None = None
    limit: dict | None = None

    def __getattr__(self, key):
        try:
            return self.__dict__["values"][key]
        except KeyError:
            raise AttributeError(key) from None

    @property
    def digits(self) -> int:
        return self.dps if self.dps is not None else self.double_digits

    def as_dict(self) -> dict:
        """JSON-ready: every number a decimal string with the delivered digits (double precision: the digits it kept)."""
        out = {"model": self.model, "scale": self.scale, "d": "inf" if self.d == INF else self.d, "alpha": str(self.alpha),
               "lam": str(self.lam), "dps": self.dps if self.dps is not None else "double", "theory": "elliptical"}
        if self.limit is not None:
            out["limit"] = self.limit
        if self.dps is None:
            out["digits"] = self.double_digits
        for key in OUTPUT_KEYS:
            out[key] = decimal(self.ctx, self.values[key], self.digits)
        return out

    def float(self, key: str) -> float:
        return float(self.values[key])


# ---------------------------------------------------------------- the solve


def solve_kappa_elliptical(res, alpha, lam, scale: ScaleLaw, ctx, F, start=None):
    """κ: the root of G(κ) = 1 − λ/(κ g(δ(κ))), δ = κT₁/(λα), increasing (derivation elliptical, interference-*), on the
    bracket [λ, λ/g(tr Σ/(nλ))]: Newton's method safeguarded by bisection. Returns (κ, δ, g, γ, τ, τ')."""
    a, l = mpf(ctx, alpha), mpf(ctx, lam)
    G, dG, dfn = F("elliptical.G"), F("elliptical.dG"), F("elliptical.delta")
    df1, df2 = F("kappa.df1_over_d"), F("kappa.df2_over_d")
    lo = l
    (g_top,) = scale.moments(ctx, F, ctx.mpf(res.mean_sigma) / (a * l), ("g",))
    hi = l / g_top
    x = ctx.mpf(start) if start is not None and lo < ctx.mpf(start) < hi else (lo + hi) / 2
    tol = ctx.mpf(2) ** (-(ctx.prec - 8))
    gval = None
    for _ in range(100 + 2 * ctx.prec):
        tau, tau_p = res.trace(x)
        dl = dfn(x, l, a, df1(x, tau))
        gm, gamma = scale.moments(ctx, F, dl, ("g", "gamma"))
        gval = G(x, l, gm)
        if gval == 0:
            return x
        if gval < 0:
            lo = x
        else:
            hi = x
        slope = dG(x, l, a, gm, gamma, df2(x, tau, tau_p))
        nxt = x - gval / slope if slope > 0 else (lo + hi) / 2
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2
        if abs(nxt - x) <= tol * x or hi - lo <= tol * x:
            return nxt
        x = nxt
    raise SolverError("the elliptical kappa fixed point",
                      f"Newton's method with bisection on G = 1 - lam/(kappa g(delta)) at {ctx.prec} bits; last kappa = "
                      f"{fmt(ctx, x, 20)}, G = {fmt(ctx, gval, 5)}, bracket [{fmt(ctx, lo, 20)}, {fmt(ctx, hi, 20)}]")


def elliptical_in(model: CovarianceModel, alpha, lam, d, scale: ScaleLaw, ctx, start=None) -> tuple[dict, float]:
    """The equivalents in ``ctx`` and the digits their formulas lost to cancellation (an estimate from their terms)."""
    F = Formulas(ctx)
    res = model.resolvent(d, ctx)
    a, l = mpf(ctx, alpha), mpf(ctx, lam)
    kappa = solve_kappa_elliptical(res, alpha, lam, scale, ctx, F, start)
    tau, tau_p = res.trace(kappa)
    df1 = F("kappa.df1_over_d")(kappa, tau)
    df2 = F("kappa.df2_over_d")(kappa, tau, tau_p)
    dl = F("elliptical.delta")(kappa, l, a, df1)
    g, gamma, zeta = scale.moments(ctx, F, dl)
    psi = F("elliptical.psi")(g, gamma)
    if not psi * df2 < a:
        raise SolverError("the elliptical second-order factor",
                          f"psi df2/n = {fmt(ctx, psi * df2 / a, 8)} >= 1 at kappa = {fmt(ctx, kappa)}")
    gen_term = F("train_gen.gen_term")
    groups = res.diagonal(kappa)
    mean_term = ctx.fsum(mpf(ctx, gr.weight) * gen_term(gr.m, gr.m_p, kappa) for gr in groups)
    e_gen = F("elliptical.e_gen")(mean_term, a, df2, psi)
    e_train = F("elliptical.e_train")(e_gen, zeta)
    vals = {"kappa": kappa, "e": g, "delta": dl, "psi": psi, "zeta": zeta, "df1": df1, "df2": df2, "e_gen": e_gen,
            "e_train": e_train, "dkappa_dlam": F("elliptical.dkappa_dlam")(g, a, df1, df2, psi)}
    lost = max(lost_digits(ctx, F.terms("kappa.df1_over_d")(kappa, tau)), lost_digits(ctx, F.terms("kappa.df2_over_d")(kappa, tau, tau_p)))
    lost += max(lost_digits(ctx, F.terms("train_gen.gen_term")(gr.m, gr.m_p, kappa)) for gr in groups)
    lost += lost_digits(ctx, F.terms("elliptical.e_gen")(mean_term, a, df2, psi))
    return vals, lost


def _check(model, alpha, lam, d, dps):
    alpha = parse("alpha", alpha)
    lam = parse("lam", lam)
    if lam == 0:
        raise InputError("lam", "must be > 0 for the elliptical equivalents (the ridgeless limit is not derived for elliptical data)")
    d = model.check_d(d)
    if dps is None:
        check_dimension(d, MAX_D_THEORY_DOUBLE, "the finite-d elliptical theory in double precision")
    else:
        check_dimension(d, MAX_D_THEORY, "the finite-d elliptical theory in multiprecision (use dps=None for larger d)")
        dps = parse("dps", dps)
    return alpha, lam, d, dps


def elliptical_equivalents(model: CovarianceModel, alpha, lam, law="elliptical-t", nu=None, d=None, dps: int | None = 30
                           ) -> EllipticalResult:
    """κ, e = g(δ), δ, ψ, ζ, df1/d, df2/d, E_gen, E_train and dκ/dλ for rows x = √ϑ Σ^{1/2} z (derivation elliptical).

    ``law``: ``elliptical-t`` (ϑ = (ν − 2)/χ²_ν, ν > 2 required), ``gaussian`` (ϑ ≡ 1: the Gaussian equivalents), or a
    :class:`ScaleLaw`. ``model`` may carry its own law (:func:`~rmtverify.models.laws.with_law`); it must then agree.
    ``d=None``: the model's default (d = ∞ where it has a limit). ``dps=None``: double precision.
    """
    if isinstance(model, LawModel):
        if model.law != "elliptical-t":
            raise InputError("law", f"the model's rows have law {model.law!r}; the elliptical theory is for elliptical-t "
                                    "(use law_equivalents)")
        if law == "elliptical-t" and (nu is None or exact(nu) == model.nu):
            law, nu = "elliptical-t", model.nu
        else:
            raise InputError("law", f"the model has law elliptical-t with nu = {model.nu}; got law {law!r}, nu = {nu!r}")
        model = model.base
    scale = scale_law(law, nu)
    alpha, lam, d, dps = _check(model, alpha, lam, d, dps)
    limit = model.limit_description() if d == INF else None
    if dps is None:
        vals, lost = elliptical_in(model, alpha, lam, d, scale, mpmath.fp)
        q = scale.quad_error()
        lost_q = max(0.0, math.log10(q) + 15) if q > 0 else 0.0
        digits = min(DOUBLE_DIGITS, double_digits(lost + lost_q))
        return EllipticalResult(model.describe(), scale.describe(), d, alpha, lam, None, mpmath.fp, vals, digits, limit)
    hint = {"kappa": None}
    try:  # Newton starts from κ in double precision: fewer quadratures at the working precision (the root is unchanged)
        hint["kappa"] = elliptical_in(model, alpha, lam, d, scale, mpmath.fp)[0]["kappa"]
    except (ArithmeticError, ValueError, SolverError):
        pass

    def compute(c):
        vals, _ = elliptical_in(model, alpha, lam, d, scale, c, start=hint["kappa"])
        hint["kappa"] = vals["kappa"]
        return vals

    ctx, vals = deliver(compute, dps, "the elliptical equivalents")
    return EllipticalResult(model.describe(), scale.describe(), d, alpha, lam, dps, ctx, vals, None, limit)


# ---------------------------------------------------------------- every data law


@dataclass(frozen=True)
class LawResult:
    """The theory for one data law: ``result`` (Gaussian TheoryResult or EllipticalResult), what it is, and why."""

    law: str
    nu: Fraction | None
    theory: str  # "gaussian" | "universal-limit" | "elliptical"
    note: str
    result: object

    def __getattr__(self, key):
        return getattr(self.__dict__["result"], key)

    @property
    def universal_limit(self) -> bool:
        return self.theory == "universal-limit"

    def as_dict(self) -> dict:
        out = self.result.as_dict()
        out["law"] = self.law
        if self.nu is not None:
            out["nu"] = str(self.nu)
        out["theory"] = self.theory
        if self.note:
            out["note"] = self.note
        return out


def law_equivalents(model: CovarianceModel, alpha, lam, law="gaussian", nu=None, d=None, dps: int | None = 30) -> LawResult:
    """The deterministic equivalents for rows of ``law``: the Gaussian ones (gaussian), the Gaussian ones flagged as the
    universal limit (rademacher, uniform, student — with a caveat when ν ≤ 4), the elliptical ones (elliptical-t).
    ``model`` may carry the law itself (then ``law``/``nu`` must be left at their defaults or agree)."""
    from rmtverify.theory.equivalents import equivalents

    if isinstance(model, LawModel):
        if (law, nu) not in (("gaussian", None), (model.law, None)) and not (law == model.law and exact(nu) == model.nu):
            raise InputError("law", f"the model has law {model.law}" + (f" with nu = {model.nu}" if model.nu is not None else "")
                             + f"; got law {law!r}, nu = {nu!r}")
        law, nu, model = model.law, model.nu, model.base
    law = parse_law(law)
    nu = parse_nu(law, nu)
    if law == "elliptical-t":
        res = elliptical_equivalents(model, alpha, lam, "elliptical-t", nu, d, dps)
        return LawResult(law, nu, "elliptical", "elliptical equivalents (derivation elliptical): Cov x = Sigma, but the scale's "
                                                "moments enter kappa, E_gen and E_train", res)
    res = equivalents(model, alpha, lam, d=d, dps=dps)
    if law == "gaussian":
        return LawResult(law, nu, "gaussian", "", res)
    note = UNIVERSAL_NOTE
    if law == "student" and nu <= 4:
        note += f"; nu = {nu} <= 4 has an infinite fourth moment: whether the limit holds is measured, not assumed"
    return LawResult(law, nu, "universal-limit", note, res)


__all__ = ["OUTPUT_KEYS", "IID_LAWS", "ScaleLaw", "UnitScale", "DiscreteScale", "InverseChiSquare", "scale_law",
           "EllipticalResult", "LawResult", "elliptical_equivalents", "law_equivalents", "solve_kappa_elliptical", "elliptical_in"]
