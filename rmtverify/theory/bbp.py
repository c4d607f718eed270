"""BBP outliers of the sample covariance S and of the SSR matrix Â (claim C4; derivation bbp).

Spiked models Σ = Σ₀ + θvvᵀ on an isotropic or AR(1) base, with a flat,
random or e1 spike direction. Everything is parametrised by the companion
Stieltjes transform m̃ (derivation bbp):

- the top bulk edge is z(m̃_c), where m̃_c is the zero of z'(m̃) in
  (−1/t_max, 0), found by Newton's method safeguarded by bisection;
- θ_c = −1/(m̃_c q_v(m̃_c)), with q_v = 1/(1 + m̃t₀) when v is an eigenvector
  of Σ₀ (isotropic base; flat spike on AR(1), t₀ = f(0)) and q_v = q_H, the
  base law's ∫dH/(1+m̃t), for a random spike on AR(1);
- above θ_c the outlier solves 1 + θm̃q_v(m̃) = 0 on (m̃_c, 0), its location is
  z(m̃) and its squared overlap the residue q_v z'/(zθ(m̃q_v)').

For Â, a delocalised spike leaves diag R constant, so Â's outlier is
φ(s) = 1 − λ/(κc₀(s + λ)) of S's with the same θ_c; an e1 spike on the
isotropic base has its own threshold (closed form, possibly ∞) and outlier
equation h(w) = 0 above M's top edge.

``--perturb ε`` (``perturb=``) puts a deliberate error into the outlier
equation, θ → (1+ε)θ, for the verifier's self-test.

Extremes. At α far from 1 the critical m̃_c sits within ~√γ (or 1/√γ) of an end of its interval, and for Â
at large λ the eigenvalue map φ(s) = 1 − λ/(κc₀(s + λ)) and the e1 outlier equation cancel to O(s/λ): the
working precision is raised a priori by 2(|log10 α| + log10⁺ λ) digits when that exceeds the guard
(``extra_digits``), the scans for m̃_c run down to the working precision, and the digits φ loses at the
solution are measured from its terms (``bind_terms``): a computation that lost more than the guard absorbs
is redone at a precision raised by what it lost, so a location is never rounded to 0.
"""

from __future__ import annotations

import decimal as _decimal
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import mpmath

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, choice, long_integer_strings, parse
from rmtverify.core.precision import GUARD_DIGITS, announce, context, decimal, deliver, mpf
from rmtverify.models import make_model
from rmtverify.symbolic.certify import ArbContext, flint_precision, interval_newton, to_arb
from rmtverify.symbolic.formulas import Formulas, lost_digits
from rmtverify.theory.kappa import solve_kappa

BASES = ("isotropic", "ar1")
SPIKES = ("flat", "random", "e1")
MATRICES = ("sample", "ssr")


@dataclass(frozen=True)
class Problem:
    base: str
    rho: Fraction | None
    spike: str
    alpha: Fraction
    lam: Fraction | None
    matrix: str
    perturb: Fraction = Fraction(0)

    @property
    def eigen_spike(self) -> bool:
        """v is an eigenvector of Σ₀ (so q_v = 1/(1 + m̃t₀))."""
        return self.base == "isotropic" or self.spike == "flat"

    def describe(self) -> dict:
        out = {"base": self.base, "spike": self.spike, "alpha": str(self.alpha), "matrix": self.matrix}
        if self.rho is not None:
            out["rho"] = str(self.rho)
        if self.lam is not None:
            out["lam"] = str(self.lam)
        if self.perturb:
            out["perturb"] = str(self.perturb)
        return out


def problem(base="isotropic", spike="flat", alpha=None, lam=None, matrix="sample", rho=None, perturb=0) -> Problem:
    base = choice("base", base, BASES)
    spike = choice("spike", spike, SPIKES)
    matrix = choice("matrix", matrix, MATRICES)
    alpha = parse("alpha", alpha)
    if base == "isotropic" and rho is not None:
        raise InputError("rho", "applies only to the AR(1) base (--base ar1)")
    if base == "ar1" and rho is None:
        raise InputError("rho", "is required for the AR(1) base")
    rho = parse("rho", rho) if base == "ar1" else None
    if matrix == "ssr":
        if lam is None:
            raise InputError("lam", "is required for the SSR matrix (matrix = 'ssr')")
        lam = parse("lam", lam)
        if lam == 0:
            raise InputError("lam", "must be > 0 for the SSR matrix; got 0")
    else:
        lam = parse("lam", lam) if lam is not None else None
    if spike == "e1" and base != "isotropic":
        raise InputError(
            "spike",
            "e1 spikes are supported on the isotropic base only: on AR(1) a localised spike changes diag R on an "
            "exponentially decaying neighbourhood of the coordinate, not in rank one (use flat or random)",
        )
    return Problem(base, rho, spike, alpha, lam, matrix, parse("perturb", perturb))


