"""The effective regularisation κ: the root of the fixed-point equation of SPEC §2 (derivation kappa).

κ − λ = (κ/n) tr Σ(Σ + κI)^{-1}, written as the increasing function
G(κ) = 1 − (1/α)(1 − κτ) − λ/κ with τ = (1/d) tr R supplied by the model's
resolvent, has one root on the bracket [λ, λ + (tr Σ/d)/α]; it is found by
Newton's method safeguarded by bisection (at the bracket's geometric mean when it spans more than
six decades, as it does for λ → 0).
"""

from __future__ import annotations

from rmtverify.core.exceptions import InputError, SolverError
from rmtverify.core.precision import fmt, mpf
from rmtverify.symbolic.formulas import Formulas

#: a bracket [lo, hi] with hi > WIDE_BRACKET * lo is bisected at its geometric mean
WIDE_BRACKET = 10**6


def solve_kappa(resolvent, alpha, lam, ctx, formulas: Formulas | None = None, start=None):
    """κ for exact α > 0, λ ≥ 0, in ``ctx``; raises SolverError with what it tried.

    ``start``: an approximation of κ (from a lower precision) to start Newton's method from; the
    root is the same (the bracket and the tolerance are this context's), only the iterations are
    fewer. Without it Newton starts at the middle of the bracket.
    """
    F = formulas or Formulas(ctx)
    G, dG = F("kappa.G"), F("kappa.dG")
    a, l = mpf(ctx, alpha), mpf(ctx, lam)
    if lam == 0:
        if alpha > 1:
            return ctx.mpf(0)  # ridgeless, n > d: κ = 0 (derivation isotropic, steps ridgeless-*)
        if alpha == 1:
            raise InputError("lam", "lam = 0 needs alpha != 1: at alpha = 1 the ridgeless errors diverge")
    lo = l
    hi = l + resolvent.mean_sigma / a
    warm = start is not None and lo < ctx.mpf(start) < hi

    def middle(lo, hi):
        # a bracket spanning many decades (λ → 0: κ ~ λ sits at its bottom) is halved in log scale, so bisection
        # needs ~log2(decades) steps, not ~3.3 per decade
        return ctx.sqrt(lo * hi) if lo > 0 and hi > WIDE_BRACKET * lo else (lo + hi) / 2

    x = ctx.mpf(start) if warm else middle(lo, hi)
    tol = ctx.mpf(2) ** (-(ctx.prec - 6))
    max_iter = 100 + 2 * ctx.prec
    g = None
    for it in range(max_iter):
        tau, tau_p = resolvent.trace(x)
        g = G(x, l, a, tau)
        # G is a sum of O(1) terms that cancel; near α = 1 with λ → 0 its rounding noise, divided by
        # a small G', exceeds the step tolerance, so the iteration could wander inside the noise for
        # ever. A G at the rounding level of its terms is a root to working precision: accept it
        # (the two-precision check of ``deliver`` still certifies the delivered digits)
        if abs(g) <= 16 * ctx.eps * (1 + abs(1 / a) + abs(x * tau / a) + abs(l / x)):
            return x
        if g < 0:
            lo = x
        else:
            hi = x
        dg = dG(x, l, a, tau, tau_p)
        x_new = x - g / dg if dg > 0 else (lo + hi) / 2
        # from a warm start the converged Newton step may land on the bracket's end it just moved:
        # accept it (the closed bracket), instead of bisecting away from the root
        if not (lo <= x_new <= hi if warm else lo < x_new < hi):
            x_new = middle(lo, hi)  # Newton left the bracket: bisect instead
        step = abs(x_new - x)
        x = x_new
        if step <= tol * abs(x) or hi - lo <= tol * abs(x):
            return x
    raise SolverError(
        "kappa fixed point",
        f"Newton's method safeguarded by bisection on G(kappa) = 1 - (1/alpha)(1 - kappa tau) - lam/kappa, "
        f"{max_iter} iterations at {ctx.prec} bits; last kappa = {fmt(ctx, x, 20)}, "
        f"G = {fmt(ctx, g, 5)}, bracket [{fmt(ctx, lo, 20)}, {fmt(ctx, hi, 20)}]",
    )
