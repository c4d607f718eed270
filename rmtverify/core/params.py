"""Every parameter declared once: its domain, typical range and meaning.

Validation and error messages come from these declarations, for the Python
API and the command line alike (the pattern of scipy.stats' new
distribution infrastructure). Real parameters are parsed *exactly*: a decimal
string such as ``"0.1"`` becomes the rational 1/10, and a Python float is read
through its shortest decimal representation, so no binary rounding enters a
high-precision computation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Rational, Real

from rmtverify.core.exceptions import InputError

INF = math.inf


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

    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a real number"
        extra = " or 'inf'" if self.allow_inf else ""
        return f"{kind} in {self.domain}{extra}"

    def parse(self, value):
        """The exact value (Fraction, int, or INF), or InputError naming this parameter."""
        if value is None:
            raise InputError(self.name, f"is required; allowed: {self.allowed()}")
        x = exact(value)
        if x is None:
            raise InputError(self.name, f"must be {self.allowed()}; got {value!r}")
        if x == INF or x == -INF:
            if self.allow_inf and x == INF:
                return INF
            raise InputError(self.name, f"must be {self.allowed()}; got {value!r}")
        if self.integer:
            if x.denominator != 1:
                raise InputError(self.name, f"must be {self.allowed()}; got {value!r}")
            x = int(x)
        if not self.domain.contains(x):
            raise InputError(self.name, f"must be {self.allowed()}; got {value!r}")
        return x


def exact(value):
    """An exact Fraction (or ±INF) from a str, int, Fraction, float or mpf; None if not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        s = value.strip().lower()
        if s in ("inf", "+inf", "infinity", "+infinity"):
            return INF
        if s in ("-inf", "-infinity"):
            return -INF
        try:
            return Fraction(s)
        except (ValueError, ZeroDivisionError):
            return None
    if isinstance(value, Integral):
        return Fraction(int(value))
    if isinstance(value, Rational):
        return Fraction(value.numerator, value.denominator)
    if hasattr(value, "_mpf_"):  # an mpmath number: exact binary value
        import mpmath

        if not mpmath.isfinite(value):
            return INF if value > 0 else -INF if value < 0 else None
        sign, man, exp, _ = value._mpf_  # mpmath's man_exp drops the sign
        return (-1) ** sign * Fraction(int(man)) * (Fraction(2) ** int(exp))
    if isinstance(value, Real):
        v = float(value)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return INF if v > 0 else -INF
        return Fraction(repr(v))  # the shortest decimal that reads back as v
    return None


def _open(lo, hi):
    return Domain(Fraction(lo), hi if hi == INF else Fraction(hi), False, False)


def _closed_open(lo, hi):
    return Domain(Fraction(lo), hi if hi == INF else Fraction(hi), True, False)


def _closed(lo, hi):
    return Domain(Fraction(lo), Fraction(hi), True, True)


MIN_DPS = 15
MAX_DPS = 10000

PARAMETERS = {
    p.name: p
    for p in [
        Parameter("alpha", "α", _open(0, INF), (Fraction(1, 10), 10), "sample ratio n/d"),
        Parameter("lam", "λ", _closed_open(0, INF), (Fraction(1, 1000), 10), "ridge penalty (0 = ridgeless limit)",
                  units="variance (units of Σ)"),
        Parameter("rho", "ρ", Domain(Fraction(-1), Fraction(1), False, False), (Fraction(-9, 10), Fraction(9, 10)), "AR(1) correlation"),
        Parameter("theta", "θ", _closed_open(0, INF), (Fraction(1, 10), 20), "spike strength", units="variance (units of Σ)"),
        Parameter("d", "d", Domain(Fraction(2), INF, True, False), (64, 4096), "dimension", integer=True, allow_inf=True,
                  units="coordinates"),
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
        raise InputError(name, f"must be one of {', '.join(map(str, allowed))}; got {value!r}")
    return value
