"""Every parameter declared once: its domain, typical range and meaning.

Validation and error messages come from these declarations, for the Python
API and the command line alike (the pattern of scipy.stats' new
distribution infrastructure). Real parameters are parsed *exactly*: a decimal
string such as ``"0.1"`` becomes the rational 1/10, and a Python float is read
through its shortest decimal representation, so no binary rounding enters a
high-precision computation.

Bounded work. What a number asks for is bounded where it is parsed: a real number's decimal
exponent must lie in [-MAX_EXPONENT, MAX_EXPONENT] (its magnitude in [1e-300, 1e301), or 0) and it
may carry at most MAX_DIGITS significant digits, both checked on the text before any exact rational
is built (``1e999999999`` would otherwise become a billion-digit integer); a finite dimension is at
most MAX_D, and each computation declares the largest d it accepts (MAX_D_THEORY, MAX_D_THEORY_DOUBLE,
MAX_D_SPECTRUM, MAX_D_DENSE, MAX_D_MONTE_CARLO; :func:`check_dimension`).
"""

from __future__ import annotations

import math
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Rational, Real

from rmtverify.core.exceptions import InputError

INF = math.inf

#: the largest decimal exponent of a real parameter: |x| in [1e-300, 1e301), or x = 0 (the double-precision range)
MAX_EXPONENT = 300
#: the most significant digits a number may be written with (twice the largest working precision)
MAX_DIGITS = 20000


@contextmanager
def long_integer_strings(digits: int = 4 * MAX_DIGITS):
    """Allow int <-> decimal string conversions of up to ``digits`` digits inside the block, then restore the limit.

    Python limits such conversions (``sys.set_int_max_str_digits``, 4300 digits by default) process-wide; numbers of
    up to 10000 working digits cross it (an mpf read from a decimal string, an exact midpoint printed). The limit is
    raised only inside the block, never lowered, and restored on exit; blocks nest.
    """
    get = getattr(sys, "get_int_max_str_digits", None)
    if get is None:  # a Python without the limit
        yield
        return
    old = get()
    if old == 0 or old >= digits:  # 0: no limit
        yield
        return
    sys.set_int_max_str_digits(digits)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


@dataclass(frozen=True)
class Domain:
    lo: Fraction | float
    hi: Fraction | float
    lo_closed: bool
    hi_closed: bool

    def contains(self, x) -> bool:
        above = x >= self.lo if self.lo_closed else x > self.lo
        below = x <= self.hi if self.hi_closed else x < self.hi
        return above and below

    def __str__(self) -> str:
        def fmt(v):
            return "inf" if v == INF else "-inf" if v == -INF else str(v)

        return f"{'[' if self.lo_closed else '('}{fmt(self.lo)}, {fmt(self.hi)}{']' if self.hi_closed else ')'}"


@dataclass(frozen=True)
class Parameter:
    name: str
    symbol: str
    domain: Domain
    typical: tuple
    description: str
    integer: bool = False
    allow_inf: bool = False  # e.g. d = inf for the d → ∞ description
    units: str = "dimensionless"
    finite_max: int | None = None  # the largest finite value accepted (d: work and memory grow with it)

    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a real number"
        extra = " or 'inf'" if self.allow_inf else ""
        return f"{kind} in {self.domain}{extra}"

    def parse(self, value):
        """The exact value (Fraction, int, or INF), or InputError naming this parameter."""
        if value is None:
            raise InputError(self.name, f"is required; allowed: {self.allowed()}")
        x = exact(value, self.name, self.allowed())
        if x is None:
            raise InputError(self.name, f"must be {self.allowed()}; got {_shown(value)}")
        if x == INF or x == -INF:
            if self.allow_inf and x == INF:
                return INF
            raise InputError(self.name, f"must be {self.allowed()}; got {_shown(value)}")
        if self.integer:
            if x.denominator != 1:
                raise InputError(self.name, f"must be {self.allowed()}; got {_shown(value)}")
            x = int(x)
        if not self.domain.contains(x):
            raise InputError(self.name, f"must be {self.allowed()}; got {_shown(value)}")
        if self.finite_max is not None and x != INF and x > self.finite_max:
            raise InputError(self.name, f"must be at most {self.finite_max} (the largest {self.symbol} any computation accepts); "
                                        f"got {value!r}")
        return x


class _TooLarge(Exception):
    """A number beyond MAX_EXPONENT or MAX_DIGITS (raised before the exact rational is built)."""


_DECIMAL = re.compile(r"[+-]?(?:(\d*)\.(\d+)|(\d+)\.?)(?:e([+-]?\d+))?")
_RATIO = re.compile(r"[+-]?(\d+)/(\d+)")
#: 10^-MAX_EXPONENT <= |x| < 10^(MAX_EXPONENT + 1)
_LOWEST, _HIGHEST = Fraction(1, 10**MAX_EXPONENT), Fraction(10 ** (MAX_EXPONENT + 1))


