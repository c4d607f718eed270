"""Deterministic equivalents of SPEC §2: κ, df1, df2, E_gen, E_train.

The formulas are the derivations' results (``kappa``, ``train_gen``); the
model supplies τ(κ) = (1/d) tr R and diag R. κ is the unique root of the
increasing function G(κ) = 1 − (1/α)(1 − κτ) − λ/κ on the bracket
[λ, λ + (tr Σ/d)/α] (derivation kappa), found by Newton's method safeguarded
by bisection.

Precision. ``dps`` digits are *delivered*, not merely requested: the whole
computation runs at two working precisions (dps + g and dps + 2g guard
digits), and the result is returned only when the two agree to dps
significant digits; otherwise the guard grows, and after four attempts the
function raises. ``dps=None`` selects the double-precision path (mpmath's
``fp`` context: the same code on Python floats), meant for large finite d.

Extremes. df1/d = 1 − κτ, df2/d = 1 − 2κτ − κ²τ', the terms (m + κm')/m² of E_gen and
1 − df2/n are differences that cancel: when κ is large against Σ's eigenvalues (λ → ∞, α → 0),
when κ → 0 at α = 1, near df2/n = 1. Digits lost are measured, not guessed: before κ is solved, by
the derived bound 4(1 + κτ₀)² on the amplification of df1/d and df2/d (derivation kappa, result
``cancellation_bound``, τ₀ = τ(0), κ ≤ λ + (tr Σ/d)/α); after, from the terms of every formula at
the solution (``bind_terms``: Σ|terms| against the value) and the conditioning of κ's equation.
When more than ABSORBED_DIGITS would be lost, the same formulas are evaluated at a working precision
raised by what they lose (the double-precision path then runs in mpmath and rounds to floats), so
E_gen → tr Σ/d as λ → ∞ and every other end is computed, not rounded to 0.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, MAX_D_THEORY, MAX_D_THEORY_DOUBLE, check_dimension, parse
from rmtverify.core.precision import GUARD_DIGITS, announce, context, decimal, deliver, double_digits, estimated_seconds, fmt, mpf
from rmtverify.models.base import CovarianceModel
from rmtverify.symbolic.formulas import Formulas, lost_digits
from rmtverify.theory.kappa import solve_kappa

OUTPUT_KEYS = ("kappa", "df1", "df2", "e_gen", "e_train")
EXTRA_KEYS = ("dkappa_dlam",)

#: digits of cancellation the guard digits absorb (half of them); a computation losing more is redone at a raised precision
ABSORBED_DIGITS = GUARD_DIGITS // 2
#: the a priori bound (derivation kappa, cancellation_bound) above which κ is solved at a raised precision from the start
A_PRIORI_DIGITS = GUARD_DIGITS
#: digits added beyond the measured loss when the precision is raised
MARGIN_DIGITS = 10
#: the most digits the precision may be raised by (the parameters' bounds keep real cases below ~1300)
MAX_EXTRA_DIGITS = 4000


@dataclass(frozen=True)
class TheoryResult:
    """Deterministic equivalents at one (model, α, λ, d); numbers live in ``ctx``."""

    model: dict
    d: object  # int or INF
    alpha: Fraction
    lam: Fraction
    dps: int | None  # None: double precision
    ctx: object
    kappa: object
    df1: object  # df1/d
    df2: object  # df2/d
    e_gen: object
    e_train: object
    dkappa_dlam: object
    limit: dict | None = None  # the model's d = ∞ description, when d = ∞
    double_digits: int | None = None  # the digits the double-precision path keeps (None: dps digits, delivered)

    def as_dict(self) -> dict:
        """JSON-ready: every number a decimal string with the delivered digits (double precision: the digits it kept)."""
        digits = self.dps if self.dps is not None else self.double_digits
        out = {
            "model": self.model,
            "d": "inf" if self.d == INF else self.d,
            "alpha": str(self.alpha),
            "lam": str(self.lam),
            "dps": self.dps if self.dps is not None else "double",
        }
        if self.limit is not None:
            out["limit"] = self.limit
        if self.dps is None:
            out["digits"] = self.double_digits
        for key in OUTPUT_KEYS + EXTRA_KEYS:
            out[key] = decimal(self.ctx, getattr(self, key), digits)
        return out

    def float(self, key: str) -> float:
        return float(getattr(self, key))


def equivalents_in(model: CovarianceModel, alpha, lam, d, ctx, start=None) -> dict:
    """κ, df1/d, df2/d, E_gen, E_train and dκ/dλ in ``ctx``, each with the digits of ``ctx`` (less the guard): evaluated at
    a precision raised by the digits the formulas lose to cancellation at this point (see the module's "Extremes")."""
    return equivalents_with_loss(model, alpha, lam, d, ctx, start)[0]


def equivalents_with_loss(model: CovarianceModel, alpha, lam, d, ctx, start=None) -> tuple[dict, float]:
    """:func:`equivalents_in` and the digits of ``ctx`` its values lost to cancellation and conditioning (0 when they were
    computed at a raised precision and rounded to ``ctx``)."""
    extra = _a_priori_digits(model, alpha, lam, d)
    tried = []
    failed = False
    for _ in range(8):
        wctx = ctx if extra == 0 else _raised(ctx, extra)
        try:
            vals, lost = _equivalents_at(model, alpha, lam, d, wctx, start)
        except (SolverError, ArithmeticError) as exc:
            if failed:
                raise
            # a solve may fail where digits cancel (in double precision a λ/κ² that overflows): once, retry with more digits
            failed = True
            tried.append(f"{_digits(wctx)} digits ({type(exc).__name__})")
            extra += ABSORBED_DIGITS + MARGIN_DIGITS
            continue
        if lost <= extra + ABSORBED_DIGITS:
            return (vals, lost) if wctx is ctx else ({k: _lower(ctx, v) for k, v in vals.items()}, 0.0)
        tried.append(f"{_digits(wctx)} digits (lost {lost:.0f})")
        start = vals["kappa"] if vals["kappa"] != 0 else start
        extra = min(int(min(lost, _digits(wctx))) + MARGIN_DIGITS + max(extra, ABSORBED_DIGITS), MAX_EXTRA_DIGITS + 1)
        if extra > MAX_EXTRA_DIGITS:
            break
    raise SolverError(
        "deterministic equivalents with their digits",
        f"working precisions raised by the digits lost to cancellation: {'; '.join(tried)} (at most {MAX_EXTRA_DIGITS} extra digits)",
    )


def _is_fp(ctx) -> bool:
    return ctx is mpmath.fp


def _digits(ctx) -> int:
    return 15 if _is_fp(ctx) else ctx.dps


def _raised(ctx, extra: int):
    """A context with ``extra`` more digits than ``ctx`` (an mpmath context for the double-precision path too)."""
    return context(_digits(ctx) + (GUARD_DIGITS if _is_fp(ctx) else 0) + extra)


def _lower(ctx, v):
    """A value of a raised context back in ``ctx`` (rounded once); for double precision a float, unless the value is
    beyond the normal double range (it then stays an mpf: 1e-600 is not 0)."""
    if _is_fp(ctx):
        f = float(v)
        return f if v == 0 or (math.isfinite(f) and abs(f) >= sys.float_info.min) else v
    return ctx.mpf(v)


def _a_priori_digits(model, alpha, lam, d) -> int:
    """Extra digits to solve with, from the derived bound on the cancellation in df1/d and df2/d at the bracket's top
    κ_hi = λ + (tr Σ/d)/α: 0 when the bound is within A_PRIORI_DIGITS (the a posteriori check handles the rest).
    τ₀ = τ(0) and tr Σ/d come from the model's double-precision resolvent (an estimate needs no more)."""
    c = context(20)
    res = model.resolvent(d, mpmath.fp)
    kappa_hi = mpf(c, lam) + c.mpf(res.mean_sigma) / mpf(c, alpha)
    tau0 = c.mpf(res.trace(0)[0])
    digits = float(c.log10(Formulas(c)("kappa.cancellation_bound")(kappa_hi, tau0)))
    return 0 if digits <= A_PRIORI_DIGITS else min(int(digits) + MARGIN_DIGITS, MAX_EXTRA_DIGITS)


def _equivalents_at(model: CovarianceModel, alpha, lam, d, ctx, start=None) -> tuple[dict, float]:
    """The equivalents in ``ctx`` and the digits they lost to cancellation (an estimate from the formulas' terms)."""
    F = Formulas(ctx)
    try:
        res = model.resolvent(d, ctx)
    except InputError as exc:
        if exc.parameter != "dps":
            raise
        # a model whose finite-d theory exists in double precision only cannot raise its precision: the point is refused
        raise InputError("lam" if lam > 1 else "alpha", f"at alpha = {alpha}, lam = {lam} the {model.name} model's double-precision "
                         f"finite-d theory would lose digits to cancellation and cannot raise its precision ({exc.message})") from None
    kappa = solve_kappa(res, alpha, lam, ctx, F, start=start)
    a = mpf(ctx, alpha)
    l = mpf(ctx, lam)
    tau, tau_p = res.trace(kappa)
    df1 = F("kappa.df1_over_d")(kappa, tau)
    df2 = F("kappa.df2_over_d")(kappa, tau, tau_p)
    lost = max(lost_digits(ctx, F.terms("kappa.df1_over_d")(kappa, tau)), lost_digits(ctx, F.terms("kappa.df2_over_d")(kappa, tau, tau_p)))
    if kappa != 0:
        # κ's own conditioning: the root of G moves by (rounding of G's terms)/(κ G'), relative to κ
        num, mnum, den, _ = F.terms("kappa.G")(kappa, l, a, tau)
        slope = abs(kappa * F("kappa.dG")(kappa, l, a, tau, tau_p))
        lost += max(0.0, float(ctx.log10(abs(mnum / den) / slope))) if slope > 0 else float("inf")
    if not lost <= _digits(ctx):
        return {"kappa": kappa}, float("inf")  # nothing left: raise the precision before judging the root
    if not df2 < a:
        raise SolverError(
            "kappa fixed point",
            f"a root with df2/n = {fmt(ctx, df2 / a, 8)} >= 1, which the unique root never has: "
            "the resolvent functionals are inconsistent",
        )
    gen_term = F("train_gen.gen_term")
    gen_terms = F.terms("train_gen.gen_term")
    groups = res.diagonal(kappa)
    mean_term = ctx.fsum(mpf(ctx, g.weight) * gen_term(g.m, g.m_p, kappa) for g in groups)
    lost_gen = max(lost_digits(ctx, gen_terms(g.m, g.m_p, kappa)) for g in groups)
    e_gen = F("train_gen.e_gen")(mean_term, a, df2)
    lost += lost_gen + lost_digits(ctx, F.terms("train_gen.e_gen")(mean_term, a, df2))
    # q = λ/κ directly when κ > 0 (no cancellation); at κ = 0 (ridgeless, n > d) its limit 1 − df1/n
    q = l / kappa if kappa != 0 else F("kappa.lam_over_kappa")(a, df1)
    e_train = F("train_gen.e_train")(e_gen, q)
    vals = {
        "kappa": kappa,
        "df1": df1,
        "df2": df2,
        "e_gen": e_gen,
        "e_train": e_train,
        "dkappa_dlam": F("kappa.dkappa_dlam")(a, df2),
    }
    return vals, lost


def _kappa_double(model: CovarianceModel, alpha, lam, d):
    """κ in double precision, a starting point for the high-precision solve (None if that fails)."""
    try:
        return solve_kappa(model.resolvent(d, mpmath.fp), alpha, lam, mpmath.fp)
    except (ArithmeticError, ValueError, SolverError, InputError):
        return None


def equivalents(model: CovarianceModel, alpha, lam, d=None, dps: int | None = 30) -> TheoryResult:
    """Deterministic equivalents of κ, df1/d, df2/d, E_gen, E_train (SPEC §2).

    ``d=None`` is the model's default (d = ∞ where the model has a limit);
    ``dps=None`` selects double precision.
    """
    alpha = parse("alpha", alpha)
    lam = parse("lam", lam)
    d = model.check_d(d)
    if dps is None:
        check_dimension(d, MAX_D_THEORY_DOUBLE, "the finite-d theory in double precision")
    else:
        check_dimension(d, MAX_D_THEORY, "the finite-d theory in multiprecision (O(d) work at the working precision; "
                                          "use --double for larger d)")
        if d != INF:
            announce(parse("dps", dps), "the deterministic equivalents", seconds=estimated_seconds(dps, "the finite-d equivalents", d))
    limit = model.limit_description() if d == INF else None
    if dps is None:
        vals, lost = equivalents_with_loss(model, alpha, lam, d, mpmath.fp)
        # a value beyond the double range (df2/d ~ 1e-600 at λ = 1e300) stays an mpf
        ctx = mpmath.fp if all(isinstance(v, float) for v in vals.values()) else context(17)
        return TheoryResult(model.describe(), d, alpha, lam, None, ctx, **vals, limit=limit, double_digits=double_digits(lost))
    # Newton starts from κ in double precision, then each precision from the previous one's κ: the
    # iterations drop from tens to a few; both precisions still solve to their own tolerance and
    # must agree (the digit guarantee of ``deliver`` is unchanged)
    hint = {"kappa": _kappa_double(model, alpha, lam, d)}

    def compute(c):
        vals = equivalents_in(model, alpha, lam, d, c, start=hint["kappa"])
        hint["kappa"] = vals["kappa"]
        return vals

    ctx, vals = deliver(compute, dps, "the deterministic equivalents")
    return TheoryResult(model.describe(), d, alpha, lam, parse("dps", dps), ctx, **vals, limit=limit)
