"""Working precision as an explicit, local thing.

Theory functions take a number of decimal digits and build a *local*
mpmath context (mpmath's global context is shared state and not thread-safe).
They compute with guard digits and return results rounded to the digits the
caller asked for, as decimal strings when the result leaves mpmath.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath

from rmtverify.core.params import MAX_DPS, MIN_DPS, parse

#: digits computed beyond those requested, so that the last requested digit is right
GUARD_DIGITS = 12


def context(dps: int) -> mpmath.ctx_mp.MPContext:
    """A fresh mpmath context at ``dps`` decimal digits."""
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def working_context(dps: int, extra: int = 0) -> mpmath.ctx_mp.MPContext:
    """The context a theory function computes in: requested digits + guard digits + extra."""
    dps = parse("dps", dps)
    return context(dps + GUARD_DIGITS + extra)


def mpf(ctx, q) -> "mpmath.mpf":
    """An exact rational (Fraction or int) as a number of ``ctx``, rounded once."""
    q = Fraction(q)
    if q.denominator == 1:
        return ctx.mpf(q.numerator)
    return ctx.mpf(q.numerator) / q.denominator


def decimal(ctx, x, digits: int) -> str:
    """``x`` as a decimal string with ``digits`` significant digits."""
    if isinstance(x, float):
        return repr(x)
    return ctx.nstr(x, digits, strip_zeros=False, min_fixed=-6, max_fixed=digits + 1)


def deliver(compute, dps: int, what: str) -> tuple:
    """Run ``compute(ctx)`` at dps + g and dps + 2g digits until both agree to ``dps`` digits.

    ``compute`` returns a dict of numbers of its context. Returns (context, values)
    of the more precise run. The guard g doubles after a disagreement; after four
    attempts a SolverError says which values would not settle.
    """
    from rmtverify.core.exceptions import SolverError

    dps = parse("dps", dps)
    guard = GUARD_DIGITS
    tried = []
    for _ in range(4):
        lo_ctx, hi_ctx = context(dps + guard), context(dps + 2 * guard)
        lo, hi = compute(lo_ctx), compute(hi_ctx)
        bad = [k for k in hi if not _agree(hi_ctx, lo[k], hi[k], dps + 1)]
        if not bad:
            return hi_ctx, hi
        tried.append(f"{dps + guard} vs {dps + 2 * guard} digits (disagreed on {', '.join(bad)})")
        guard *= 2
    raise SolverError(f"{dps}-digit evaluation of {what}", "; ".join(tried))


def _agree(ctx, x, y, digits) -> bool:
    if x is None or y is None or isinstance(x, (bool, str)):
        return x == y
    if x == y:
        return True
    return abs(x - y) <= ctx.mpf(10) ** (-digits) * max(abs(x), abs(y)) / 2


__all__ = ["GUARD_DIGITS", "MIN_DPS", "MAX_DPS", "context", "working_context", "mpf", "decimal", "deliver"]
