"""The machinery every derivation uses: steps, results, and the three checks.

A derivation is a list of steps, each an identity ``lhs = rhs`` a reader can
follow, and a dictionary of results: the SymPy expressions the library
lambdifies. Each step is checked

(a) symbolically: the residual ``lhs - rhs`` must simplify to exactly zero;
(b) numerically: at three or more random rational points, at 50 digits, the
    residual must vanish to 45 digits relative to the size of the terms;

and (c) library checks, given to :func:`run` by the caller: the library
function that evaluates a result, called at random rational points, must
agree with an independent reference (SymPy's ``evalf`` of a result, a
quadrature, a root solve).

The package ``derivations`` imports only SymPy, mpmath, the standard library
and itself, never the library: the library imports the results, and the
library checks, which call the library, are defined on the library's side
(its verification package) and handed to :func:`run`.
"""

from __future__ import annotations

import builtins
import random
import time
import traceback
import types
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Mapping, Sequence

import mpmath
import sympy as sp

#: digits used for the numerical checks, and the digits they must agree to
CHECK_DPS = 50
AGREE_DIGITS = 45
#: random rational points per step and per library check
N_POINTS = 3


@dataclass
class Step:
    """One identity of a derivation: ``lhs = rhs`` under the stated assumptions.

    ``symbolic=False`` marks a step that SymPy cannot close exactly (an
    integral left unevaluated, a cited theorem); such a step must then carry a
    ``numeric`` check that uses an independent method, and the report says so.
    ``numeric`` optionally replaces the default numerical check: it takes a
    point (symbol -> Fraction) and a working precision (an mpmath context) and
    returns ``(value, reference)``.
    """

    name: str
    claim: str
    lhs: object
    rhs: object
    symbolic: bool = True
    simplifier: Callable[[sp.Expr], sp.Expr] | None = None
    numeric: Callable[[Mapping[sp.Symbol, Fraction], mpmath.ctx_mp.MPContext], tuple] | None = None
    domain: Mapping[sp.Symbol, tuple] | None = None
    cite: str = ""

    def __post_init__(self):
        # heavy sides (symbolic matrix inverses) may be given as zero-argument
        # callables, so that building a derivation for its results stays cheap
        self._lazy = {}

    def side(self, which: str):
        value = getattr(self, which)
        if callable(value) and not isinstance(value, sp.Basic):
            if which not in self._lazy:
                self._lazy[which] = value()
            return self._lazy[which]
        return value


@dataclass
class Result:
    """An expression the library lambdifies, with its ordered argument list.

    ``reference_only=True``: a result kept as an independent reference for checks (closed forms the
    library must agree with), not evaluated by the library.
    """

    expr: sp.Expr
    args: tuple
    text: str = ""
    reference_only: bool = field(default=False, kw_only=True)


@dataclass
class LibraryCheck:
    """(c): ``library(point, dps)`` must agree with ``reference(point)``.

    ``reference`` returns a SymPy expression (evaluated here with ``evalf``)
    or an mpmath number computed independently of the library.
    """

    name: str
    library: Callable[[Mapping[sp.Symbol, Fraction], int], object]
    reference: Callable[[Mapping[sp.Symbol, Fraction]], object]
    domain: Mapping[sp.Symbol, tuple] | None = None


@dataclass
class Derivation:
    name: str
    title: str
    summary: str
    steps: list[Step]
    results: dict[str, Result]
    domain: dict[sp.Symbol, tuple]
    references: Sequence[str] = ()

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"derivation {self.name!r} has no step {name!r}")


# ---------------------------------------------------------------- checking


@dataclass
class CheckOutcome:
    kind: str  # 'symbolic' | 'numeric' | 'library'
    target: str  # step or library-check name
    ok: bool
    detail: str
    seconds: float


@dataclass
class DerivationReport:
    """The outcome of every check of one derivation, with what a report shows of the derivation itself
    (its summary and each step's name, claim, citation), so that it can be rendered without rebuilding it."""

    name: str
    title: str
    outcomes: list[CheckOutcome]
    seconds: float
    summary: str = ""
    steps: list = field(default_factory=list)  # (name, claim, cite) per step, in order
    source: str = ""  # the file of a user's derivation; empty for a built-in one

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failed_steps(self) -> list[str]:
        return sorted({o.target for o in self.outcomes if not o.ok})


