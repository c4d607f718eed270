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
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import mpmath

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.params import INF, parse
from rmtverify.core.precision import decimal, deliver, mpf
from rmtverify.models.base import CovarianceModel
from rmtverify.symbolic.formulas import Formulas
from rmtverify.theory.kappa import solve_kappa

OUTPUT_KEYS = ("kappa", "df1", "df2", "e_gen", "e_train")
EXTRA_KEYS = ("dkappa_dlam",)


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

    def as_dict(self) -> dict:
        """JSON-ready: every number a decimal string with the delivered digits."""
        digits = self.dps if self.dps is not None else 17
        out = {
            "model": self.model,
            "d": "inf" if self.d == INF else self.d,
            "alpha": str(self.alpha),
            "lam": str(self.lam),
            "dps": self.dps if self.dps is not None else "double",
        }
        if self.limit is not None:
            out["limit"] = self.limit
        for key in OUTPUT_KEYS + EXTRA_KEYS:
            out[key] = decimal(self.ctx, getattr(self, key), digits)
        return out

    def float(self, key: str) -> float:
        return float(getattr(self, key))


def equivalents_in(model: CovarianceModel, alpha, lam, d, ctx, start=None) -> dict:
    F = Formulas(ctx)
    res = model.resolvent(d, ctx)
    kappa = solve_kappa(res, alpha, lam, ctx, F, start=start)
    a = mpf(ctx, alpha)
    tau, tau_p = res.trace(kappa)
    df1 = F("kappa.df1_over_d")(kappa, tau)
    df2 = F("kappa.df2_over_d")(kappa, tau, tau_p)
    if not df2 < a:
        raise SolverError(
            "kappa fixed point",
            f"a root with df2/n = {ctx.nstr(df2 / a, 8)} >= 1, which the unique root never has: "
            "the resolvent functionals are inconsistent",
        )
    gen_term = F("train_gen.gen_term")
    mean_term = ctx.fsum(mpf(ctx, g.weight) * gen_term(g.m, g.m_p, kappa) for g in res.diagonal(kappa))
    e_gen = F("train_gen.e_gen")(mean_term, a, df2)
    # q = λ/κ directly when κ > 0 (no cancellation); at κ = 0 (ridgeless, n > d) its limit 1 − df1/n
    q = mpf(ctx, lam) / kappa if kappa != 0 else F("kappa.lam_over_kappa")(a, df1)
    e_train = F("train_gen.e_train")(e_gen, q)
    return {
        "kappa": kappa,
        "df1": df1,
        "df2": df2,
        "e_gen": e_gen,
        "e_train": e_train,
        "dkappa_dlam": F("kappa.dkappa_dlam")(a, df2),
    }


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
    limit = model.limit_description() if d == INF else None
    if dps is None:
        vals = equivalents_in(model, alpha, lam, d, mpmath.fp)
        return TheoryResult(model.describe(), d, alpha, lam, None, mpmath.fp, **vals, limit=limit)
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