class _Law:
    """q_H, q_v and z(m̃) with derivatives for one problem, in one context (mpmath or arb)."""

    def __init__(self, prob: Problem, ctx, num):
        self.F = F = Formulas(ctx)
        self.num = num  # exact rational → number of the context
        self.a = num(prob.alpha)
        self.prob = prob
        if prob.base == "isotropic":
            self._qH = lambda m: F("bbp.q_iso")(m)
            self._qH_p = lambda m: F("bbp.q_iso_p")(m)
            self._qH_pp = lambda m: F("bbp.q_iso_pp")(m)
            self.t_max = num(1)
            self.t0 = num(1)
        else:
            r = num(prob.rho)
            self._qH = lambda m: F("bbp.q_ar1")(m, r)
            self._qH_p = lambda m: F("bbp.q_ar1_p")(m, r)
            self._qH_pp = lambda m: F("bbp.q_ar1_pp")(m, r)
            self.t_max = F("ar1.f_max")(r)
            self.t0 = F("ar1.f_zero")(r)

    def z(self, m):
        return self.F("bbp.z_generic")(m, self.a, self._qH(m))

    def zp(self, m):
        return self.F("bbp.z_generic_p")(m, self.a, self._qH(m), self._qH_p(m))

    def zpp(self, m):
        return self.F("bbp.z_generic_pp")(m, self.a, self._qH(m), self._qH_p(m), self._qH_pp(m))

    def qv(self, m):
        return self.F("bbp.q_eigen")(m, self.t0) if self.prob.eigen_spike else self._qH(m)

    def qv_p(self, m):
        return self.F("bbp.q_eigen_p")(m, self.t0) if self.prob.eigen_spike else self._qH_p(m)


def _newton_bracket(f, fp, lo, hi, ctx, what):
    """The root of f on (lo, hi) with f(lo) < 0 < f(hi): Newton's method safeguarded by bisection."""
    x = (lo + hi) / 2
    tol = ctx.mpf(2) ** (-(ctx.prec - 8))
    steps = 100 + 2 * ctx.prec
    for _ in range(steps):
        g = f(x)
        if g < 0:
            lo = x
        else:
            hi = x
        dg = fp(x)
        x_new = x - g / dg if dg != 0 else (lo + hi) / 2
        if not lo < x_new < hi:
            x_new = (lo + hi) / 2
        step = abs(x_new - x)
        x = x_new
        if step <= tol * abs(x) or hi - lo <= tol * abs(x):
            return x
    raise SolverError(what, f"Newton's method safeguarded by bisection, {steps} steps at {ctx.prec} bits; "
                            f"bracket [{ctx.nstr(lo, 15)}, {ctx.nstr(hi, 15)}]")


def _critical_mt(law: _Law, ctx):
    """m̃_c: the zero of z' in (−1/t_max, 0) (the top edge of the bulk). The geometric scans reach 2^-prec of each end
    (m̃_c is within ~√γ of −1/t_max as α → ∞, and ~1/√γ of 0 as α → 0)."""
    left = -1 / law.t_max
    lo = None
    scan = max(200, ctx.prec + 8)
    for j in range(1, scan):
        m = left * (1 - ctx.mpf(2) ** -j)
        if law.zp(m) < 0:
            lo = m
            break
    hi = None
    for j in range(1, scan):
        m = left * ctx.mpf(2) ** -j
        if law.zp(m) > 0:
            hi = m
            break
    if lo is None or hi is None or not lo < hi:
        raise SolverError("top edge z'(m̃) = 0",
                          f"no sign change of z' found on (−1/t_max, 0) = ({ctx.nstr(left, 10)}, 0) by geometric scans")
    return _newton_bracket(law.zp, law.zpp, lo, hi, ctx, "top edge z'(m̃) = 0")


def _ssr_scale(prob: Problem, ctx):
    """κ and c₀ = τ(κ) of the base at d = ∞ (Â's eigenvalue map needs κc₀)."""
    base = make_model("isotropic") if prob.base == "isotropic" else make_model("ar1", rho=prob.rho)
    res = base.resolvent(INF, ctx)
    kappa = solve_kappa(res, prob.alpha, prob.lam, ctx)
    return kappa, res.trace(kappa)[0]