def random_points(domain: Mapping[sp.Symbol, tuple], key: str, count: int = N_POINTS):
    """Reproducible random rational points; the seed is derived from ``key``."""
    rng = random.Random(zlib.crc32(key.encode()))
    points = []
    for _ in range(count):
        point = {}
        for sym, (lo, hi) in sorted(domain.items(), key=lambda kv: kv[0].name):
            lo, hi = Fraction(lo), Fraction(hi)
            den = rng.randint(7, 997)
            # strictly inside (lo, hi) so that open domains are respected
            num_lo = int(lo * den) + 1
            num_hi = int(hi * den) - 1 if (hi * den).denominator == 1 else int(hi * den)
            if num_hi < num_lo:
                raise ValueError(f"domain of {sym} too narrow for random rationals: {lo, hi}")
            point[sym] = Fraction(rng.randint(num_lo, num_hi), den)
        points.append(point)
    return points


def as_sympy(point):
    """A point (symbol -> Fraction) with SymPy rationals, for exact substitution."""
    return {s: sp.Rational(v.numerator, v.denominator) for s, v in point.items()}


def mp_lambdify(args, expr, ctx):
    """``expr`` as a function of ``args`` evaluated in the mpmath context ``ctx``.

    SymPy's mpmath printer names ``cos``, ``sqrt``, ``pi``, ``mpf``…; each name is bound to ``ctx``'s
    own attribute, so the function computes at ``ctx``'s precision (mpmath's global functions would
    compute at the global 15 digits).
    """
    code = sp.lambdify(args, expr, modules="mpmath").__code__
    namespace = {"__builtins__": builtins}
    for ident in code.co_names:
        if hasattr(ctx, ident):
            namespace[ident] = getattr(ctx, ident)
        elif not hasattr(builtins, ident):
            raise RuntimeError(f"name {ident!r} of {sp.sstr(expr)[:80]} has no counterpart in {type(ctx).__name__}")
    return types.FunctionType(code, namespace)


def _residual_exprs(step: Step):
    lhs, rhs = step.side("lhs"), step.side("rhs")
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        diff = sp.Matrix(lhs) - sp.Matrix(rhs)
        return list(diff)
    return [sp.sympify(lhs) - sp.sympify(rhs)]


def _scale_exprs(step: Step):
    lhs, rhs = step.side("lhs"), step.side("rhs")
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        return list(sp.Matrix(lhs)) + list(sp.Matrix(rhs))
    return [sp.sympify(lhs), sp.sympify(rhs)]


def check_symbolic(step: Step) -> tuple[bool, str]:
    simplify = step.simplifier or sp.simplify
    nonzero = []
    for r in _residual_exprs(step):
        s = simplify(r)
        if s != 0:
            nonzero.append(s)
    if nonzero:
        return False, f"residual does not simplify to 0: {sp.sstr(nonzero[0])[:200]}"
    return True, "residual simplifies to 0"


def _evalf(expr, subs, dps):
    # numeric substitution inside evalf: no exact symbolic substitution of rationals first (which
    # SymPy would expand into large exact radicals), and evalf's adaptive precision guards cancellation
    expr = sp.sympify(expr)
    val = expr.evalf(dps + 10, subs=subs)
    if not val.is_number:  # a symbol outside ``subs``: report it as not numeric, as before
        val = expr.subs(subs).evalf(dps + 10)
    return val


def _to_mp(ctx, v):
    """A SymPy number to an mpmath number without a trip through float64."""
    v = sp.sympify(v)
    re_, im_ = v.as_real_imag()
    if im_ == 0:
        return ctx.mpf(str(sp.Float(re_, CHECK_DPS + 10)))
    return ctx.mpc(str(sp.Float(re_, CHECK_DPS + 10)), str(sp.Float(im_, CHECK_DPS + 10)))