def _bounded(x: Fraction) -> Fraction:
    if x != 0 and not _LOWEST <= abs(x) < _HIGHEST:
        raise _TooLarge
    return x


def _from_text(s: str):
    """A Fraction from a decimal or ratio text, the size checked on the text first; None if not a number."""
    m = _DECIMAL.fullmatch(s)
    if m:
        whole, frac = (m.group(1), m.group(2)) if m.group(2) is not None else (m.group(3), "")
        exp_text = m.group(4) or "0"
        digits = (whole + frac).lstrip("0")
        if not digits:
            return Fraction(0)
        if len(exp_text.lstrip("+-").lstrip("0")) > 9 or len(digits.rstrip("0")) > MAX_DIGITS:
            raise _TooLarge
        # the decimal exponent of the leading significant digit
        if whole.lstrip("0"):
            lead = len(whole.lstrip("0")) - 1
        else:
            lead = -(len(frac) - len(frac.lstrip("0")) + 1)
        if abs(lead + int(exp_text)) > MAX_EXPONENT + 1:
            raise _TooLarge
        with long_integer_strings():
            return _bounded(Fraction(s))
    m = _RATIO.fullmatch(s)
    if m:
        if max(len(m.group(1).lstrip("0")), len(m.group(2).lstrip("0"))) > MAX_DIGITS:
            raise _TooLarge
        try:
            with long_integer_strings():
                return _bounded(Fraction(s))
        except ZeroDivisionError:
            return None
    if len(s) > 64:  # other spellings Fraction reads ("1_000") are short; a long one is not a number we read
        return None
    try:
        return _bounded(Fraction(s))
    except (ValueError, ZeroDivisionError):
        return None