def _theta_c(prob: Problem, ctx) -> dict:
    """θ_c (ctx number or None for ∞), the critical m̃ and the reason when there is no outlier."""
    law = _Law(prob, ctx, lambda q: mpf(ctx, q))
    eps = mpf(ctx, prob.perturb)
    if prob.matrix == "ssr" and prob.spike == "e1":
        kappa, _ = _ssr_scale(prob, ctx)
        a, l = law.a, mpf(ctx, prob.lam)
        den = law.F("bbp.e1_denominator")(a, l, kappa)
        if den <= 0:
            return {"theta_c": None, "kappa": kappa, "reason": _e1_reason(ctx, a, l, kappa)}
        return {"theta_c": law.F("bbp.e1_theta_c")(a, l, kappa) / (1 + eps), "kappa": kappa}
    m_c = _critical_mt(law, ctx)
    return {"theta_c": law.F("bbp.theta_c")(m_c, law.qv(m_c)) / (1 + eps), "m_c": m_c}


def _e1_reason(ctx, a, l, kappa) -> str:
    g = 1 / a
    bound = ctx.sqrt(g) + l / (1 + ctx.sqrt(g))
    return (
        f"no outlier separates for any θ: κ = {ctx.nstr(kappa, 8)} ≤ √γ + λ/(1+√γ) = {ctx.nstr(bound, 8)}, so the "
        "localised spike's gain in M = D̄^{1/2}(S+λ)D̄^{1/2} saturates below the top edge (derivation bbp, step e1-no-outlier)"
    )


@dataclass
class Threshold:
    problem: Problem
    theta_c: object  # ctx number, or None for ∞
    dps: int
    ctx: object
    reason: str = ""
    lo: str | None = None
    hi: str | None = None
    certified: bool = False

    def as_dict(self) -> dict:
        out = {**self.problem.describe(), "dps": self.dps}
        if self.theta_c is None:
            out.update(theta_c="inf", reason=self.reason)
        else:
            out["theta_c"] = decimal(self.ctx, self.theta_c, self.dps)
        out["certified"] = self.certified
        if self.lo is not None:
            out.update(theta_c_lo=self.lo, theta_c_hi=self.hi)
        return out


#: the a priori extra digits (below this, none: the guard digits absorb what is lost) and the most ever added
A_PRIORI_DIGITS = GUARD_DIGITS
MAX_EXTRA_DIGITS = 4000


def extra_digits(prob: Problem) -> int:
    """Digits to add to the working precision at extreme α or λ: 2(|log10 α| + log10⁺ λ) + 10 when that exceeds the guard
    (tr Σ/d = 1 on both bases, so λ is measured in units of Σ), else 0."""
    c = context(20)
    digits = 2 * abs(float(c.log10(mpf(c, prob.alpha))))
    if prob.matrix == "ssr" and prob.lam is not None and prob.lam > 1:
        digits += 2 * float(c.log10(mpf(c, prob.lam)))
    return 0 if digits <= A_PRIORI_DIGITS else min(int(digits) + 10, MAX_EXTRA_DIGITS)


def _raised(prob: Problem, fn, lossy=()):
    """``compute(ctx)`` for ``deliver``: ``fn`` evaluated at the working precision raised by ``extra_digits(prob)`` and by
    the digits the results named in ``lossy`` (pairs of a value key and its ``bind_terms`` parts key) lose to cancellation,
    the values rounded back into ctx."""

    def compute(ctx):
        extra = extra_digits(prob)
        for _ in range(6):
            wctx = ctx if extra == 0 else context(ctx.dps + extra)
            vals = fn(wctx)
            lost = max((lost_digits(wctx, vals[parts]) for _, parts in lossy if vals.get(parts) is not None), default=0.0)
            if lost <= extra + GUARD_DIGITS // 2:
                out = {k: v for k, v in vals.items() if k not in {parts for _, parts in lossy}}
                return out if wctx is ctx else {k: _lower(ctx, wctx, v) for k, v in out.items()}
            extra = int(min(lost, wctx.dps)) + 10 + max(extra, GUARD_DIGITS)
            if extra > MAX_EXTRA_DIGITS:
                break
        raise SolverError("the digits of a BBP quantity", f"working precisions raised up to {ctx.dps + extra} digits by what "
                                                          "the eigenvalue map 1 − λ/(κc₀(s + λ)) lost to cancellation")

    return compute


