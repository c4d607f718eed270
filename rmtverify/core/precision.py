"""Working precision as an explicit, local thing.

Theory functions take a number of decimal digits and build a *local*
mpmath context (mpmath's global context is shared state and not thread-safe).
They compute with guard digits and return results rounded to the digits the
caller asked for, as decimal strings when the result leaves mpmath.

Up to 10000 digits. Numbers of more than 4300 digits cross Python's limit on int <-> decimal string
conversions (``sys.set_int_max_str_digits``): ``deliver`` and ``decimal`` raise it only inside their
own blocks (:func:`~rmtverify.core.params.long_integer_strings`) and restore it.

Long computations say so up front: :func:`estimated_seconds` gives the expected time of a computation
at a precision, and :func:`announce` issues a :class:`LongComputationWarning` ("computing at 8000
digits: this takes about 40 s") when it exceeds LONG_SECONDS; ``deliver`` announces itself. The command
line shows warnings as one line on stderr; a caller may also register a callback (:func:`on_long_computation`).
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import mpmath

from rmtverify.core.params import MAX_DPS, MIN_DPS, long_integer_strings, parse

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
        if digits is None or digits >= 17 or not math.isfinite(x):  # 17 significant digits identify a double: its repr
            return repr(x)
        return mpmath.nstr(mpmath.mpf(x), digits, strip_zeros=False, min_fixed=-6, max_fixed=digits + 1)
    with long_integer_strings():
        return ctx.nstr(x, digits, strip_zeros=False, min_fixed=-6, max_fixed=digits + 1)


def from_decimal(ctx, text: str):
    """A decimal string (any number of digits up to 10000+) as a number of ``ctx``."""
    with long_integer_strings():
        return ctx.mpf(text)


# ------------------------------------------------------------------ long computations, announced up front

#: a computation expected to take longer than this is announced before it starts
LONG_SECONDS = 10.0

#: (b, p[, a]): a delivered evaluation (both precisions) takes about size·(a + b·(dps/1000)^p) seconds, measured on the
#: project's 2-core machine (mpmath on gmpy2); ``size`` multiplies the cost (finite d: per coordinate), a is a floor of work
#: that does not shrink with the digits (Python overhead per coordinate)
COSTS = {
    "the deterministic equivalents": (0.01, 1.6),
    "the finite-d equivalents": (0.0006, 2.0, 0.001),  # per coordinate (size = d): 4 s at d = 4096, 30 digits
    "the spectral density": (3.5, 1.7),
    "the BBP threshold": (0.11, 2.4),
    "the certified BBP threshold": (0.12, 2.4),  # the enclosure, beyond the threshold itself
    "the BBP outlier": (0.18, 2.4),
    "the BBP outlier curve": (0.18, 2.4),  # per θ (size = the number of θ)
    "the optimal ridge": (0.04, 2.0),
    "the SSR-PCA crossover": (0.04, 2.0),
    "the population PCA error": (0.01, 1.6),
}
_DEFAULT_COST = (0.5, 1.7)
_callbacks: list = []


class LongComputationWarning(UserWarning):
    """A computation that will take long (issued before it starts, with an estimate of its duration)."""


def estimated_seconds(dps: int, what: str, size: float = 1.0) -> float:
    """The expected seconds of delivering ``what`` at ``dps`` digits (``size``: a multiplier, e.g. d at finite d)."""
    base, power, *floor = COSTS.get(what, _DEFAULT_COST)
    return size * ((floor[0] if floor else 0.0) + base * (max(int(dps), MIN_DPS) / 1000) ** power)


def on_long_computation(callback) -> None:
    """Register ``callback(message, seconds)``, called for every long computation besides the warning."""
    _callbacks.append(callback)


def announce(dps: int, what: str, size: float = 1.0, seconds: float | None = None) -> str | None:
    """Warn (LongComputationWarning) when ``what`` at ``dps`` digits is expected to take longer than LONG_SECONDS;
    returns the message, or None for a quick computation."""
    seconds = estimated_seconds(dps, what, size) if seconds is None else seconds
    if seconds < LONG_SECONDS:
        return None
    message = f"computing {what} at {dps} digits: this takes about {_duration(seconds)}"
    warnings.warn(message, LongComputationWarning, stacklevel=3)
    for cb in list(_callbacks):
        cb(message, seconds)
    return message


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def deliver(compute, dps: int, what: str) -> tuple:
    """Run ``compute(ctx)`` at dps + g and dps + 2g digits until both agree to ``dps`` digits.

    ``compute`` returns a dict of numbers of its context. Returns (context, values)
    of the more precise run. The guard g doubles after a disagreement; after four
    attempts a SolverError says which values would not settle.
    """
    from rmtverify.core.exceptions import SolverError

    dps = parse("dps", dps)
    announce(dps, what)
    guard = GUARD_DIGITS
    tried = []
    with long_integer_strings():
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


def fmt(ctx, x, digits: int = 12) -> str:
    """A number of any context (an mpmath context or ``mpmath.fp``, whose numbers are Python floats) for a message."""
    if x is None:
        return "n/a"
    if isinstance(x, (float, int, complex)):
        return f"{x:.{digits}g}" if not isinstance(x, complex) else f"{x.real:.{digits}g}{x.imag:+.{digits}g}j"
    with long_integer_strings():
        return mpmath.nstr(x, digits)


__all__ = ["GUARD_DIGITS", "MIN_DPS", "MAX_DPS", "LONG_SECONDS", "LongComputationWarning", "context", "working_context", "mpf",
           "decimal", "from_decimal", "deliver", "estimated_seconds", "announce", "on_long_computation", "fmt", "long_integer_strings"]


#: significant digits of a double (53 bits: 15.95)
DOUBLE_PRECISION_DIGITS = 15


def double_digits(lost: float) -> int:
    """The significant digits a double-precision result keeps after losing ``lost`` digits to cancellation and
    conditioning, less one for the rounding of the steps that the estimate does not count (at least 1)."""
    return max(1, DOUBLE_PRECISION_DIGITS - 1 - math.ceil(max(0.0, lost)))