def _exact(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        s = value.strip().lower()
        if s in ("inf", "+inf", "infinity", "+infinity"):
            return INF
        if s in ("-inf", "-infinity"):
            return -INF
        return _from_text(s)
    if isinstance(value, Integral):
        if abs(int(value)).bit_length() > 4 * MAX_EXPONENT:
            raise _TooLarge
        return _bounded(Fraction(int(value)))
    if isinstance(value, Rational):
        if max(abs(int(value.numerator)).bit_length(), int(value.denominator).bit_length()) > 4 * MAX_DIGITS:
            raise _TooLarge
        return _bounded(Fraction(value.numerator, value.denominator))
    if hasattr(value, "_mpf_"):  # an mpmath number: exact binary value
        import mpmath

        if not mpmath.isfinite(value):
            return INF if value > 0 else -INF if value < 0 else None
        sign, man, exp, bc = value._mpf_  # mpmath's man_exp drops the sign
        if man and abs(int(exp) + int(bc)) > 4 * MAX_EXPONENT:
            raise _TooLarge
        return _bounded((-1) ** sign * Fraction(int(man)) * (Fraction(2) ** int(exp)))
    if isinstance(value, Real):
        v = float(value)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return INF if v > 0 else -INF
        return _bounded(Fraction(repr(v)))  # the shortest decimal that reads back as v
    return None


def exact(value, name: str | None = None, allowed: str = "a real number"):
    """An exact Fraction (or ±INF) from a str, int, Fraction, float or mpf; None if not a number.

    A number beyond the declared bounds (decimal exponent outside [-MAX_EXPONENT, MAX_EXPONENT], more than
    MAX_DIGITS significant digits) is refused before its exact value is built: with ``name``, by an InputError
    naming the parameter and the bounds; without, by None (the caller's "not a number we accept").
    """
    try:
        return _exact(value)
    except _TooLarge:
        if name is None:
            return None
        raise InputError(
            name,
            f"must be {allowed} with a decimal exponent in [-{MAX_EXPONENT}, {MAX_EXPONENT}] (|x| in [1e-{MAX_EXPONENT}, "
            f"1e{MAX_EXPONENT + 1}), or 0) and at most {MAX_DIGITS} significant digits; got {_shown(value)}",
        ) from None


def _shown(value) -> str:
    """A short text of a refused number (never a conversion of a huge integer)."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(f"{value[:20]}...{value[-12:]}") + f" ({len(value)} characters)"
    if isinstance(value, Integral) and abs(int(value)).bit_length() > 128:
        return f"an integer of {abs(int(value)).bit_length()} bits"
    if isinstance(value, Rational) and not isinstance(value, Integral):
        return f"a fraction of {abs(int(value.numerator)).bit_length()}/{int(value.denominator).bit_length()} bits"
    return repr(value)


def _open(lo, hi):
    return Domain(Fraction(lo), hi if hi == INF else Fraction(hi), False, False)


def _closed_open(lo, hi):
    return Domain(Fraction(lo), hi if hi == INF else Fraction(hi), True, False)


def _closed(lo, hi):
    return Domain(Fraction(lo), Fraction(hi), True, True)


MIN_DPS = 15
MAX_DPS = 10000

#: the largest finite dimension anything accepts
MAX_D = 2**20
#: the largest d of each computation at finite d, by its cost: the theory in multiprecision is O(d) operations at the working
#: precision per resolvent evaluation (AR(1) Toeplitz: about a minute at d = 2^16, 30 digits); in double precision 1/10 of that;
#: the spectral law at finite d (population types or the resolvent's trace on complex grids) and its dense route (a d x d complex
#: inverse per point); the Monte Carlo holds d x d float64 matrices (8 d^2 bytes each: 8.6 GB at 2^15)
MAX_D_THEORY = 2**16
MAX_D_THEORY_DOUBLE = MAX_D
MAX_D_SPECTRUM = 2**14
MAX_D_DENSE = 2**9
MAX_D_MONTE_CARLO = 2**15
#: the largest sample size n = round(alpha d) of one Monte Carlo sample: Bartlett's factor draws min(n, d) pseudo-rows whose
#: chi-square degrees of freedom n, n - 1, ... must stay distinct in double precision (and fit numpy's int64)
MAX_N_MONTE_CARLO = 2**53


def check_dimension(d, limit: int, what: str):
    """d itself, or InputError naming "d" when a finite d exceeds the largest ``limit`` that ``what`` accepts."""
    if d != INF and d > limit:
        raise InputError("d", f"must be at most {limit} for {what}; got {d}")
    return d


def check_monte_carlo(d: int, n: int) -> None:
    """Refuse a Monte Carlo sample beyond the declared bounds (MAX_D_MONTE_CARLO, MAX_N_MONTE_CARLO)."""
    check_dimension(d, MAX_D_MONTE_CARLO, f"the Monte Carlo (d x d float64 matrices: 8 d^2 bytes each, {8 * d * d / 2**30:.1f} GiB "
                                          f"at this d)")
    if n > MAX_N_MONTE_CARLO:
        raise InputError("alpha", f"alpha * d must be at most {MAX_N_MONTE_CARLO} samples in the Monte Carlo; got n = {n} at d = {d}")

PARAMETERS = {
    p.name: p
    for p in [
        Parameter("alpha", "α", _open(0, INF), (Fraction(1, 10), 10), "sample ratio n/d"),
        Parameter("lam", "λ", _closed_open(0, INF), (Fraction(1, 1000), 10), "ridge penalty (0 = ridgeless limit)",
                  units="variance (units of Σ)"),
        Parameter("rho", "ρ", Domain(Fraction(-1), Fraction(1), False, False), (Fraction(-9, 10), Fraction(9, 10)), "AR(1) correlation"),
        Parameter("theta", "θ", _closed_open(0, INF), (Fraction(1, 10), 20), "spike strength", units="variance (units of Σ)"),
        Parameter("d", "d", Domain(Fraction(2), INF, True, False), (64, 4096), "dimension", integer=True, allow_inf=True,
                  units="coordinates", finite_max=MAX_D),
        Parameter("rank", "r", Domain(Fraction(1), INF, True, False), (1, 4), "number of spikes", integer=True, units="directions"),
        Parameter("dps", "P", _closed(MIN_DPS, MAX_DPS), (15, 1000), "working precision", integer=True, units="decimal digits"),
        Parameter("seeds", "K", Domain(Fraction(2), Fraction(100000), True, True), (4, 64), "Monte Carlo samples per dimension",
                  integer=True, units="samples"),
        Parameter("seed", "s", Domain(Fraction(0), Fraction(2**63), True, False), (0, 2**32),
                  "root seed of numpy.random.SeedSequence", integer=True),
        Parameter("perturb", "ε", Domain(Fraction(-1, 2), Fraction(1, 2), True, True), (Fraction(-1, 10), Fraction(1, 10)),
                  "relative perturbation of the theory (verifier self-test)"),
        Parameter("max_d", "d_max", Domain(Fraction(2), Fraction(2**20), True, True), (1024, 8192),
                  "top of the Monte Carlo ladder (doubling from the claim's own ladder)", integer=True, units="coordinates"),
        Parameter("jobs", "J", Domain(Fraction(1), Fraction(256), True, True), (1, 8), "worker processes", integer=True, units="processes"),
        Parameter("repeats", "R", Domain(Fraction(1), Fraction(1000), True, True), (3, 10), "repetitions per benchmark timing (medians)",
                  integer=True, units="repetitions"),
        Parameter("spike_seed", "s_v", Domain(Fraction(0), Fraction(2**63), True, False), (0, 2**32), "seed of the random spike directions",
                  integer=True),
    ]
}


def parse(name: str, value):
    """Validate one parameter by its declaration."""
    return PARAMETERS[name].parse(value)


def choice(name: str, value, allowed) -> str:
    """Validate a categorical option."""
    if not isinstance(value, str) or value not in allowed:
        raise InputError(name, f"must be one of {', '.join(map(str, allowed))}; got {_shown(value)}")
    return value