def _lower(ctx, wctx, v):
    """A value of the raised context ``wctx`` in ``ctx`` (numbers rounded once; None, flags and texts as they are)."""
    if isinstance(v, wctx.mpf):
        return ctx.mpf(v)
    if isinstance(v, wctx.mpc):
        return ctx.mpc(v)
    return v


def threshold(alpha, base="isotropic", spike="flat", lam=None, matrix="sample", rho=None, dps: int = 30, certify: bool = False,
              perturb=0) -> Threshold:
    """θ_c for S or Â at d = ∞, with every digit delivered; ``certify`` adds a ball-arithmetic enclosure."""
    prob = problem(base, spike, alpha, lam, matrix, rho, perturb)
    dps = parse("dps", dps)

    ctx, vals = deliver(_raised(prob, lambda c: _threshold_values(prob, c)), dps, "the BBP threshold")
    th = Threshold(prob, vals["theta_c"], dps, ctx, reason=vals["reason"])
    if certify and th.theta_c is not None:
        announce(dps, "the certified BBP threshold")
        th.lo, th.hi = _certify(prob, dps)
        th.certified = True
    return th


def _threshold_values(prob, ctx):
    res = _theta_c(prob, ctx)
    # the reason quotes numbers at the working precision: compare it only by whether it exists
    return {"theta_c": res["theta_c"], "reason": res.get("reason", ""), "infinite": res["theta_c"] is None}


def _certify(prob: Problem, dps: int) -> tuple[str, str]:
    """An interval [lo, hi] proven to contain θ_c, of width ≤ 10^-(dps−5) max(1, θ_c), as outward-rounded decimals."""
    bits = base_bits = int((dps + 25) * 3.33) + 32
    if extra_digits(prob):
        # at extreme α (λ) z' is a difference of terms ~γ (~λ): the balls lose what the floating point loses; the enclosure's
        # width is still judged against 10^-(dps − 5) below
        bits += int(extra_digits(prob) * 3.33) + 64
    ctx = mpmath.MPContext()
    ctx.prec = bits + 40
    res = _theta_c(prob, ctx)
    with flint_precision(bits):
        arb = ArbContext()
        law = _Law(prob, arb, lambda q: _arb_rational(q))
        eps = _arb_rational(prob.perturb)
        if prob.matrix == "ssr" and prob.spike == "e1":
            a, l = law.a, _arb_rational(prob.lam)
            kappa = law.F("isotropic.kappa")(a, l)  # the positive root of the κ quadratic, in balls
            if not law.F("bbp.e1_denominator")(a, l, kappa) > 0:
                raise SolverError("certified θ_c", "the sign of the e1 denominator could not be decided in ball arithmetic")
            ball = law.F("bbp.e1_theta_c")(a, l, kappa) / (1 + eps)
        else:
            m_c = to_arb(res["m_c"])
            target = _pow2(-(base_bits - 24)) * abs(m_c)
            X = interval_newton(law.zp, law.zpp, m_c, abs(m_c) * _pow2(-(ctx.prec - 60)), target)
            ball = law.F("bbp.theta_c")(X, law.qv(X)) / (1 + eps)
        lo, hi = _arb_to_decimal(ball.lower(), dps + 6, "down"), _arb_to_decimal(ball.upper(), dps + 6, "up")
    width = _decimal.Decimal(hi) - _decimal.Decimal(lo)
    limit = _decimal.Decimal(10) ** (-(dps - 5)) * max(_decimal.Decimal(1), abs(_decimal.Decimal(hi)))
    if width > limit:
        raise SolverError("certified θ_c", f"enclosure [{lo}, {hi}] is wider than 1e-{dps - 5} at {bits} bits")
    return lo, hi


def _pow2(k):
    import flint

    return flint.arb(2) ** k


def _arb_rational(q):
    import flint

    q = Fraction(q)
    return flint.arb(flint.fmpq(q.numerator, q.denominator))