def check_numeric(step: Step, domain, key: str) -> tuple[bool, str]:
    ctx = mpmath.MPContext()
    ctx.dps = CHECK_DPS
    worst = None
    points = random_points(step.domain or domain, key)
    for point in points:
        if step.numeric is not None:
            value, reference = step.numeric(point, ctx)
            value, reference = ctx.mpmathify(value), ctx.mpmathify(reference)
            err = abs(value - reference)
            scale = max(1, abs(reference))
        else:
            subs = as_sympy(point)
            err, scale = ctx.mpf(0), ctx.mpf(1)
            for r in _residual_exprs(step):
                v = _evalf(r, subs, CHECK_DPS)
                if not v.is_number:
                    return False, f"residual not numeric after substitution: {sp.sstr(v)[:120]}"
                err = max(err, abs(_to_mp(ctx, v)))
            for t in _scale_exprs(step):
                v = _evalf(t, subs, CHECK_DPS)
                if v.is_number:
                    scale = max(scale, abs(_to_mp(ctx, v)))
        rel = err / scale
        worst = rel if worst is None else max(worst, rel)
        if not rel <= ctx.mpf(10) ** (-AGREE_DIGITS):
            return False, f"relative residual {ctx.nstr(rel, 3)} at {_fmt_point(point)} (needs <= 1e-{AGREE_DIGITS})"
    return True, f"{len(points)} random rational points at {CHECK_DPS} digits, worst relative residual {ctx.nstr(worst, 3)}"


def check_library(check: LibraryCheck, domain, key: str) -> tuple[bool, str]:
    ctx = mpmath.MPContext()
    ctx.dps = CHECK_DPS
    worst = None
    points = random_points(check.domain or domain, key)
    for point in points:
        lib = check.library(point, CHECK_DPS)
        ref = check.reference(point)
        if isinstance(ref, sp.Basic):
            ref = _to_mp(ctx, ref.evalf(CHECK_DPS + 10))
        lib = ctx.mpf(lib) if isinstance(lib, str) else ctx.mpmathify(lib)
        ref = ctx.mpmathify(ref)
        rel = abs(lib - ref) / max(1, abs(ref))
        worst = rel if worst is None else max(worst, rel)
        if not rel <= ctx.mpf(10) ** (-AGREE_DIGITS):
            return False, (
                f"library {ctx.nstr(lib, 20)} vs derived {ctx.nstr(ref, 20)} at {_fmt_point(point)}"
            )
    return True, f"{len(points)} random rational points at {CHECK_DPS} digits, worst relative gap {ctx.nstr(worst, 3)}"


def _fmt_point(point):
    return "{" + ", ".join(f"{s}={v}" for s, v in point.items()) + "}"


def run(derivation: Derivation, checks: Sequence[LibraryCheck] = ()) -> DerivationReport:
    """Run every step check of one derivation, then the library ``checks``; never raises for a failing check.

    The library checks come from the caller (the library's verification package): the derivations
    do not know the library. Without them only the steps are checked.
    """
    t0 = time.perf_counter()
    outcomes = []
    for step in derivation.steps:
        key = f"{derivation.name}/{step.name}"
        kinds = [("symbolic", check_symbolic)] if step.symbolic else []
        kinds.append(("numeric", lambda s, k=key: check_numeric(s, derivation.domain, k)))
        for kind, fn in kinds:
            t = time.perf_counter()
            try:
                ok, detail = fn(step)
            except Exception as exc:  # a crash in a check is a failed check, with its cause
                ok, detail = False, f"check raised {type(exc).__name__}: {exc}"
                detail += " | " + traceback.format_exc(limit=2).splitlines()[-1]
            outcomes.append(CheckOutcome(kind, step.name, ok, detail, time.perf_counter() - t))
    for chk in checks:
        t = time.perf_counter()
        try:
            ok, detail = check_library(chk, derivation.domain, f"{derivation.name}/lib/{chk.name}")
        except Exception as exc:
            ok, detail = False, f"check raised {type(exc).__name__}: {exc}"
        outcomes.append(CheckOutcome("library", chk.name, ok, detail, time.perf_counter() - t))
    steps = [(s.name, s.claim, s.cite) for s in derivation.steps]
    return DerivationReport(derivation.name, derivation.title, outcomes, time.perf_counter() - t0, derivation.summary, steps)