def _arb_to_decimal(x, digits: int, direction: str) -> str:
    """An exact arb midpoint (here an endpoint) as a decimal string rounded outward."""
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    with _decimal.localcontext() as dc, long_integer_strings(abs(man).bit_length() // 3 + 100):
        dc.prec = max(digits + 10, len(str(abs(man))) + abs(exp) + 10)
        exact = _decimal.Decimal(man) * (_decimal.Decimal(2) ** exp)
        if exact == 0:
            return "0"
        q = _decimal.Decimal(1).scaleb(exact.adjusted() - digits + 1)
        rounded = exact.quantize(q, rounding=_decimal.ROUND_FLOOR if direction == "down" else _decimal.ROUND_CEILING)
        return str(rounded)


@dataclass
class Outlier:
    problem: Problem
    theta: Fraction
    location: object
    overlap: object
    bulk_edge: object
    separated: bool
    dps: int
    ctx: object
    theta_c: object = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            **self.problem.describe(),
            "theta": str(self.theta),
            "location": decimal(self.ctx, self.location, self.dps),
            "overlap": decimal(self.ctx, self.overlap, self.dps),
            "bulk_edge": decimal(self.ctx, self.bulk_edge, self.dps),
            "separated": self.separated,
            "theta_c": "inf" if self.theta_c is None else decimal(self.ctx, self.theta_c, self.dps),
        }


def _outlier_values(prob: Problem, theta: Fraction, ctx, shared: dict | None = None) -> dict:
    """``shared``: what does not depend on θ (the law, θ_c, Â's scale), filled on first use so that
    a curve over θ solves for them once per context."""
    shared = {} if shared is None else shared
    if "law" not in shared:
        shared["law"] = _Law(prob, ctx, lambda q: mpf(ctx, q))
        shared["tc"] = _theta_c(prob, ctx)
    law, tc = shared["law"], shared["tc"]
    eps = mpf(ctx, prob.perturb)
    th = mpf(ctx, theta)
    th_eff = (1 + eps) * th
    if prob.matrix == "ssr" and prob.spike == "e1":
        return _e1_outlier(prob, law, ctx, th, eps, tc)
    m_c = tc["m_c"]
    edge = law.z(m_c)
    separated = th > tc["theta_c"]
    if separated:
        E = lambda m: law.F("bbp.outlier_eq")(m, th, law.qv(m), eps)  # noqa: E731
        Ep = lambda m: th_eff * (law.qv(m) + m * law.qv_p(m))  # noqa: E731  (d/dm̃ of 1 + θm̃q_v)
        m = _newton_bracket(E, Ep, m_c, ctx.mpf(0) - ctx.mpf(2) ** (-(ctx.prec // 2)) * abs(m_c), ctx, "outlier equation 1 + θm̃q_v(m̃) = 0")
        loc = law.z(m)
        ov = law.F("bbp.overlap")(m, loc, th_eff, law.qv(m), law.qv_p(m), law.zp(m))
    else:
        loc, ov = edge, ctx.mpf(0)
    out = {}
    if prob.matrix == "ssr":
        if "scale" not in shared:
            shared["scale"] = _ssr_scale(prob, ctx)
        kappa, c0 = shared["scale"]
        phi = law.F("bbp.ssr_map")
        l = mpf(ctx, prob.lam)
        terms = law.F.terms("bbp.ssr_map")
        out = {"location:terms": terms(loc, l, kappa, c0), "bulk_edge:terms": terms(edge, l, kappa, c0)}
        loc, edge = phi(loc, l, kappa, c0), phi(edge, l, kappa, c0)
    return {"location": loc, "overlap": ov, "bulk_edge": edge, "separated": bool(separated), "theta_c": tc["theta_c"], **out}


def _e1_outlier(prob, law, ctx, th, eps, tc) -> dict:
    F = law.F
    a, l, kappa = law.a, mpf(ctx, prob.lam), tc["kappa"]
    w_e = F("bbp.e1_w_edge")(a, l, kappa)
    edge = F("spectrum.z_of_w")(w_e)  # Â's eigenvalue 1 − 1/s of M's edge s = w_e
    separated = tc["theta_c"] is not None and th > tc["theta_c"]
    if not separated:
        return {"location": edge, "overlap": ctx.mpf(0), "bulk_edge": edge, "separated": False, "theta_c": tc["theta_c"]}

    def h(wv):
        return F("bbp.e1_h")(wv, F("bbp.b_iso")(wv, a, l, kappa), th, l, kappa, eps)

    def hp(wv):
        return F("bbp.e1_h_w")(wv, F("bbp.b_iso")(wv, a, l, kappa), th, l, kappa, eps, F("bbp.b_iso_w")(wv, a, l, kappa))

    lo = w_e * (1 + ctx.mpf(2) ** (-(ctx.prec // 2)))
    hi = 2 * w_e
    for _ in range(200):
        if h(hi) < 0:
            break
        hi *= 2
    # h decreases through 0 on (lo, hi): root of −h with −h(lo) < 0 < −h(hi)
    wv = _newton_bracket(lambda x: -h(x), lambda x: -hp(x), lo, hi, ctx, "e1 outlier equation h(w) = 0")
    d11 = F("bbp.e1_D11")((1 + eps) * th, l, kappa)
    c0 = F("isotropic.tau")(kappa)
    db = kappa / l * c0  # D̄ = (κ/λ) diag R in the bulk
    u2 = -1 / (d11 * hp(wv))
    return {"location": F("spectrum.z_of_w")(wv), "overlap": F("bbp.e1_overlap")(d11, db, u2), "bulk_edge": edge, "separated": True,
            "theta_c": tc["theta_c"]}


def outlier(theta, alpha, base="isotropic", spike="flat", lam=None, matrix="sample", rho=None, dps: int = 30, perturb=0) -> Outlier:
    """Outlier location, squared overlap |⟨û, v⟩|² (û: unit right eigenvector) and bulk edge; overlap 0 below θ_c."""
    prob = problem(base, spike, alpha, lam, matrix, rho, perturb)
    return _outliers(prob, [parse("theta", theta)], dps, "the BBP outlier")[0]


def outlier_curve(thetas, alpha, base="isotropic", spike="flat", lam=None, matrix="sample", rho=None, dps: int = 30, perturb=0) -> list:
    """``outlier`` at every θ of ``thetas`` (a list of Outlier), with θ_c and the bulk solved once per
    working precision; every value carries the same digit guarantee as ``outlier``."""
    prob = problem(base, spike, alpha, lam, matrix, rho, perturb)
    return _outliers(prob, [parse("theta", t) for t in thetas], dps, "the BBP outlier curve")


def _outliers(prob: Problem, thetas: list, dps, what: str) -> list:
    dps = parse("dps", dps)
    names = ("location", "overlap", "bulk_edge", "separated", "theta_c")

    lossy = [(f"{i}:{k}", f"{i}:{k}:terms") for i in range(len(thetas)) for k in ("location", "bulk_edge")]

    def compute(ctx):
        shared: dict = {}
        out = {}
        for i, theta in enumerate(thetas):
            v = _outlier_values(prob, theta, ctx, shared)
            out.update({f"{i}:{k}": v[k] for k in names})
            out.update({f"{i}:{k}": v[k] for k in ("location:terms", "bulk_edge:terms") if k in v})
        return out

    ctx, vals = deliver(_raised(prob, compute, lossy), dps, what)
    return [Outlier(prob, t, *(vals[f"{i}:{k}"] for k in names[:4]), dps, ctx, vals[f"{i}:theta_c"]) for i, t in enumerate(thetas)]


def threshold_map(scan, lams) -> list:
    """θ_c of Â over a grid of λ for one configuration, as decimal strings ('inf': no outlier separates for any θ)."""
    return [threshold(dps=scan.dps, lam=lam, matrix="ssr", **scan.kw()).as_dict()["theta_c"] for lam in lams]


@dataclass(frozen=True)
class Scan:
    """One spiked configuration across θ at d = ∞: the thresholds and outlier curves of S and Â, per
    perturbation of the outlier equation, each computed once (``outlier_curve`` solves θ_c and the bulk once
    per working precision)."""

    base: str
    spike: str
    alpha: Fraction
    lam: Fraction
    rho: Fraction | None = None
    dps: int = 20

    def kw(self) -> dict:
        return {"base": self.base, "spike": self.spike, "alpha": self.alpha, **({"rho": self.rho} if self.rho is not None else {})}

    @lru_cache(maxsize=None)
    def thresholds(self, eps: Fraction = Fraction(0)) -> dict:
        """{"sample": θ_c(S), "ssr": θ_c(Â)} with certified enclosures."""
        kw = self.kw()
        return {"sample": threshold(dps=self.dps, certify=True, perturb=eps, **kw),
                "ssr": threshold(dps=self.dps, lam=self.lam, matrix="ssr", certify=True, perturb=eps, **kw)}

    @lru_cache(maxsize=None)
    def curve(self, thetas: tuple, eps: Fraction = Fraction(0), dps: int | None = None) -> dict:
        """{"sample": [Outlier], "ssr": [Outlier]} at every θ of ``thetas``."""
        kw = self.kw()
        return {m: outlier_curve(thetas, lam=self.lam if m == "ssr" else None, matrix=m, dps=dps or self.dps, perturb=eps, **kw)
                for m in MATRICES}
